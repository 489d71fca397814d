// The attach socket; see attach_server.h.
#include "agent/shim/attach_server.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

namespace berth::agent::shim {
namespace {

sys::Result<void> fillAddress(int dirfd, struct sockaddr_un* addr) {
  addr->sun_family = AF_UNIX;
  int n = std::snprintf(addr->sun_path, sizeof(addr->sun_path), "/proc/self/fd/%d/%s", dirfd, kAttachSocketName);
  if (n < 0 || static_cast<size_t>(n) >= sizeof(addr->sun_path)) return sys::Error::invalid("attach socket path");
  return sys::ok();
}

}  // namespace

sys::Result<AttachServer> AttachServer::listen(int dirfd) {
  AttachServer s;
  s.listen_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!s.listen_) return sys::Error::fromErrno("create attach socket");
  struct sockaddr_un addr {};
  BERTH_TRY(fillAddress(dirfd, &addr));
  if (::unlinkat(dirfd, kAttachSocketName, 0) < 0 && errno != ENOENT) {
    return sys::Error::fromErrno("remove stale attach.sock");
  }
  // The umask decides the socket file's mode at bind: no window in which
  // another user could connect before a chmod.
  mode_t old = ::umask(0177);
  int rc = ::bind(s.listen_.get(), reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr));
  int err = errno;
  ::umask(old);
  if (rc < 0) return sys::Error(err, "bind attach.sock");
  if (::listen(s.listen_.get(), 4) < 0) return sys::Error::fromErrno("listen on attach.sock");
  return s;
}

size_t AttachServer::fillPoll(struct pollfd* out, bool acceptInput) {
  size_t n = 0;
  out[n++] = {listen_.get(), POLLIN, 0};
  polledCount_ = 0;
  for (size_t i = 0; i < clients_.size(); ++i) {
    if (!clients_[i].fd) continue;
    // Without input we still watch for the peer hanging up.
    out[n++] = {clients_[i].fd.get(), static_cast<short>(acceptInput ? POLLIN : POLLRDHUP), 0};
    polled_[polledCount_++] = static_cast<int>(i);
  }
  return n;
}

void AttachServer::handlePoll(const struct pollfd* in, FrameDecoder::Handler& input) {
  for (size_t k = 0; k < polledCount_; ++k) {
    const struct pollfd& p = in[1 + k];
    Client& c = clients_[polled_[k]];
    if (!c.fd || p.revents == 0) continue;
    if (p.revents & POLLIN) {
      readClient(c, input);
    } else if (p.revents & (POLLHUP | POLLERR | POLLRDHUP)) {
      c.fd.reset();
    }
  }
  if (in[0].revents & POLLIN) acceptClient();
}

void AttachServer::acceptClient() {
  sys::UniqueFd fd(::accept4(listen_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
  if (!fd) return;
  for (auto& c : clients_) {
    if (!c.fd) {
      c.fd = std::move(fd);
      c.decoder = FrameDecoder();
      return;
    }
  }
  // Full: the connection is closed, the client sees EOF at once.
}

void AttachServer::readClient(Client& c, FrameDecoder::Handler& input) {
  char buf[4096];
  ssize_t n = ::read(c.fd.get(), buf, sizeof(buf));
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0 || !c.decoder.feed(std::string_view(buf, static_cast<size_t>(n)), input)) c.fd.reset();
}

void AttachServer::broadcast(FrameType type, std::string_view payload) {
  unsigned char header[kFrameHeaderSize];
  while (true) {
    std::string_view part = payload.substr(0, kMaxFramePayload);
    encodeFrameHeader(type, static_cast<uint32_t>(part.size()), header);
    struct iovec iov[2] = {{header, sizeof(header)}, {const_cast<char*>(part.data()), part.size()}};
    size_t total = sizeof(header) + part.size();
    for (auto& c : clients_) {
      if (!c.fd) continue;
      struct msghdr msg {};
      msg.msg_iov = iov;
      msg.msg_iovlen = 2;
      ssize_t n = ::sendmsg(c.fd.get(), &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
      // A partial frame cannot be resumed without buffering per client: a
      // client that cannot take a whole frame is too slow and is dropped.
      if (n != static_cast<ssize_t>(total)) c.fd.reset();
    }
    payload.remove_prefix(part.size());
    if (payload.empty()) return;
  }
}

void AttachServer::shutdown(FrameType type, std::string_view payload, int dirfd) {
  broadcast(type, payload);
  for (auto& c : clients_) c.fd.reset();
  listen_.reset();
  ::unlinkat(dirfd, kAttachSocketName, 0);
}

size_t AttachServer::clientCount() const {
  size_t n = 0;
  for (const auto& c : clients_) n += c.fd ? 1 : 0;
  return n;
}

}  // namespace berth::agent::shim
