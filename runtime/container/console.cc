// Console (pty) setup; see console.h.
#include "runtime/container/console.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "runtime/container/handshake.h"

namespace berth::runtime::container {

sys::Result<void> setupConsoleInChild(int consoleSocket, const std::optional<config::ConsoleSize>& size,
                                      bool bindDevConsole) {
  sys::UniqueFd master(::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!master) return sys::Error::fromErrno("open /dev/ptmx");
  int unlock = 0;
  if (::ioctl(master.get(), TIOCSPTLCK, &unlock) < 0) return sys::Error::fromErrno("unlock pty");
  // TIOCGPTPEER opens the slave through the master, never through a path a
  // container process could have replaced.
  sys::UniqueFd slave(::ioctl(master.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!slave) return sys::Error::fromErrno("open pty slave");
  if (size && size->height && size->width) {
    struct winsize ws {};
    ws.ws_row = static_cast<unsigned short>(size->height);
    ws.ws_col = static_cast<unsigned short>(size->width);
    ::ioctl(slave.get(), TIOCSWINSZ, &ws);
  }
  if (bindDevConsole) {
    char slavePath[64];
    std::snprintf(slavePath, sizeof(slavePath), "/proc/self/fd/%d", slave.get());
    if (::access("/dev/console", F_OK) == 0 &&
        ::mount(slavePath, "/dev/console", nullptr, MS_BIND, nullptr) < 0) {
      return sys::Error::fromErrno("bind pty over /dev/console");
    }
  }
  BERTH_TRY_CTX(sendFd(consoleSocket, master.get(), "console"), "send pty master to console socket");
  master.reset();
  if (::setsid() < 0) return sys::Error::fromErrno("setsid");
  if (::ioctl(slave.get(), TIOCSCTTY, 0) < 0) return sys::Error::fromErrno("set controlling terminal");
  for (int fd = 0; fd <= 2; ++fd) {
    if (::dup3(slave.get(), fd, 0) < 0) return sys::Error::fromErrno("dup pty slave to stdio");
  }
  return sys::ok();
}

sys::Result<sys::UniqueFd> connectConsoleSocket(const std::string& path) {
  sys::UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!sock) return sys::Error::fromErrno("create console socket");
  struct sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) return sys::Error::invalid("console socket path too long: " + path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  if (::connect(sock.get(), reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)) < 0) {
    return sys::Error::fromErrno("connect to console socket " + path);
  }
  return sock;
}

}  // namespace berth::runtime::container
