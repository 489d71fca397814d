// terminal: true with --console-socket: the runtime creates the pty inside
// the container and hands the master to whoever listens on the socket (as
// containerd's shim does), by SCM_RIGHTS.
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>
#include <future>

#include "runtime/sys/fd.h"
#include "runtime/sys/fs.h"
#include "tests/integration/cli/harness.h"

namespace berth::tests::cli {
namespace {

using sys::UniqueFd;

UniqueFd listenUnix(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  if (!fd || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(fd.get(), 1) != 0) {
    return UniqueFd();
  }
  return fd;
}

// Accepts one connection and receives one fd from it; invalid on timeout.
UniqueFd receiveFd(int listener, std::chrono::milliseconds timeout) {
  pollfd p = {listener, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return UniqueFd();
  UniqueFd conn(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
  if (!conn) return UniqueFd();
  char data[256];
  iovec iov = {data, sizeof data};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  if (::recvmsg(conn.get(), &msg, MSG_CMSG_CLOEXEC) < 0) return UniqueFd();
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  if (c == nullptr || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) return UniqueFd();
  int fd;
  std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return UniqueFd(fd);
}

// Reads the pty master until `want` shows up, EOF/EIO, or the deadline.
std::string readUntil(int fd, const std::string& want, std::chrono::milliseconds timeout) {
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (out.find(want) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    pollfd p = {fd, POLLIN, 0};
    if (::poll(&p, 1, 50) != 1) continue;
    char buf[512];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

class TerminalTest : public RuntimeTest {};

TEST_F(TerminalTest, ConsoleSocketReceivesThePtyMaster) {
  config()["process"]["terminal"] = true;
  // Waits for "go" so its output is read while the pty is still open.
  setShell(
      "tty; [ -t 0 ] && [ -t 1 ] && echo stdio-is-a-tty; echo done; "
      "while [ ! -e /tmp/ctl/go ]; do sleep 0.02; done");
  std::string socketPath = tempDir() + "/console.sock";
  UniqueFd listener = listenUnix(socketPath);
  ASSERT_TRUE(listener) << "listen on " << socketPath << ": " << std::strerror(errno);
  auto master = std::async(std::launch::async, [&] { return receiveFd(listener.get(), 10s); });

  writeConfig();
  auto created = runtime({"create", "--bundle", bundle(), "--console-socket", socketPath, id()});
  ASSERT_EQ(created.exitCode, 0) << created.describe();
  UniqueFd pty = master.get();
  ASSERT_TRUE(pty) << "no pty master arrived on the console socket";

  ASSERT_EQ(runtime({"start", id()}).exitCode, 0);
  std::string out = readUntil(pty.get(), "done", 5s);
  writeFileOrFail(ctlDir() + "/go", "");
  EXPECT_TRUE(out.find("/dev/pts/0") != std::string::npos ||
              out.find("/dev/console") != std::string::npos)
      << out;
  EXPECT_NE(out.find("stdio-is-a-tty"), std::string::npos) << out;
  EXPECT_NE(out.find("\r\n"), std::string::npos)
      << "a pty in cooked mode maps \\n to \\r\\n: " << out;
  EXPECT_TRUE(waitForStatus(id(), "stopped"));
}

TEST_F(TerminalTest, TerminalWithoutConsoleSocketFailsCreate) {
  config()["process"]["terminal"] = true;
  setArgs({"true"});
  writeConfig();
  auto r = runtime({"create", "--bundle", bundle(), id()});
  EXPECT_NE(r.exitCode, 0) << r.describe();
  EXPECT_NE(r.err.find("console"), std::string::npos) << r.describe();
  expectNoTraces(id());
}

}  // namespace
}  // namespace berth::tests::cli
