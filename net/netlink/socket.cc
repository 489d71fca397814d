// Namespace-bound rtnetlink sockets (see socket.h).
#include "net/netlink/socket.h"

#include <fcntl.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <sched.h>

#include <cerrno>
#include <optional>
#include <thread>

namespace berth::net::netlink {
namespace {

// libnl folds errno values into its own codes; map back the ones callers act
// on or that read better as strerror text. Others keep libnl's message.
int errnoOf(int nlCode) {
  switch (-nlCode) {
    case NLE_EXIST:
      return EEXIST;
    case NLE_OBJ_NOTFOUND:
      return ENOENT;
    case NLE_NODEV:
      return ENODEV;
    case NLE_PERM:
      return EPERM;
    case NLE_NOACCESS:
      return EACCES;
    case NLE_NOMEM:
      return ENOMEM;
    case NLE_INVAL:
      return EINVAL;
    case NLE_BUSY:
      return EBUSY;
    case NLE_RANGE:
      return ERANGE;
    case NLE_AGAIN:
      return EAGAIN;
    case NLE_INTR:
      return EINTR;
    case NLE_NOADDR:
      return EADDRNOTAVAIL;
    case NLE_AF_NOSUPPORT:
      return EAFNOSUPPORT;
    case NLE_OPNOTSUPP:
      return EOPNOTSUPP;
    case NLE_MSGSIZE:
      return EMSGSIZE;
    case NLE_BAD_SOCK:
      return EBADF;
    case NLE_MSG_TOOSHORT:
      return EBADMSG;
    default:
      return 0;
  }
}

}  // namespace

sys::Error nlError(int nlCode, std::string what) {
  int code = errnoOf(nlCode);
  if (code != 0) return sys::Error(code, std::move(what));
  what += ": ";
  what += nl_geterror(nlCode);
  return sys::Error::invalid(std::move(what));
}

void Socket::Free::operator()(nl_sock* sock) const {
  nl_socket_free(sock);
}

sys::Result<Socket> Socket::open() {
  nl_sock* raw = nl_socket_alloc();
  if (raw == nullptr) return sys::Error(ENOMEM, "allocate netlink socket");
  Socket sock(raw);
  int err = nl_connect(raw, NETLINK_ROUTE);
  if (err < 0) return nlError(err, "open rtnetlink socket");
  // Requests carry their own sequence numbers and are answered in order;
  // nothing here subscribes to multicast groups, so the receive buffer only
  // ever holds replies to our own requests.
  return sock;
}

sys::Result<Socket> Socket::openInNetns(int netnsFd) {
  std::optional<Socket> opened;
  BERTH_TRY(runInNetns(netnsFd, [&]() -> sys::Result<void> {
    opened.emplace(BERTH_TRY(open()));
    return sys::ok();
  }));
  return std::move(*opened);
}

sys::Result<void> runInNetns(int netnsFd, const std::function<sys::Result<void>()>& fn) {
  sys::Result<void> result;
  // A plain thread rather than a pool: setns() changes only the calling
  // thread, and a thread that dies takes the foreign namespace with it, so no
  // thread of the daemon is ever left in a container's namespace.
  std::thread worker([&] {
    if (::setns(netnsFd, CLONE_NEWNET) != 0) {
      result = sys::Error::fromErrno("enter network namespace");
      return;
    }
    result = fn();
  });
  worker.join();
  return result;
}

sys::Result<sys::UniqueFd> newNetns() {
  sys::UniqueFd fd;
  sys::Result<void> result;
  std::thread worker([&] {
    // unshare() affects only this thread, which exits right after: the new
    // namespace lives on through the fd opened here.
    if (::unshare(CLONE_NEWNET) != 0) {
      result = sys::Error::fromErrno("create network namespace");
      return;
    }
    fd.reset(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    if (!fd) result = sys::Error::fromErrno("open /proc/thread-self/ns/net");
  });
  worker.join();
  if (!result) return std::move(result).error();
  return fd;
}

sys::Result<sys::UniqueFd> socketInNetns(int netnsFd, int domain, int type, int protocol) {
  sys::UniqueFd fd;
  BERTH_TRY(runInNetns(netnsFd, [&]() -> sys::Result<void> {
    fd.reset(::socket(domain, type | SOCK_CLOEXEC, protocol));
    if (!fd) return sys::Error::fromErrno("create socket in network namespace");
    return sys::ok();
  }));
  return fd;
}

}  // namespace berth::net::netlink
