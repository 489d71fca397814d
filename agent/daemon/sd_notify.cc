// sd_notify; see sd_notify.h.
#include "agent/daemon/sd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>

#include "runtime/sys/fd.h"

namespace berth::agent::daemon {

sys::Result<void> sdNotify(const std::string& state) {
  const char* target = std::getenv("NOTIFY_SOCKET");
  if (target == nullptr || target[0] == '\0') return {};
  std::string path(target);
  struct sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path || (path[0] != '/' && path[0] != '@')) {
    return sys::Error::invalid("NOTIFY_SOCKET '" + path + "' is not a socket path");
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  if (path[0] == '@') addr.sun_path[0] = '\0';  // abstract namespace
  socklen_t length = static_cast<socklen_t>(offsetof(struct sockaddr_un, sun_path) + path.size());
  sys::UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd) return sys::Error::fromErrno("sd_notify: socket");
  if (::sendto(fd.get(), state.data(), state.size(), MSG_NOSIGNAL,
               reinterpret_cast<struct sockaddr*>(&addr), length) < 0) {
    return sys::Error::fromErrno("sd_notify: send to " + path);
  }
  return {};
}

}  // namespace berth::agent::daemon
