// Server: berthd's embedded DNS server. One epoll thread serves any number
// of zones, each on its own listening address (a project's gateway, port
// 53), over UDP and TCP (RFC 7766: length-prefixed, several queries per
// connection, idle timeout). Names outside a zone are forwarded to upstream
// resolvers asynchronously: a forwarded query waits in a bounded pending
// table under a fresh random id while local names keep being answered; an
// upstream that does not answer within `upstream_timeout` (or answers
// SERVFAIL/REFUSED) is replaced by the next one, and when all fail the
// client gets SERVFAIL, well before its own timeout (5 s for glibc).
//
// addZone/removeZone/setUpstreams may be called from any thread while the
// server runs; they never touch the sockets of other zones. A Zone's own
// names change through the Zone itself (shared with the caller).
//
// Known limits: forwarding is UDP only (an upstream answer with TC set is
// relayed as is, also to TCP clients); all forwarded queries share one
// source port per address family, so their spoofing resistance is the
// 16-bit random id plus the echoed question.
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include "net/dns/address.h"
#include "net/dns/zone.h"
#include "runtime/sys/result.h"

namespace berth::net::dns {

struct ServerOptions {
  std::vector<SocketAddress> upstreams;  // e.g. parseResolvConf(/etc/resolv.conf)
  std::chrono::milliseconds upstream_timeout{1000};
  size_t max_pending = 1024;  // forwarded queries in flight; more get SERVFAIL
  std::chrono::milliseconds tcp_idle_timeout{10000};
  size_t max_tcp_connections = 256;  // further connections are closed at once
};

class Server {
 public:
  // Creates the upstream sockets and starts the serving thread.
  static sys::Result<std::unique_ptr<Server>> start(ServerOptions options);
  // Stops the thread and closes every socket.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds UDP and TCP on `listen` (IP_FREEBIND: the gateway address may not
  // be up yet) and answers from `zone` there. Port 0 picks a free port (the
  // same for UDP and TCP); the bound address is returned.
  sys::Result<SocketAddress> addZone(std::shared_ptr<const Zone> zone, const SocketAddress& listen);
  // Closes that zone's listening sockets; false when none listens there.
  // TCP connections already accepted there finish (or idle out) as usual.
  bool removeZone(const SocketAddress& listen);
  void setUpstreams(std::vector<SocketAddress> upstreams);

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace berth::net::dns
