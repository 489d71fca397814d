// Parent/child message protocol; see handshake.h.
#include "runtime/container/handshake.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace berth::runtime::container {
namespace {

sys::Result<size_t> sendWithFd(int sock, const void* data, size_t len, int fd) {
  struct iovec iov {const_cast<void*>(data), len};
  struct msghdr msg {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  if (fd >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
  }
  ssize_t n;
  do {
    n = ::sendmsg(sock, &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return sys::Error::fromErrno("send handshake message");
  return static_cast<size_t>(n);
}

sys::Result<size_t> receiveWithFd(int sock, void* data, size_t len, sys::UniqueFd* fd) {
  struct iovec iov {data, len};
  struct msghdr msg {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t n;
  do {
    n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return sys::Error::fromErrno("receive handshake message");
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      int received;
      std::memcpy(&received, CMSG_DATA(c), sizeof(int));
      if (fd) {
        fd->reset(received);
      } else {
        ::close(received);
      }
    }
  }
  return static_cast<size_t>(n);
}

}  // namespace

sys::Result<std::pair<Channel, Channel>> Channel::pair() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0) {
    return sys::Error::fromErrno("create handshake socketpair");
  }
  return std::pair<Channel, Channel>{Channel(sys::UniqueFd(fds[0])), Channel(sys::UniqueFd(fds[1]))};
}

sys::Result<void> Channel::send(MsgType type, int32_t code, const char* text, int fd) {
  Message m;
  m.type = type;
  m.code = code;
  size_t textLen = 0;
  if (text) {
    textLen = std::min(std::strlen(text), sizeof(m.text) - 1);
    std::memcpy(m.text, text, textLen);
  }
  // Only the used part of the text travels; SEQPACKET keeps the record boundary.
  size_t len = offsetof(Message, text) + textLen + 1;
  BERTH_TRY(sendWithFd(fd_.get(), &m, len, fd));
  return sys::ok();
}

sys::Result<void> Channel::sendError(const sys::Error& error) {
  return send(MsgType::kError, error.code(), error.what().c_str());
}

sys::Result<Message> Channel::receive(sys::UniqueFd* fd) {
  Message m;
  size_t n = BERTH_TRY(receiveWithFd(fd_.get(), &m, sizeof(m), fd));
  if (n == 0) return sys::Error(ECONNRESET, "the other side closed the handshake");
  if (n < offsetof(Message, text)) return sys::Error::invalid("truncated handshake message");
  m.text[sizeof(m.text) - 1] = '\0';
  return m;
}

sys::Result<Message> Channel::expect(MsgType type, sys::UniqueFd* fd) {
  Message m = BERTH_TRY(receive(fd));
  if (m.type == MsgType::kError) return sys::Error(m.code, m.text);
  if (m.type != type) {
    return sys::Error::invalid("handshake: expected message " + std::to_string(static_cast<int>(type)) +
                               ", got " + std::to_string(static_cast<int>(m.type)));
  }
  return m;
}

sys::Result<void> sendFd(int sock, int fd, const char* name) {
  BERTH_TRY(sendWithFd(sock, name, std::strlen(name), fd));
  return sys::ok();
}

sys::Result<sys::UniqueFd> receiveFd(int sock) {
  char buf[256];
  sys::UniqueFd fd;
  BERTH_TRY(receiveWithFd(sock, buf, sizeof(buf), &fd));
  if (!fd) return sys::Error::invalid("no file descriptor received");
  return fd;
}

}  // namespace berth::runtime::container
