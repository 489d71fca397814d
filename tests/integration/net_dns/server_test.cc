// The DNS server over real sockets, in a throwaway network namespace that
// only this test process uses (unshare(CLONE_NEWNET) on the main thread
// before any socket or thread exists; it dies with the process). Every
// address is on that namespace's loopback; upstream resolvers are fake
// servers in this process.
#include "net/dns/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

#include "net/dns/packet.h"
#include "runtime/sys/fd.h"
#include "tests/unit/net_dns/query_builder.h"

namespace berth::net::dns {
namespace {

using Clock = std::chrono::steady_clock;
using testing::decode;
using testing::makeQuery;
using testing::QueryOptions;

// Enters a fresh network namespace once per process and brings lo up.
bool enterThrowawayNetns() {
  static int state = [] {
    if (::geteuid() != 0) return 0;
    if (::unshare(CLONE_NEWNET) != 0) return 0;
    sys::UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
    if (::ioctl(fd.get(), SIOCGIFFLAGS, &ifr) != 0) return -1;
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
    if (::ioctl(fd.get(), SIOCSIFFLAGS, &ifr) != 0) return -1;
    return 1;
  }();
  return state == 1;
}

SocketAddress addr(const char* ip, uint16_t port) {
  return {*IpAddress::parse(ip), port};
}

sys::UniqueFd udpSocket(int family = AF_INET) {
  return sys::UniqueFd(::socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
}

bool waitReadable(int fd, int ms) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, ms) == 1;
}

// One UDP exchange; empty when no answer within `ms`.
std::vector<uint8_t> askUdp(const SocketAddress& server, const std::vector<uint8_t>& query,
                            int ms = 3000) {
  sys::UniqueFd fd = udpSocket(server.ip.family);
  sockaddr_storage ss;
  socklen_t len = server.toSockaddr(ss);
  ::sendto(fd.get(), query.data(), query.size(), 0, reinterpret_cast<sockaddr*>(&ss), len);
  if (!waitReadable(fd.get(), ms)) return {};
  std::vector<uint8_t> buf(65536);
  ssize_t n = ::recv(fd.get(), buf.data(), buf.size(), 0);
  buf.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return buf;
}

sys::UniqueFd connectTcp(const SocketAddress& server) {
  sys::UniqueFd fd(::socket(server.ip.family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_storage ss;
  socklen_t len = server.toSockaddr(ss);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) return {};
  return fd;
}

bool readFull(int fd, uint8_t* p, size_t n, int ms) {
  while (n > 0) {
    if (!waitReadable(fd, ms)) return false;
    ssize_t r = ::read(fd, p, n);
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

std::vector<uint8_t> askTcp(int fd, const std::vector<uint8_t>& query, int ms = 3000) {
  std::vector<uint8_t> framed = {static_cast<uint8_t>(query.size() >> 8),
                                 static_cast<uint8_t>(query.size())};
  framed.insert(framed.end(), query.begin(), query.end());
  if (::write(fd, framed.data(), framed.size()) != static_cast<ssize_t>(framed.size())) return {};
  uint8_t len[2];
  if (!readFull(fd, len, 2, ms)) return {};
  std::vector<uint8_t> out(static_cast<size_t>(len[0] << 8 | len[1]));
  if (!readFull(fd, out.data(), out.size(), ms)) return {};
  return out;
}

// A fake upstream resolver: answers every query with one A record
// (192.0.2.<tag>), or stays silent, or answers SERVFAIL.
class FakeUpstream {
 public:
  enum class Mode { kAnswer, kSilent, kServFail };
  FakeUpstream(const char* ip, Mode mode, uint8_t tag) : mode_(mode), tag_(tag) {
    fd_ = udpSocket();
    sockaddr_storage ss;
    SocketAddress a = addr(ip, 0);
    socklen_t len = a.toSockaddr(ss);
    EXPECT_EQ(::bind(fd_.get(), reinterpret_cast<sockaddr*>(&ss), len), 0);
    len = sizeof ss;
    ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&ss), &len);
    address_ = *SocketAddress::fromSockaddr(ss);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeUpstream() {
    stop_ = true;
    thread_.join();
  }
  SocketAddress address() const { return address_; }
  int received() const { return received_; }

 private:
  void serve() {
    uint8_t buf[4096];
    while (!stop_) {
      if (!waitReadable(fd_.get(), 50)) continue;
      sockaddr_storage from;
      socklen_t from_len = sizeof from;
      ssize_t n =
          ::recvfrom(fd_.get(), buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &from_len);
      if (n < 12) continue;
      ++received_;
      if (mode_ == Mode::kSilent) continue;
      std::vector<uint8_t> r(buf, buf + n);
      r[2] |= 0x80;
      r[3] = mode_ == Mode::kServFail ? 2 : 0x80;  // RA / SERVFAIL
      if (mode_ == Mode::kAnswer) {
        r[7] = 1;
        r[11] = 0;  // drop the OPT echo: the answer goes after the question
        size_t qend = testing::skipName(r, 12) + 4;
        r.resize(qend);
        r.insert(r.end(), {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, tag_});
      }
      ::sendto(fd_.get(), r.data(), r.size(), 0, reinterpret_cast<sockaddr*>(&from), from_len);
    }
  }
  sys::UniqueFd fd_;
  SocketAddress address_;
  Mode mode_;
  uint8_t tag_;
  std::atomic<bool> stop_{false};
  std::atomic<int> received_{0};
  std::thread thread_;
};

class DnsServer : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (a throwaway network namespace)";
    ASSERT_TRUE(enterThrowawayNetns()) << "unshare(CLONE_NEWNET) or bringing lo up failed";
    zone = std::make_shared<Zone>("shop");
    std::vector<IpAddress> web = {IpAddress::v4(10, 89, 0, 2), *IpAddress::parse("fd00::2")};
    ASSERT_TRUE(zone->setHost("web-1", std::vector<std::string>{"web", "frontend"}, web));
  }
  void startServer(ServerOptions options = {}) {
    auto s = Server::start(std::move(options));
    ASSERT_TRUE(s) << s.error().str();
    server = std::move(*s);
    auto bound = server->addZone(zone, addr("127.0.0.1", 0));
    ASSERT_TRUE(bound) << bound.error().str();
    listen = *bound;
  }
  std::shared_ptr<Zone> zone;
  std::unique_ptr<Server> server;
  SocketAddress listen;
};

TEST_F(DnsServer, AnswersAAaaaAndPtrOverUdp) {
  startServer();
  auto a = decode(askUdp(listen, makeQuery("web.shop", {.id = 11})));
  EXPECT_EQ(a.id, 11);
  EXPECT_TRUE(a.aa());
  ASSERT_EQ(a.an, 1);
  EXPECT_EQ(a.rdata[0], (std::vector<uint8_t>{10, 89, 0, 2}));
  auto aaaa = decode(askUdp(listen, makeQuery("FRONTEND", {.qtype = rtype::kAaaa})));
  ASSERT_EQ(aaaa.an, 1);
  IpAddress v6 = *IpAddress::parse("fd00::2");
  EXPECT_EQ(aaaa.rdata[0], std::vector<uint8_t>(v6.bytes.begin(), v6.bytes.end()));
  auto ptr = decode(askUdp(listen, makeQuery("2.0.89.10.in-addr.arpa", {.qtype = rtype::kPtr})));
  ASSERT_EQ(ptr.an, 1);
  EXPECT_EQ(ptr.rdata[0], (std::vector<uint8_t>{3, 'w', 'e', 'b', 4, 's', 'h', 'o', 'p', 0}));
}

TEST_F(DnsServer, NxDomainNoDataAndRefusedWithoutUpstreams) {
  startServer();
  auto nx = decode(askUdp(listen, makeQuery("db.shop")));
  EXPECT_EQ(nx.rcode(), 3);
  auto nodata = decode(askUdp(listen, makeQuery("web", {.qtype = rtype::kSoa})));
  EXPECT_EQ(nodata.rcode(), 0);
  EXPECT_EQ(nodata.an, 0);
  EXPECT_TRUE(nodata.qr());
  auto refused = decode(askUdp(listen, makeQuery("example.com")));
  EXPECT_EQ(refused.rcode(), 5);
}

TEST_F(DnsServer, SeveralQueriesPerTcpConnection) {
  startServer();
  sys::UniqueFd c = connectTcp(listen);
  ASSERT_TRUE(c);
  for (uint16_t i = 0; i < 5; ++i) {
    auto d = decode(askTcp(c.get(), makeQuery(i % 2 ? "web" : "db.shop", {.id = i})));
    EXPECT_EQ(d.id, i);
    EXPECT_EQ(d.rcode(), i % 2 ? 0 : 3);
  }
  // Two queries in one write are both answered.
  auto q1 = makeQuery("web", {.id = 100});
  auto q2 = makeQuery("frontend", {.id = 101});
  std::vector<uint8_t> both = {0, static_cast<uint8_t>(q1.size())};
  both.insert(both.end(), q1.begin(), q1.end());
  both.insert(both.end(), {0, static_cast<uint8_t>(q2.size())});
  both.insert(both.end(), q2.begin(), q2.end());
  ASSERT_EQ(::write(c.get(), both.data(), both.size()), static_cast<ssize_t>(both.size()));
  for (uint16_t id : {100, 101}) {
    uint8_t len[2];
    ASSERT_TRUE(readFull(c.get(), len, 2, 3000));
    std::vector<uint8_t> r(static_cast<size_t>(len[0] << 8 | len[1]));
    ASSERT_TRUE(readFull(c.get(), r.data(), r.size(), 3000));
    EXPECT_EQ(decode(r).id, id);
  }
}

TEST_F(DnsServer, TruncatesOverUdpAndAnswersInFullOverTcp) {
  std::vector<IpAddress> many;
  for (int i = 0; i < 200; ++i) many.push_back(IpAddress::v4(10, 89, 1, static_cast<uint8_t>(i)));
  ASSERT_TRUE(zone->setHost("big", std::vector<std::string>{"big"}, many));
  startServer();
  auto classic = askUdp(listen, makeQuery("big"));
  EXPECT_TRUE(decode(classic).tc());
  EXPECT_LE(classic.size(), 512u);
  auto edns = askUdp(listen, makeQuery("big", {.edns = true, .udp_payload = 4096}));
  EXPECT_TRUE(decode(edns).tc());
  EXPECT_TRUE(decode(edns).has_opt);
  sys::UniqueFd c = connectTcp(listen);
  auto full = decode(askTcp(c.get(), makeQuery("big", {.edns = true})));
  EXPECT_FALSE(full.tc());
  EXPECT_EQ(full.an, 200);
  // 60 addresses fit the 1232-byte EDNS0 limit but not 512.
  many.resize(60);
  ASSERT_TRUE(zone->setHost("big", std::vector<std::string>{"big"}, many));
  auto fits = decode(askUdp(listen, makeQuery("big", {.edns = true})));
  EXPECT_FALSE(fits.tc());
  EXPECT_EQ(fits.an, 60);
}

TEST_F(DnsServer, ForwardsForeignNamesWithoutBlockingLocalOnes) {
  FakeUpstream silent("127.0.0.3", FakeUpstream::Mode::kSilent, 0);
  FakeUpstream live("127.0.0.4", FakeUpstream::Mode::kAnswer, 7);
  startServer({.upstreams = {live.address()}});
  auto fwd = decode(askUdp(listen, makeQuery("example.com", {.id = 4242, .edns = true})));
  EXPECT_EQ(fwd.id, 4242);
  ASSERT_EQ(fwd.an, 1);
  EXPECT_EQ(fwd.rdata[0], (std::vector<uint8_t>{192, 0, 2, 7}));
  // Forwarded over TCP too.
  sys::UniqueFd c = connectTcp(listen);
  auto tcp = decode(askTcp(c.get(), makeQuery("example.org", {.id = 5})));
  EXPECT_EQ(tcp.id, 5);
  EXPECT_EQ(tcp.an, 1);

  // With only a silent upstream, a forwarded query waits; local answers do not.
  server->setUpstreams({silent.address()});
  sys::UniqueFd pending_client = udpSocket();
  sockaddr_storage ss;
  socklen_t len = listen.toSockaddr(ss);
  auto q = makeQuery("slow.example");
  ::sendto(pending_client.get(), q.data(), q.size(), 0, reinterpret_cast<sockaddr*>(&ss), len);
  auto start = Clock::now();
  auto local = decode(askUdp(listen, makeQuery("web")));
  EXPECT_EQ(local.an, 1);
  EXPECT_LT(Clock::now() - start, std::chrono::milliseconds(500));
}

TEST_F(DnsServer, FailsOverToNextUpstreamAndServFailsWhenAllFail) {
  FakeUpstream silent("127.0.0.3", FakeUpstream::Mode::kSilent, 0);
  FakeUpstream broken("127.0.0.5", FakeUpstream::Mode::kServFail, 0);
  FakeUpstream live("127.0.0.4", FakeUpstream::Mode::kAnswer, 9);
  startServer({.upstreams = {silent.address(), broken.address(), live.address()},
               .upstream_timeout = std::chrono::milliseconds(300)});
  auto start = Clock::now();
  auto d = decode(askUdp(listen, makeQuery("example.com")));
  auto took = Clock::now() - start;
  ASSERT_EQ(d.an, 1);
  EXPECT_EQ(d.rdata[0], (std::vector<uint8_t>{192, 0, 2, 9}));
  EXPECT_GE(took, std::chrono::milliseconds(250));
  EXPECT_LT(took, std::chrono::milliseconds(2000));
  EXPECT_GE(silent.received(), 1);
  EXPECT_GE(broken.received(), 1);

  server->setUpstreams({silent.address(), silent.address()});
  start = Clock::now();
  auto fail = decode(askUdp(listen, makeQuery("example.net", {.id = 3})));
  took = Clock::now() - start;
  EXPECT_EQ(fail.id, 3);
  EXPECT_EQ(fail.rcode(), 2);
  EXPECT_GE(took, std::chrono::milliseconds(550));
  EXPECT_LT(took, std::chrono::milliseconds(2500));
}

TEST_F(DnsServer, RemovedNameIsGoneImmediately) {
  startServer();
  EXPECT_EQ(decode(askUdp(listen, makeQuery("web.shop"))).an, 1);
  ASSERT_TRUE(zone->removeHost("web-1"));
  auto d = decode(askUdp(listen, makeQuery("web.shop")));
  EXPECT_EQ(d.rcode(), 3);
  EXPECT_EQ(d.an, 0);
  EXPECT_EQ(
      decode(askUdp(listen, makeQuery("2.0.89.10.in-addr.arpa", {.qtype = rtype::kPtr}))).rcode(),
      5);
}

TEST_F(DnsServer, MalformedQueriesGetFormErrAndDoNotHurt) {
  startServer();
  auto bad = makeQuery("web");
  bad.resize(bad.size() - 2);
  auto d = decode(askUdp(listen, bad));
  EXPECT_EQ(d.rcode(), 1);
  EXPECT_EQ(d.id, 0x1234);
  // Garbage, a response packet and an empty datagram get nothing back.
  EXPECT_TRUE(askUdp(listen, {1, 2, 3}, 200).empty());
  auto response = makeQuery("web");
  response[2] |= 0x80;
  EXPECT_TRUE(askUdp(listen, response, 200).empty());
  sys::UniqueFd c = connectTcp(listen);
  // Over TCP: a question name that points at itself, then a good query.
  std::vector<uint8_t> loop = {0x01, 0x02, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1};
  auto loop_answer = decode(askTcp(c.get(), loop));
  EXPECT_EQ(loop_answer.id, 0x0102);
  EXPECT_EQ(loop_answer.rcode(), 1);
  EXPECT_EQ(decode(askTcp(c.get(), makeQuery("web"))).an, 1);
  EXPECT_EQ(decode(askUdp(listen, makeQuery("web"))).an, 1);
}

TEST_F(DnsServer, ZonesComeAndGoWithoutDisturbingOthers) {
  startServer();
  auto other = std::make_shared<Zone>("blog");
  std::vector<IpAddress> ip = {IpAddress::v4(10, 89, 2, 2)};
  ASSERT_TRUE(other->setHost("main", std::vector<std::string>{"main"}, ip));
  auto bound = server->addZone(other, addr("127.0.0.2", listen.port));
  ASSERT_TRUE(bound) << bound.error().str();
  EXPECT_FALSE(server->addZone(other, *bound));  // already served there
  sys::UniqueFd c = connectTcp(listen);
  EXPECT_EQ(decode(askUdp(*bound, makeQuery("main.blog"))).an, 1);
  EXPECT_EQ(decode(askUdp(listen, makeQuery("main.blog"))).rcode(),
            5);  // each zone answers its own names
  EXPECT_TRUE(server->removeZone(*bound));
  EXPECT_FALSE(server->removeZone(*bound));
  EXPECT_TRUE(askUdp(*bound, makeQuery("main.blog"), 300).empty());
  EXPECT_EQ(decode(askUdp(listen, makeQuery("web"))).an, 1);
  EXPECT_EQ(decode(askTcp(c.get(), makeQuery("web"))).an, 1);  // open connections survive
}

TEST_F(DnsServer, IdleTcpConnectionsAreClosed) {
  startServer({.tcp_idle_timeout = std::chrono::milliseconds(200)});
  sys::UniqueFd c = connectTcp(listen);
  EXPECT_EQ(decode(askTcp(c.get(), makeQuery("web"))).an, 1);
  uint8_t byte;
  auto start = Clock::now();
  ASSERT_TRUE(waitReadable(c.get(), 3000));
  EXPECT_EQ(::read(c.get(), &byte, 1), 0);
  EXPECT_LT(Clock::now() - start, std::chrono::milliseconds(2000));
}

TEST_F(DnsServer, BusyboxNslookupResolves) {
  if (::access("/bin/busybox", X_OK) != 0) GTEST_SKIP() << "no busybox";
  startServer();
  // busybox nslookup only speaks to port 53.
  auto bound = server->addZone(zone, addr("127.0.0.6", 53));
  ASSERT_TRUE(bound) << bound.error().str();
  FILE* p = ::popen("/bin/busybox nslookup web.shop 127.0.0.6 2>&1", "r");
  ASSERT_NE(p, nullptr);
  std::string output;
  char buf[256];
  while (size_t n = std::fread(buf, 1, sizeof buf, p)) output.append(buf, n);
  ::pclose(p);
  EXPECT_NE(output.find("10.89.0.2"), std::string::npos) << output;
  EXPECT_NE(output.find("fd00::2"), std::string::npos) << output;
}

}  // namespace
}  // namespace berth::net::dns
