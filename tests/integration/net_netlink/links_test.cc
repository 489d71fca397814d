// Bridges and container attachment against the real kernel (root).
//
// Every test works in anonymous network namespaces it creates (a "node" and
// one per container) held only by fds: closing them on any exit path, failed
// assertions included, deletes the namespaces and every link inside. The
// host's own network namespace is never touched; traffic goes only between
// addresses inside these namespaces.
#include "net/netlink/links.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "net/netlink/naming.h"
#include "net/netlink/socket.h"

namespace berth::net::netlink {
namespace {

using sys::UniqueFd;

#define ASSERT_OK(expr)                                                \
  do {                                                                 \
    auto&& assert_ok_result_ = (expr);                                 \
    ASSERT_TRUE(assert_ok_result_) << assert_ok_result_.error().str(); \
  } while (0)

struct LinkState {
  bool exists = false;
  bool up = false;
  int mtu = 0;
  std::string ipv4;  // first address, "" when none
};

// Reads a link's flags, MTU and IPv4 address with ioctls on a socket that
// lives in `netns` (ioctls act on the socket's namespace).
LinkState linkState(int netns, const std::string& name) {
  LinkState state;
  auto sock = socketInNetns(netns, AF_INET, SOCK_DGRAM, 0);
  if (!sock) return state;
  ifreq req{};
  std::snprintf(req.ifr_name, sizeof(req.ifr_name), "%s", name.c_str());
  if (ioctl(sock->get(), SIOCGIFFLAGS, &req) != 0) return state;
  state.exists = true;
  state.up = (req.ifr_flags & IFF_UP) != 0;
  if (ioctl(sock->get(), SIOCGIFMTU, &req) == 0) state.mtu = req.ifr_mtu;
  if (ioctl(sock->get(), SIOCGIFADDR, &req) == 0) {
    char text[INET_ADDRSTRLEN] = {};
    auto* in = reinterpret_cast<sockaddr_in*>(&req.ifr_addr);
    inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
    state.ipv4 = text;
  }
  return state;
}

// The gateway of the IPv4 default route in `netns` ("" when there is none),
// from /proc/thread-self/net/route, which shows the reading thread's netns.
std::string defaultGateway(int netns) {
  std::string gateway;
  (void)runInNetns(netns, [&]() -> sys::Result<void> {
    std::ifstream in("/proc/thread-self/net/route");
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string iface, dest, gw;
      fields >> iface >> dest >> gw;
      if (dest != "00000000") continue;
      in_addr addr{};
      addr.s_addr = static_cast<in_addr_t>(std::stoul(gw, nullptr, 16));
      gateway = inet_ntoa(addr);
    }
    return sys::ok();
  });
  return gateway;
}

sockaddr_in endpoint(const char* ip, int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, ip, &addr.sin_addr);
  return addr;
}

// A UDP socket in `netns` bound to ip:port.
UniqueFd udpSocket(int netns, const char* ip, int port) {
  auto sock = socketInNetns(netns, AF_INET, SOCK_DGRAM, 0);
  if (!sock) return UniqueFd();
  sockaddr_in addr = endpoint(ip, port);
  if (bind(sock->get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return UniqueFd();
  return std::move(*sock);
}

// Sends `payload` from `from` to ip:port and waits (2 s at most) for it at `to`.
bool udpDelivered(int from, int to, const char* ip, int port, const std::string& payload) {
  sockaddr_in dst = endpoint(ip, port);
  if (sendto(from, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&dst),
             sizeof(dst)) != static_cast<ssize_t>(payload.size()))
    return false;
  pollfd pfd{to, POLLIN, 0};
  if (poll(&pfd, 1, 2000) != 1) return false;
  char buf[256] = {};
  ssize_t n = recv(to, buf, sizeof(buf), 0);
  return n == static_cast<ssize_t>(payload.size()) && std::string(buf, n) == payload;
}

class NetlinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (creates network namespaces)";
    auto netns = newNetns();
    ASSERT_TRUE(netns) << netns.error().str();
    node_ = std::move(*netns);
    auto sock = Socket::openInNetns(node_.get());
    ASSERT_TRUE(sock) << sock.error().str();
    nodeSock_.emplace(std::move(*sock));
  }

  UniqueFd newContainer() {
    auto netns = newNetns();
    EXPECT_TRUE(netns) << netns.error().str();
    return netns ? std::move(*netns) : UniqueFd();
  }

  // Unique per process, so parallel runs never share a name.
  std::string bridge() const { return bridgeName("test-" + std::to_string(getpid())); }

  Attachment attachment(const std::string& id, const std::string& ip) const {
    return Attachment{vethHostName(id + std::to_string(getpid())), ip + "/23", "10.89.0.1", 1500};
  }

  UniqueFd node_;
  std::optional<Socket> nodeSock_;
};

TEST_F(NetlinkTest, BridgeIsCreatedIdempotentAndDeleted) {
  std::string name = bridge();
  auto first = ensureBridge(*nodeSock_, name, 1500, "10.89.0.1/23");
  ASSERT_TRUE(first) << first.error().str();
  LinkState state = linkState(node_.get(), name);
  EXPECT_TRUE(state.exists);
  EXPECT_TRUE(state.up);
  EXPECT_EQ(state.mtu, 1500);
  EXPECT_EQ(state.ipv4, "10.89.0.1");

  auto again = ensureBridge(*nodeSock_, name, 1500, "10.89.0.1/23");
  ASSERT_TRUE(again) << again.error().str();
  EXPECT_EQ(again->ifindex, first->ifindex);

  // A changed MTU converges instead of failing.
  ASSERT_OK(ensureBridge(*nodeSock_, name, 1400, "10.89.0.1/23"));
  EXPECT_EQ(linkState(node_.get(), name).mtu, 1400);

  ASSERT_OK(deleteLink(*nodeSock_, name));
  EXPECT_FALSE(linkState(node_.get(), name).exists);
  ASSERT_OK(deleteLink(*nodeSock_, name));  // missing is fine
}

TEST_F(NetlinkTest, BridgeNameTakenByAnotherLinkTypeIsAnError) {
  std::string name = "bt" + std::to_string(getpid());
  ASSERT_OK(createVethPair(*nodeSock_, VethSpec{name, name + "p", 1500}));
  auto result = ensureBridge(*nodeSock_, name, 1500, "10.89.0.1/23");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), EEXIST);
  EXPECT_NE(result.error().str().find("create bridge " + name), std::string::npos)
      << result.error().str();
}

TEST_F(NetlinkTest, BadInputChangesNothing) {
  std::string name = bridge();
  auto result = ensureBridge(*nodeSock_, name, 1500, "10.89.0.1");  // no prefix
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), EINVAL);
  EXPECT_EQ(
      result.error().str(),
      "create bridge " + name + ": invalid IPv4 address/prefix \"10.89.0.1\": Invalid argument");
  EXPECT_FALSE(linkState(node_.get(), name).exists);
  EXPECT_FALSE(ensureBridge(*nodeSock_, "this-name-is-too-long", 1500, "10.89.0.1/23"));
}

TEST_F(NetlinkTest, AttachedContainersReachEachOtherAndTheGateway) {
  auto bridgeResult = ensureBridge(*nodeSock_, bridge(), 1500, "10.89.0.1/23");
  ASSERT_TRUE(bridgeResult) << bridgeResult.error().str();
  UniqueFd a = newContainer();
  UniqueFd b = newContainer();
  ASSERT_TRUE(a && b);
  ASSERT_OK(attachContainer(*nodeSock_, *bridgeResult, a.get(), attachment("a", "10.89.0.2")));
  ASSERT_OK(attachContainer(*nodeSock_, *bridgeResult, b.get(), attachment("b", "10.89.0.3")));

  LinkState eth0 = linkState(a.get(), "eth0");
  EXPECT_TRUE(eth0.up);
  EXPECT_EQ(eth0.mtu, 1500);
  EXPECT_EQ(eth0.ipv4, "10.89.0.2");
  EXPECT_TRUE(linkState(a.get(), "lo").up);
  EXPECT_EQ(linkState(a.get(), "lo").ipv4, "127.0.0.1");
  EXPECT_EQ(defaultGateway(a.get()), "10.89.0.1");
  EXPECT_EQ(defaultGateway(b.get()), "10.89.0.1");
  LinkState host = linkState(node_.get(), attachment("a", "").hostName);
  EXPECT_TRUE(host.up);
  EXPECT_FALSE(linkState(node_.get(), "eth0").exists);  // the peer went straight inside

  UniqueFd sockA = udpSocket(a.get(), "10.89.0.2", 5353);
  UniqueFd sockB = udpSocket(b.get(), "10.89.0.3", 5353);
  UniqueFd sockGw = udpSocket(node_.get(), "10.89.0.1", 5353);
  ASSERT_TRUE(sockA && sockB && sockGw);
  EXPECT_TRUE(udpDelivered(sockA.get(), sockB.get(), "10.89.0.3", 5353, "a to b"));
  EXPECT_TRUE(udpDelivered(sockB.get(), sockA.get(), "10.89.0.2", 5353, "b to a"));
  EXPECT_TRUE(udpDelivered(sockA.get(), sockGw.get(), "10.89.0.1", 5353, "a to gateway"));

  // Inside a container, the default route's device is eth0: its MTU.
  auto insideA = Socket::openInNetns(a.get());
  ASSERT_TRUE(insideA);
  auto mtu = uplinkMtu(*insideA);
  ASSERT_TRUE(mtu) << mtu.error().str();
  EXPECT_EQ(*mtu, 1500u);
}

TEST_F(NetlinkTest, DetachRemovesBothEnds) {
  auto br = ensureBridge(*nodeSock_, bridge(), 1500, "10.89.0.1/23");
  ASSERT_TRUE(br) << br.error().str();
  UniqueFd c = newContainer();
  Attachment att = attachment("d", "10.89.0.4");
  ASSERT_OK(attachContainer(*nodeSock_, *br, c.get(), att));
  ASSERT_TRUE(linkState(node_.get(), att.hostName).exists);
  ASSERT_OK(detachContainer(*nodeSock_, att.hostName));
  EXPECT_FALSE(linkState(node_.get(), att.hostName).exists);
  EXPECT_FALSE(linkState(c.get(), "eth0").exists);
  ASSERT_OK(detachContainer(*nodeSock_, att.hostName));  // twice is fine
}

TEST_F(NetlinkTest, FailedAttachLeavesNoVeth) {
  auto br = ensureBridge(*nodeSock_, bridge(), 1500, "10.89.0.1/23");
  ASSERT_TRUE(br) << br.error().str();
  UniqueFd c = newContainer();
  Attachment att = attachment("f", "10.89.0.5");
  att.gateway = "10.77.0.1";  // outside the container's subnet: no route to it
  auto result = attachContainer(*nodeSock_, *br, c.get(), att);
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().str().find("add default route via 10.77.0.1"), std::string::npos)
      << result.error().str();
  EXPECT_FALSE(linkState(node_.get(), att.hostName).exists);
  EXPECT_FALSE(linkState(c.get(), "eth0").exists);
}

TEST_F(NetlinkTest, UplinkMtuFallsBackWithoutDefaultRoute) {
  auto mtu = uplinkMtu(*nodeSock_);
  ASSERT_TRUE(mtu) << mtu.error().str();
  EXPECT_EQ(*mtu, kFallbackMtu);
}

TEST_F(NetlinkTest, AttachAndDetachTimingFor64Containers) {
  constexpr int kCount = 64;
  auto br = ensureBridge(*nodeSock_, bridge(), 1500, "10.89.0.1/23");
  ASSERT_TRUE(br) << br.error().str();
  std::vector<UniqueFd> containers;
  for (int i = 0; i < kCount; ++i) containers.push_back(newContainer());
  using Clock = std::chrono::steady_clock;
  auto micros = [](Clock::duration d) {
    return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  };
  std::vector<long> attachUs, detachUs;
  for (int i = 0; i < kCount; ++i) {
    Attachment att = attachment("t" + std::to_string(i), "10.89.0." + std::to_string(10 + i));
    auto start = Clock::now();
    ASSERT_OK(attachContainer(*nodeSock_, *br, containers[i].get(), att));
    attachUs.push_back(micros(Clock::now() - start));
  }
  EXPECT_EQ(defaultGateway(containers[kCount - 1].get()), "10.89.0.1");
  for (int i = 0; i < kCount; ++i) {
    auto start = Clock::now();
    ASSERT_OK(detachContainer(*nodeSock_, attachment("t" + std::to_string(i), "").hostName));
    detachUs.push_back(micros(Clock::now() - start));
  }
  long attachSum = 0, detachSum = 0;
  for (int i = 0; i < kCount; ++i) {
    std::printf("container %2d: attach %6ld us  detach %6ld us\n", i + 1, attachUs[i], detachUs[i]);
    attachSum += attachUs[i];
    detachSum += detachUs[i];
  }
  auto mean = [](const std::vector<long>& v, int from, int to) {
    long sum = 0;
    for (int i = from; i < to; ++i) sum += v[i];
    return sum / (to - from);
  };
  std::printf(
      "mean attach %ld us (first 16: %ld, last 16: %ld); mean detach %ld us "
      "(first 16: %ld, last 16: %ld)\n",
      attachSum / kCount, mean(attachUs, 0, 16), mean(attachUs, kCount - 16, kCount),
      detachSum / kCount, mean(detachUs, 0, 16), mean(detachUs, kCount - 16, kCount));
}

}  // namespace
}  // namespace berth::net::netlink
