// SCMP_ACT_NOTIFY end to end: a child loads a notify filter, hands the
// listener fd to a seccomp agent (this test) over the runtime-spec protocol,
// and the agent answers the child's notified syscall.
#include <gtest/gtest.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "runtime/security/seccomp.h"
#include "tests/unit/security/forked_child.h"

namespace berth::runtime::security {
namespace {

// A listening unix socket at a unique path, removed on scope exit.
class AgentSocket {
 public:
  AgentSocket() : path_("/tmp/berth-seccomp-agent-" + std::to_string(::getpid()) + ".sock") {
    ::unlink(path_.c_str());
    fd_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    path_.copy(addr.sun_path, sizeof addr.sun_path - 1);
    if (::bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd_.get(), 1) != 0) {
      fd_.reset();
    }
  }
  ~AgentSocket() { ::unlink(path_.c_str()); }
  const std::string& path() const { return path_; }
  bool ok() const { return fd_.valid(); }

  // Accepts one connection and receives the message and its one fd.
  bool receive(std::string& message, sys::UniqueFd& fd) {
    pollfd pfd{fd_.get(), POLLIN, 0};
    if (::poll(&pfd, 1, 10'000) != 1) return false;
    sys::UniqueFd conn(::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    char buf[4096];
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
    iovec iov{buf, sizeof buf};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    const ssize_t n = ::recvmsg(conn.get(), &msg, MSG_CMSG_CLOEXEC);
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    if (n <= 0 || cmsg == nullptr || cmsg->cmsg_type != SCM_RIGHTS) return false;
    int received = -1;
    std::memcpy(&received, CMSG_DATA(cmsg), sizeof received);
    fd.reset(received);
    message.assign(buf, static_cast<size_t>(n));
    return true;
  }

 private:
  std::string path_;
  sys::UniqueFd fd_;
};

TEST(SeccompNotify, ListenerMessageFollowsTheRuntimeSpec) {
  SeccompListenerMessage message{"1.0.2", 4422, "MKNOD=/dev/null;\"quoted\"\n",
                                 R"({"id":"c1","status":"creating"})"};
  auto json = nlohmann::json::parse(encodeSeccompListenerMessage(message));
  EXPECT_EQ(json["ociVersion"], "1.0.2");
  EXPECT_EQ(json["fds"], nlohmann::json::array({"seccompFd"}));
  EXPECT_EQ(json["pid"], 4422);
  EXPECT_EQ(json["metadata"], "MKNOD=/dev/null;\"quoted\"\n");
  EXPECT_EQ(json["state"]["id"], "c1");
}

TEST(SeccompNotify, SendFailsClearlyWithoutAnAgent) {
  auto sent =
      sendSeccompListenerFromParent("/tmp/berth-no-agent-" + std::to_string(::getpid()), 0, {});
  ASSERT_FALSE(sent.ok());
  EXPECT_EQ(sent.error().code(), ENOENT);
  EXPECT_NE(sent.error().str().find("connect"), std::string::npos);
}

TEST(SeccompNotify, AgentAnswersTheNotifiedSyscall) {
  AgentSocket agent;
  ASSERT_TRUE(agent.ok());
  config::Seccomp profile;
  profile.defaultAction = "SCMP_ACT_ALLOW";
  profile.listenerPath = agent.path();
  profile.listenerMetadata = "berth-test";
  profile.syscalls.push_back({{"getppid"}, "SCMP_ACT_NOTIFY", {}, {}});
  auto program = compileSeccomp(profile);
  ASSERT_TRUE(program.ok()) << program.error().str();
  ASSERT_TRUE(program->usesNotify);

  auto child = testing::ForkedChild::run([&] {
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return 100;
    auto listener = loadSeccompInChild(*program);
    if (!listener || !listener->valid()) return 101;
    // In the runtime the parent sends it; the protocol is the same.
    SeccompListenerMessage message{"1.0.2", ::getpid(), program->listenerMetadata,
                                   R"({"id":"notify"})"};
    if (!sendSeccompListenerFromParent(program->listenerPath, listener->get(), message)) return 102;
    listener->reset();
    return ::syscall(SYS_getppid) == 4242 ? 0 : 1;  // the agent's answer, not the kernel's
  });

  std::string message;
  sys::UniqueFd notifyFd;
  ASSERT_TRUE(agent.receive(message, notifyFd));
  auto json = nlohmann::json::parse(message);
  EXPECT_EQ(json["fds"], nlohmann::json::array({"seccompFd"}));
  EXPECT_EQ(json["pid"], child.pid());
  EXPECT_EQ(json["metadata"], "berth-test");

  pollfd pfd{notifyFd.get(), POLLIN, 0};
  ASSERT_EQ(::poll(&pfd, 1, 10'000), 1);
  seccomp_notif request{};
  ASSERT_EQ(::ioctl(notifyFd.get(), SECCOMP_IOCTL_NOTIF_RECV, &request), 0) << std::strerror(errno);
  EXPECT_EQ(request.data.nr, SYS_getppid);
  EXPECT_EQ(static_cast<pid_t>(request.pid), child.pid());
  seccomp_notif_resp response{};
  response.id = request.id;
  response.val = 4242;
  ASSERT_EQ(::ioctl(notifyFd.get(), SECCOMP_IOCTL_NOTIF_SEND, &response), 0)
      << std::strerror(errno);

  auto status = child.wait();
  EXPECT_TRUE(status.exited && status.code == 0) << testing::describe(status);
}

TEST(SeccompNotify, TsyncWithNotifyLoads) {
  config::Seccomp profile;
  profile.defaultAction = "SCMP_ACT_ALLOW";
  profile.listenerPath = "/run/unused.sock";
  profile.flags = {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"};
  profile.syscalls.push_back({{"mkdir"}, "SCMP_ACT_NOTIFY", {}, {}});
  auto program = compileSeccomp(profile);
  ASSERT_TRUE(program.ok()) << program.error().str();
  // The kernel refuses TSYNC with NEW_LISTENER unless TSYNC_ESRCH is added.
  EXPECT_TRUE(program->flags & SECCOMP_FILTER_FLAG_TSYNC_ESRCH);
  auto child = testing::ForkedChild::run([&] {
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return 100;
    auto listener = loadSeccompInChild(*program);
    // WAIT_KILLABLE_RECV needs Linux 6.0: EINVAL on older kernels.
    if (!listener) return listener.error().code() == EINVAL ? 0 : 1;
    return listener->valid() ? 0 : 2;
  });
  auto status = child.wait();
  EXPECT_TRUE(status.exited && status.code == 0) << testing::describe(status);
}

}  // namespace
}  // namespace berth::runtime::security
