// A rtnetlink socket bound to one network namespace, and the helpers that
// reach into other namespaces without moving the calling thread.
//
// A socket keeps the network namespace it was created in for its whole life,
// whatever namespace its user runs in later. So a socket for namespace N is
// opened by a short-lived thread that setns()'s into N, creates the socket and
// exits; the daemon thread that asked never changes namespace, and one thread
// can configure the node and any number of containers side by side.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "runtime/sys/fd.h"
#include "runtime/sys/result.h"

struct nl_sock;

namespace berth::net::netlink {

class Socket {
 public:
  // A NETLINK_ROUTE socket in the calling thread's network namespace.
  static sys::Result<Socket> open();
  // A NETLINK_ROUTE socket in the network namespace `netnsFd` refers to.
  static sys::Result<Socket> openInNetns(int netnsFd);

  nl_sock* get() const { return sock_.get(); }

 private:
  struct Free {
    void operator()(nl_sock* sock) const;
  };
  explicit Socket(nl_sock* sock) : sock_(sock) {}
  std::unique_ptr<nl_sock, Free> sock_;
};

// Runs `fn` on a fresh thread that first joins the network namespace
// `netnsFd`; returns what `fn` returned. Sockets `fn` creates stay in that
// namespace after the thread is gone.
sys::Result<void> runInNetns(int netnsFd, const std::function<sys::Result<void>()>& fn);

// Creates a new, empty network namespace (only a down `lo`) and returns an
// fd that keeps it alive: it disappears when the last fd and process leave.
sys::Result<sys::UniqueFd> newNetns();

// A socket (socket(2) arguments) created inside the namespace `netnsFd`.
sys::Result<sys::UniqueFd> socketInNetns(int netnsFd, int domain, int type, int protocol);

// A libnl error code (negative NLE_*) as an Error naming `what`; the errno is
// recovered where libnl's code has one, so callers can test for EEXIST etc.
sys::Error nlError(int nlCode, std::string what);

}  // namespace berth::net::netlink
