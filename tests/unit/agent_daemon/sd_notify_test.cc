// sd_notify: the datagram systemd (or a test harness) receives.
#include "agent/daemon/sd_notify.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>

#include "runtime/sys/fd.h"

namespace berth::agent::daemon {
namespace {

class NotifySocket {
 public:
  explicit NotifySocket(const std::string& name) : fd_(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
    struct sockaddr_un addr {};
    addr.sun_family = AF_UNIX;
    // Abstract: nothing to clean up on disk.
    std::memcpy(addr.sun_path + 1, name.data(), name.size());
    socklen_t len = static_cast<socklen_t>(offsetof(struct sockaddr_un, sun_path) + 1 + name.size());
    bound_ = ::bind(fd_.get(), reinterpret_cast<struct sockaddr*>(&addr), len) == 0;
  }
  bool bound() const { return bound_; }
  std::string receive() {
    char buf[256];
    ssize_t n = ::recv(fd_.get(), buf, sizeof buf, MSG_DONTWAIT);
    return n < 0 ? std::string("<nothing>") : std::string(buf, static_cast<size_t>(n));
  }

 private:
  sys::UniqueFd fd_;
  bool bound_ = false;
};

TEST(SdNotify, SendsReadyToTheAbstractSocket) {
  std::string name = "berth-notify-test-" + std::to_string(::getpid());
  NotifySocket socket(name);
  ASSERT_TRUE(socket.bound());
  ::setenv("NOTIFY_SOCKET", ("@" + name).c_str(), 1);
  auto sent = sdNotify("READY=1");
  ::unsetenv("NOTIFY_SOCKET");
  ASSERT_TRUE(sent) << sent.error().what();
  EXPECT_EQ(socket.receive(), "READY=1");
}

TEST(SdNotify, NoSocketNoOp) {
  ::unsetenv("NOTIFY_SOCKET");
  EXPECT_TRUE(sdNotify("READY=1"));
}

TEST(SdNotify, BadSocketIsAnError) {
  ::setenv("NOTIFY_SOCKET", "relative/path", 1);
  auto sent = sdNotify("READY=1");
  ::unsetenv("NOTIFY_SOCKET");
  ASSERT_FALSE(sent);
  EXPECT_NE(sent.error().what().find("relative/path"), std::string::npos);
  ::setenv("NOTIFY_SOCKET", "@berth-nobody-listens-here", 1);
  EXPECT_FALSE(sdNotify("READY=1"));
  ::unsetenv("NOTIFY_SOCKET");
}

}  // namespace
}  // namespace berth::agent::daemon
