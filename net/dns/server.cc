// The epoll loop of the DNS server; see server.h.
//
// Every fd is registered with a token (kind << 56 | id) rather than a
// pointer, so an event for an object closed earlier in the same batch finds
// nothing instead of freed memory. The loop holds `mutex` while it handles
// a batch (never while it waits), which is what makes addZone/removeZone
// safe from other threads.
#include "net/dns/server.h"

#include <netinet/udp.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include <array>
#include <atomic>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "net/dns/resolver.h"
#include "runtime/sys/fd.h"

namespace berth::net::dns {

namespace {

using Clock = std::chrono::steady_clock;

enum class Kind : uint64_t { kWake = 1, kUdpListener, kTcpListener, kTcpConn, kUpstream };
constexpr int kKindShift = 56;
constexpr int kBatchPerEvent = 128;  // datagrams read per readiness event: fairness between zones
constexpr int kUdpBatch = 64;
// UDP GSO limits (UDP_MAX_SEGMENTS is 64 before Linux 5.5, 128 after); the
// byte cap keeps a group under the 64 KiB an IP packet may carry.
constexpr int kMaxGsoSegments = 64;
constexpr size_t kMaxGsoBytes = 60000;
// Room for bursts while the loop shares the CPU with its clients; the
// kernel caps it at net.core.rmem_max (no SO_RCVBUFFORCE: no privilege games).
constexpr int kUdpReceiveBuffer = 1 << 20;
// Queries are small (one question, an OPT record); a datagram longer than
// this is dropped rather than parsed.
constexpr size_t kMaxUdpQuery = 4096;
constexpr size_t kMaxTcpOutput = 256 * 1024;  // a client that stops reading is dropped

uint64_t token(Kind kind, uint64_t id) {
  return static_cast<uint64_t>(kind) << kKindShift | id;
}

sys::Result<sys::UniqueFd> openSocket(const SocketAddress& address, int type) {
  int family = address.ip.family;
  sys::UniqueFd fd(::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return sys::Error::fromErrno("socket for " + address.str());
  int one = 1;
  if (type == SOCK_STREAM) ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (type == SOCK_DGRAM) {
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &kUdpReceiveBuffer, sizeof kUdpReceiveBuffer);
  }
  if (family == AF_INET6) ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  // The server may start before the bridge holds the gateway address.
  if (family == AF_INET) {
    ::setsockopt(fd.get(), IPPROTO_IP, IP_FREEBIND, &one, sizeof one);
  } else {
    ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_FREEBIND, &one, sizeof one);
  }
  sockaddr_storage ss;
  socklen_t len = address.toSockaddr(ss);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    return sys::Error::fromErrno(std::string("bind ") + (type == SOCK_STREAM ? "tcp " : "udp ") +
                                 address.str());
  }
  if (type == SOCK_STREAM && ::listen(fd.get(), 128) != 0) {
    return sys::Error::fromErrno("listen tcp " + address.str());
  }
  return fd;
}

uint16_t boundPort(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  auto address = SocketAddress::fromSockaddr(ss);
  return address ? address->port : 0;
}

}  // namespace

struct Server::Impl {
  struct Listener {
    SocketAddress address;
    std::shared_ptr<const Zone> zone;
    sys::UniqueFd udp;
    sys::UniqueFd tcp;
    bool gso = true;  // cleared when the kernel or the route refuses UDP_SEGMENT
  };
  struct Conn {
    sys::UniqueFd fd;
    std::shared_ptr<const Zone> zone;
    std::vector<uint8_t> in;
    std::vector<uint8_t> out;
    size_t out_pos = 0;
    bool writing = false;  // EPOLLOUT registered
    bool dead = false;
    Clock::time_point last_active;
  };
  // Where an answer goes: a UDP client of a listener, or a TCP connection.
  struct Client {
    bool tcp = false;
    uint64_t id = 0;  // listener id (UDP) or connection id (TCP)
    sockaddr_storage from{};
    socklen_t from_len = 0;
  };
  struct Pending {
    Client client;
    Query query;                  // for the SERVFAIL answer
    std::vector<uint8_t> packet;  // the client's query under our id
    size_t upstream = 0;          // index into upstreams being asked
    uint32_t attempt = 0;
  };
  struct Deadline {
    Clock::time_point when;
    uint16_t id;
    uint32_t attempt;
  };

  ServerOptions options;
  sys::UniqueFd epoll;
  sys::UniqueFd wake;
  sys::UniqueFd upstream4;
  sys::UniqueFd upstream6;
  std::thread thread;
  std::atomic<bool> stopping{false};

  std::mutex mutex;  // everything below; held by the loop while it handles a batch
  uint64_t next_id = 1;
  std::unordered_map<uint64_t, Listener> listeners;
  std::unordered_map<uint64_t, Conn> conns;
  std::unordered_map<uint16_t, Pending> pending;
  // Deadlines in send order; the timeout is fixed, so they are also in time
  // order. Entries of answered or retried queries are skipped when popped.
  std::deque<Deadline> deadlines;
  std::vector<Record> records;    // reused by every answer
  std::vector<uint8_t> response;  // reused by every answer
  std::vector<uint64_t> dead_conns;
  struct UdpBatch {
    mmsghdr in_msgs[kUdpBatch];
    iovec in_iov[kUdpBatch];
    sockaddr_storage from[kUdpBatch];
    std::array<uint8_t, kMaxUdpQuery> in[kUdpBatch];
    mmsghdr out_msgs[kUdpBatch];
    iovec out_iov[kUdpBatch];
    std::vector<uint8_t> out[kUdpBatch];
    // What sendmmsg sends: one message per run of replies packed by packReplies.
    mmsghdr send_msgs[kUdpBatch];
    int group_first[kUdpBatch];
    int group_count[kUdpBatch];
    alignas(cmsghdr) uint8_t control[kUdpBatch][CMSG_SPACE(sizeof(uint16_t))];
  };
  std::unique_ptr<UdpBatch> udp = std::make_unique<UdpBatch>();
  Clock::time_point next_idle_check;

  sys::Result<void> init();
  void run();
  void handleBatch(const epoll_event* events, int count);
  void readUdp(uint64_t id);
  int packReplies(int replies, bool gso);
  void sendReplies(Listener& listener, int replies);
  void acceptTcp(uint64_t id);
  void readTcp(uint64_t id);
  void flushTcp(uint64_t id, Conn& conn);
  void closeConn(uint64_t id);
  bool handleQuery(const Zone& zone, std::span<const uint8_t> packet, const Client& client,
                   std::vector<uint8_t>& out);
  void reply(const Client& client, std::span<const uint8_t> message);
  void forward(const Query& query, std::span<const uint8_t> packet, const Client& client);
  bool sendUpstream(uint16_t id, Pending& p);
  void failOver(uint16_t id, Pending& p);
  void answerServFail(const Pending& p);
  void readUpstream(int fd);
  void expire(Clock::time_point now);
  int waitMillis(Clock::time_point now) const;
};

sys::Result<void> Server::Impl::init() {
  epoll = sys::UniqueFd(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll) return sys::Error::fromErrno("epoll_create1");
  wake = sys::UniqueFd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!wake) return sys::Error::fromErrno("eventfd");
  epoll_event ev{EPOLLIN, {.u64 = token(Kind::kWake, 0)}};
  if (::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, wake.get(), &ev) != 0)
    return sys::Error::fromErrno("epoll_ctl eventfd");
  // Upstream sockets: unbound (the kernel picks a random source port at the
  // first sendto); one per family.
  for (int family : {AF_INET, AF_INET6}) {
    sys::UniqueFd fd(::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) continue;  // no IPv6 in this namespace: IPv6 upstreams fail over
    epoll_event uev{EPOLLIN, {.u64 = token(Kind::kUpstream, static_cast<uint64_t>(family))}};
    if (::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, fd.get(), &uev) != 0) {
      return sys::Error::fromErrno("epoll_ctl upstream socket");
    }
    (family == AF_INET ? upstream4 : upstream6) = std::move(fd);
  }
  return sys::ok();
}

sys::Result<std::unique_ptr<Server>> Server::start(ServerOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  BERTH_TRY_CTX(impl->init(), "start DNS server");
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] { raw->run(); });
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
  impl_->stopping = true;
  uint64_t one = 1;
  if (::write(impl_->wake.get(), &one, sizeof one) < 0) {
    // The counter cannot overflow from one write; the loop also polls `stopping`.
  }
  impl_->thread.join();
}

sys::Result<SocketAddress> Server::addZone(std::shared_ptr<const Zone> zone,
                                           const SocketAddress& listen) {
  std::string what = "serve DNS zone " + zone->project() + " on " + listen.str();
  Impl::Listener l{listen, std::move(zone), {}, {}};
  l.udp = BERTH_TRY_CTX(openSocket(listen, SOCK_DGRAM), what);
  l.address.port = boundPort(l.udp.get());
  l.tcp = BERTH_TRY_CTX(openSocket(l.address, SOCK_STREAM), what);
  std::lock_guard lock(impl_->mutex);
  for (const auto& [id, other] : impl_->listeners) {
    if (other.address == l.address)
      return sys::Error(EEXIST, what + ": a zone is already served there");
  }
  uint64_t id = impl_->next_id++;
  epoll_event udp_ev{EPOLLIN, {.u64 = token(Kind::kUdpListener, id)}};
  epoll_event tcp_ev{EPOLLIN, {.u64 = token(Kind::kTcpListener, id)}};
  if (::epoll_ctl(impl_->epoll.get(), EPOLL_CTL_ADD, l.udp.get(), &udp_ev) != 0 ||
      ::epoll_ctl(impl_->epoll.get(), EPOLL_CTL_ADD, l.tcp.get(), &tcp_ev) != 0) {
    return sys::Error::fromErrno(what + ": epoll_ctl");  // closing the fds removes them from epoll
  }
  SocketAddress bound = l.address;
  impl_->listeners.emplace(id, std::move(l));
  return bound;
}

bool Server::removeZone(const SocketAddress& listen) {
  std::lock_guard lock(impl_->mutex);
  for (auto it = impl_->listeners.begin(); it != impl_->listeners.end(); ++it) {
    if (it->second.address == listen) {
      impl_->listeners.erase(it);  // closing removes the fds from the epoll set
      return true;
    }
  }
  return false;
}

void Server::setUpstreams(std::vector<SocketAddress> upstreams) {
  std::lock_guard lock(impl_->mutex);
  impl_->options.upstreams = std::move(upstreams);
}

void Server::Impl::run() {
  epoll_event events[64];
  while (!stopping) {
    int timeout;
    {
      std::lock_guard lock(mutex);
      timeout = waitMillis(Clock::now());
    }
    int n = ::epoll_wait(epoll.get(), events, 64, timeout);
    if (n < 0 && errno != EINTR) break;
    std::lock_guard lock(mutex);
    if (n > 0) handleBatch(events, n);
    expire(Clock::now());
    for (uint64_t id : dead_conns) conns.erase(id);
    dead_conns.clear();
  }
}

int Server::Impl::waitMillis(Clock::time_point now) const {
  Clock::time_point next = now + std::chrono::seconds(60);
  if (!deadlines.empty()) next = std::min(next, deadlines.front().when);
  if (!conns.empty()) next = std::min(next, next_idle_check);
  if (next <= now) return 0;
  return static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(next - now).count());
}

void Server::Impl::handleBatch(const epoll_event* events, int count) {
  for (int i = 0; i < count; ++i) {
    auto kind = static_cast<Kind>(events[i].data.u64 >> kKindShift);
    uint64_t id = events[i].data.u64 & ((uint64_t{1} << kKindShift) - 1);
    switch (kind) {
      case Kind::kWake: {
        uint64_t value;
        if (::read(wake.get(), &value, sizeof value) < 0) {
          // Already drained; `stopping` is what matters.
        }
        break;
      }
      case Kind::kUdpListener:
        readUdp(id);
        break;
      case Kind::kTcpListener:
        acceptTcp(id);
        break;
      case Kind::kTcpConn: {
        auto it = conns.find(id);
        if (it == conns.end() || it->second.dead) break;
        if (events[i].events & (EPOLLERR | EPOLLHUP)) {
          closeConn(id);
        } else {
          if (events[i].events & EPOLLOUT) flushTcp(id, it->second);
          if (events[i].events & EPOLLIN) readTcp(id);
        }
        break;
      }
      case Kind::kUpstream:
        readUpstream(static_cast<int>(id) == AF_INET ? upstream4.get() : upstream6.get());
        break;
    }
  }
}

// Datagrams are read and answered kUdpBatch at a time (recvmmsg/sendmmsg):
// at high query rates the system calls, not the lookups, are the cost.
void Server::Impl::readUdp(uint64_t id) {
  for (int round = 0; round < kBatchPerEvent / kUdpBatch; ++round) {
    auto it = listeners.find(id);
    if (it == listeners.end()) return;
    int fd = it->second.udp.get();
    UdpBatch& b = *udp;
    for (int i = 0; i < kUdpBatch; ++i) {
      b.in_iov[i] = {b.in[i].data(), b.in[i].size()};
      b.in_msgs[i].msg_hdr = {&b.from[i], sizeof b.from[i], &b.in_iov[i], 1, nullptr, 0, 0};
    }
    int n = ::recvmmsg(fd, b.in_msgs, kUdpBatch, MSG_DONTWAIT, nullptr);
    if (n <= 0) return;  // EAGAIN, or an ICMP error queued on the socket
    std::shared_ptr<const Zone> zone = it->second.zone;
    int replies = 0;
    for (int i = 0; i < n; ++i) {
      if (b.in_msgs[i].msg_hdr.msg_flags & MSG_TRUNC) continue;  // no query is that long
      Client client{false, id, {}, b.in_msgs[i].msg_hdr.msg_namelen};
      std::memcpy(&client.from, &b.from[i], sizeof client.from);
      std::span<const uint8_t> packet(b.in[i].data(), b.in_msgs[i].msg_len);
      if (!handleQuery(*zone, packet, client, b.out[replies])) continue;
      b.out_iov[replies] = {b.out[replies].data(), b.out[replies].size()};
      b.out_msgs[replies].msg_hdr = {
          &b.from[i], client.from_len, &b.out_iov[replies], 1, nullptr, 0, 0};
      ++replies;
    }
    sendReplies(it->second, replies);
    if (n < kUdpBatch) return;
  }
}

// Packs the replies of the batch into send_msgs; returns how many. With
// `gso`, consecutive replies to the same client with the same length (the
// last may be shorter) become one UDP GSO message (UDP_SEGMENT, Linux 4.18):
// route lookup, IP output and the device are walked once per run instead of
// once per datagram, and the client still receives separate datagrams. On
// loopback that is most of the server's kernel time under load.
int Server::Impl::packReplies(int replies, bool gso) {
  UdpBatch& b = *udp;
  int groups = 0;
  for (int r = 0; r < replies; ++groups) {
    const msghdr& head = b.out_msgs[r].msg_hdr;
    size_t segment = b.out_iov[r].iov_len;
    size_t total = segment;
    int count = 1;
    while (gso && r + count < replies && count < kMaxGsoSegments) {
      const msghdr& next = b.out_msgs[r + count].msg_hdr;
      size_t len = b.out_iov[r + count].iov_len;
      if (len > segment || total + len > kMaxGsoBytes || next.msg_namelen != head.msg_namelen ||
          std::memcmp(next.msg_name, head.msg_name, head.msg_namelen) != 0) {
        break;
      }
      total += len;
      ++count;
      if (len < segment) break;  // only the last segment may be shorter
    }
    msghdr& m = b.send_msgs[groups].msg_hdr;
    m = {head.msg_name, head.msg_namelen, &b.out_iov[r], static_cast<size_t>(count),
         nullptr, 0, 0};
    if (count > 1) {
      m.msg_control = b.control[groups];
      m.msg_controllen = sizeof b.control[groups];
      cmsghdr* c = CMSG_FIRSTHDR(&m);
      c->cmsg_level = SOL_UDP;
      c->cmsg_type = UDP_SEGMENT;
      c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
      auto size = static_cast<uint16_t>(segment);
      std::memcpy(CMSG_DATA(c), &size, sizeof size);
    }
    b.group_first[groups] = r;
    b.group_count[groups] = count;
    r += count;
  }
  return groups;
}

// A full socket buffer drops answers like lost datagrams; clients retry. A
// GSO message the kernel refuses otherwise (EIO: a route through xfrm or a
// device without checksum offload; EINVAL: a small MTU) is sent again
// datagram by datagram, and the listener stops using GSO.
void Server::Impl::sendReplies(Listener& listener, int replies) {
  UdpBatch& b = *udp;
  int groups = packReplies(replies, listener.gso);
  int fd = listener.udp.get();
  for (int sent = 0; sent < groups;) {
    int m = ::sendmmsg(fd, b.send_msgs + sent, static_cast<unsigned>(groups - sent), MSG_DONTWAIT);
    if (m > 0) {
      sent += m;
      continue;
    }
    if (m == 0 || errno == EAGAIN || errno == ENOBUFS || b.group_count[sent] == 1) break;
    listener.gso = false;
    const msghdr& failed = b.send_msgs[sent].msg_hdr;
    for (int r = b.group_first[sent]; r < b.group_first[sent] + b.group_count[sent]; ++r) {
      ::sendto(fd, b.out_iov[r].iov_base, b.out_iov[r].iov_len, MSG_DONTWAIT,
               static_cast<const sockaddr*>(failed.msg_name), failed.msg_namelen);
    }
    ++sent;
  }
}

// Answers from the zone into `out` (true), or forwards (false: the answer
// comes later, through reply()).
bool Server::Impl::handleQuery(const Zone& zone, std::span<const uint8_t> packet,
                               const Client& client, std::vector<uint8_t>& out) {
  std::optional<Query> query = parseQuery(packet);
  if (!query) return false;
  records.clear();
  LocalDecision decision = decideLocally(zone, *query, !options.upstreams.empty(), records);
  if (decision.forward) {
    forward(*query, packet, client);
    return false;
  }
  ResponseOptions ro{decision.rcode, decision.authoritative,
                     client.tcp ? kMaxTcpMessage : query->maxUdpResponse()};
  buildResponse(*query, records, ro, out);
  return true;
}

void Server::Impl::reply(const Client& client, std::span<const uint8_t> message) {
  if (!client.tcp) {
    auto it = listeners.find(client.id);
    if (it == listeners.end()) return;  // the zone was removed meanwhile
    // A full socket buffer drops the answer like a lost datagram; the client retries.
    ::sendto(it->second.udp.get(), message.data(), message.size(), MSG_DONTWAIT,
             reinterpret_cast<const sockaddr*>(&client.from), client.from_len);
    return;
  }
  auto it = conns.find(client.id);
  if (it == conns.end() || it->second.dead || message.size() > kMaxTcpMessage) return;
  Conn& conn = it->second;
  conn.out.push_back(static_cast<uint8_t>(message.size() >> 8));
  conn.out.push_back(static_cast<uint8_t>(message.size()));
  conn.out.insert(conn.out.end(), message.begin(), message.end());
  flushTcp(client.id, conn);
}

}  // namespace berth::net::dns

namespace berth::net::dns {

// --- TCP (RFC 7766) ---

void Server::Impl::acceptTcp(uint64_t id) {
  for (int i = 0; i < kBatchPerEvent; ++i) {
    auto it = listeners.find(id);
    if (it == listeners.end()) return;
    sys::UniqueFd fd(
        ::accept4(it->second.tcp.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!fd) return;
    if (conns.size() >= options.max_tcp_connections)
      continue;  // closed: the client falls back or retries
    uint64_t conn_id = next_id++;
    epoll_event ev{EPOLLIN, {.u64 = token(Kind::kTcpConn, conn_id)}};
    if (::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, fd.get(), &ev) != 0) continue;
    Conn conn;
    conn.fd = std::move(fd);
    conn.zone = it->second.zone;
    conn.last_active = Clock::now();
    if (conns.empty()) next_idle_check = conn.last_active + options.tcp_idle_timeout;
    conns.emplace(conn_id, std::move(conn));
  }
}

void Server::Impl::readTcp(uint64_t id) {
  uint8_t buf[16384];
  for (int i = 0; i < kBatchPerEvent; ++i) {
    auto it = conns.find(id);
    if (it == conns.end() || it->second.dead) return;
    Conn& conn = it->second;
    ssize_t n = ::read(conn.fd.get(), buf, sizeof buf);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
      closeConn(id);
      return;
    }
    if (n < 0) return;
    conn.last_active = Clock::now();
    conn.in.insert(conn.in.end(), buf, buf + n);
    size_t pos = 0;
    std::shared_ptr<const Zone> zone = conn.zone;
    while (conn.in.size() - pos >= 2) {
      size_t len = static_cast<size_t>(conn.in[pos]) << 8 | conn.in[pos + 1];
      if (conn.in.size() - pos - 2 < len) break;
      // handleQuery may append to conn.out but never touches conn.in.
      Client client{true, id, {}, 0};
      if (handleQuery(*zone, std::span(conn.in.data() + pos + 2, len), client, response))
        reply(client, response);
      pos += 2 + len;
      if (conn.dead) return;
    }
    conn.in.erase(conn.in.begin(), conn.in.begin() + static_cast<ptrdiff_t>(pos));
  }
}

void Server::Impl::flushTcp(uint64_t id, Conn& conn) {
  while (conn.out_pos < conn.out.size()) {
    ssize_t n = ::send(conn.fd.get(), conn.out.data() + conn.out_pos,
                       conn.out.size() - conn.out_pos, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno != EAGAIN) {
        closeConn(id);
        return;
      }
      break;
    }
    conn.out_pos += static_cast<size_t>(n);
    conn.last_active = Clock::now();
  }
  if (conn.out_pos == conn.out.size()) {
    conn.out.clear();
    conn.out_pos = 0;
  } else if (conn.out.size() - conn.out_pos > kMaxTcpOutput) {
    closeConn(id);
    return;
  }
  bool want_write = !conn.out.empty();
  if (want_write != conn.writing) {
    epoll_event ev{EPOLLIN | (want_write ? EPOLLOUT : 0u), {.u64 = token(Kind::kTcpConn, id)}};
    ::epoll_ctl(epoll.get(), EPOLL_CTL_MOD, conn.fd.get(), &ev);
    conn.writing = want_write;
  }
}

// The connection is erased after the batch: handlers further up the stack
// may still hold a reference to it.
void Server::Impl::closeConn(uint64_t id) {
  auto it = conns.find(id);
  if (it == conns.end() || it->second.dead) return;
  it->second.dead = true;
  it->second.fd.reset();
  dead_conns.push_back(id);
}

// --- forwarding ---

void Server::Impl::forward(const Query& query, std::span<const uint8_t> packet,
                           const Client& client) {
  if (pending.size() >= options.max_pending) {
    buildResponse(query, {},
                  {Rcode::kServFail, false, client.tcp ? kMaxTcpMessage : query.maxUdpResponse()},
                  response);
    reply(client, response);
    return;
  }
  uint16_t id;
  do {
    id =
        static_cast<uint16_t>(::arc4random());  // unpredictable: the id is the anti-spoofing secret
  } while (pending.contains(id));
  Pending p{client, query, std::vector<uint8_t>(packet.begin(), packet.end()), 0, 0};
  setMessageId(p.packet, id);
  Pending& stored = pending.emplace(id, std::move(p)).first->second;
  if (!sendUpstream(id, stored)) {
    answerServFail(stored);
    pending.erase(id);
  }
}

// Sends to upstream p.upstream, or the first after it that accepts the
// datagram; false when none is left.
bool Server::Impl::sendUpstream(uint16_t id, Pending& p) {
  for (; p.upstream < options.upstreams.size(); ++p.upstream) {
    const SocketAddress& server = options.upstreams[p.upstream];
    int fd = server.ip.family == AF_INET ? upstream4.get() : upstream6.get();
    if (fd < 0) continue;
    sockaddr_storage ss;
    socklen_t len = server.toSockaddr(ss);
    if (::sendto(fd, p.packet.data(), p.packet.size(), MSG_DONTWAIT,
                 reinterpret_cast<sockaddr*>(&ss), len) < 0) {
      continue;
    }
    deadlines.push_back({Clock::now() + options.upstream_timeout, id, ++p.attempt});
    return true;
  }
  return false;
}

void Server::Impl::failOver(uint16_t id, Pending& p) {
  ++p.upstream;
  if (!sendUpstream(id, p)) {
    answerServFail(p);
    pending.erase(id);
  }
}

void Server::Impl::answerServFail(const Pending& p) {
  size_t max = p.client.tcp ? kMaxTcpMessage : p.query.maxUdpResponse();
  buildResponse(p.query, {}, {Rcode::kServFail, false, max}, response);
  reply(p.client, response);
}

void Server::Impl::readUpstream(int fd) {
  uint8_t buf[kMaxTcpMessage];
  for (int i = 0; i < kBatchPerEvent; ++i) {
    sockaddr_storage from{};
    socklen_t from_len = sizeof from;
    ssize_t n = ::recvfrom(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n < 0) return;
    std::span<uint8_t> message(buf, static_cast<size_t>(n));
    if (message.size() < kHeaderSize || !(message[2] & 0x80)) continue;  // not a response
    auto it = pending.find(messageId(message));
    if (it == pending.end()) continue;
    Pending& p = it->second;
    // Accept only the servers asked so far, echoing the question we sent.
    auto source = SocketAddress::fromSockaddr(from);
    bool asked = false;
    for (size_t s = 0; s <= p.upstream && s < options.upstreams.size(); ++s) {
      asked = asked || (source && options.upstreams[s] == *source);
    }
    size_t qend = p.query.question_end;
    if (!asked || message.size() < qend ||
        std::memcmp(message.data() + kHeaderSize, p.packet.data() + kHeaderSize,
                    qend - kHeaderSize) != 0) {
      continue;
    }
    auto rcode = static_cast<Rcode>(message[3] & 0xf);
    if ((rcode == Rcode::kServFail || rcode == Rcode::kRefused) &&
        p.upstream + 1 < options.upstreams.size()) {
      failOver(it->first, p);
      continue;
    }
    setMessageId(message, p.query.id);
    reply(p.client, message);
    pending.erase(it);
  }
}

void Server::Impl::expire(Clock::time_point now) {
  while (!deadlines.empty() && deadlines.front().when <= now) {
    Deadline d = deadlines.front();
    deadlines.pop_front();
    auto it = pending.find(d.id);
    if (it == pending.end() || it->second.attempt != d.attempt) continue;  // answered or retried
    failOver(d.id, it->second);
  }
  if (!conns.empty() && next_idle_check <= now) {
    for (auto& [id, conn] : conns) {
      if (!conn.dead && now - conn.last_active >= options.tcp_idle_timeout) closeConn(id);
    }
    next_idle_check =
        now + std::min<Clock::duration>(options.tcp_idle_timeout, std::chrono::seconds(1));
  }
}

}  // namespace berth::net::dns
