// Attach client; see attach_client.h.
#include "agent/shim/attach_client.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>

namespace berth::agent::shim {
namespace {

sys::Result<void> readExactly(int fd, char* out, size_t len) {
  while (len > 0) {
    ssize_t n = ::read(fd, out, len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys::Error::fromErrno("read from attach socket");
    if (n == 0) return sys::Error(ECONNRESET, "attach socket closed");
    out += n, len -= static_cast<size_t>(n);
  }
  return sys::ok();
}

sys::Result<void> writeAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys::Error::fromErrno("write to attach socket");
    data.remove_prefix(static_cast<size_t>(n));
  }
  return sys::ok();
}

}  // namespace

sys::Result<sys::UniqueFd> connectAttach(const std::string& dir) {
  sys::UniqueFd dirfd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dirfd) return sys::Error::fromErrno("open " + dir);
  sys::UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!sock) return sys::Error::fromErrno("create attach client socket");
  struct sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof(addr.sun_path), "/proc/self/fd/%d/%s", dirfd.get(), kAttachSocketName);
  if (::connect(sock.get(), reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)) < 0) {
    return sys::Error::fromErrno("connect to " + dir + "/" + kAttachSocketName);
  }
  return sock;
}

sys::Result<void> sendFrame(int fd, FrameType type, std::string_view payload) {
  if (payload.size() > kMaxFramePayload) return sys::Error::invalid("attach frame payload too large");
  unsigned char h[kFrameHeaderSize];
  encodeFrameHeader(type, static_cast<uint32_t>(payload.size()), h);
  std::string frame(reinterpret_cast<char*>(h), sizeof(h));
  frame.append(payload);
  return writeAll(fd, frame);
}

sys::Result<void> sendResize(int fd, WindowSize size) {
  unsigned char p[4];
  encodeResize(size, p);
  return sendFrame(fd, FrameType::kResize, std::string_view(reinterpret_cast<char*>(p), sizeof(p)));
}

sys::Result<Frame> readFrame(int fd) {
  unsigned char h[kFrameHeaderSize];
  BERTH_TRY(readExactly(fd, reinterpret_cast<char*>(h), sizeof(h)));
  uint32_t len = static_cast<uint32_t>(h[1]) | static_cast<uint32_t>(h[2]) << 8 | static_cast<uint32_t>(h[3]) << 16 |
                 static_cast<uint32_t>(h[4]) << 24;
  if (!knownFrameType(h[0]) || len > kMaxFramePayload) return sys::Error::invalid("attach: malformed frame");
  Frame f;
  f.type = static_cast<FrameType>(h[0]);
  f.payload.resize(len);
  BERTH_TRY(readExactly(fd, f.payload.data(), len));
  return f;
}

}  // namespace berth::agent::shim
