// Integration tests of berth's nftables rules (root). Everything happens in
// throwaway network namespaces this test creates: a "node" with two project
// bridges, three "containers" and an "outside" host on a veth. The host's
// own network namespace and ruleset are never touched; deleting the
// namespaces at the end removes every link and rule.
#include "net/nft/firewall.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "runtime/sys/fd.h"

namespace berth::net::nft {
namespace {

using sys::UniqueFd;

const std::string kPrefix = "bnft" + std::to_string(getpid()) + "-";

int sh(const std::string& cmd) {
  return std::system((cmd + " >/dev/null 2>&1").c_str());
}

// Runs fn on a fresh thread that has joined netns `ns`, so sockets and
// nftables contexts made there belong to it while this thread stays put.
void inNetns(const std::string& ns, const std::function<void()>& fn) {
  std::thread t([&] {
    UniqueFd fd(::open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd || setns(fd.get(), CLONE_NEWNET) != 0) {
      ADD_FAILURE() << "setns " << ns;
      return;
    }
    fn();
  });
  t.join();
}

sockaddr_in addrOf(const std::string& ip, int port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  inet_pton(AF_INET, ip.c_str(), &sa.sin_addr);
  return sa;
}

// A TCP server in a namespace that answers each connection with the
// client's address as it sees it, then closes.
class PeerEchoServer {
 public:
  PeerEchoServer(const std::string& ns, int port) {
    inNetns(ns, [&] {
      fd_ = UniqueFd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
      int one = 1;
      setsockopt(fd_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      sockaddr_in sa = addrOf("0.0.0.0", port);
      if (bind(fd_.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 ||
          listen(fd_.get(), 16) != 0) {
        ADD_FAILURE() << "listen on port " << port << " in " << ns;
      }
    });
    thread_ = std::thread([this] { serve(); });
  }
  ~PeerEchoServer() {
    stop_ = true;
    thread_.join();
  }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{fd_.get(), POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      sockaddr_in peer{};
      socklen_t len = sizeof peer;
      UniqueFd c(accept4(fd_.get(), reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC));
      if (!c) continue;
      char text[INET_ADDRSTRLEN] = {};
      inet_ntop(AF_INET, &peer.sin_addr, text, sizeof text);
      (void)!write(c.get(), text, strlen(text));
    }
  }
  UniqueFd fd_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Connects from `ns` to ip:port; returns what the server said (the address
// it saw), or "" when the connection failed or timed out (bounded).
std::string connectFrom(const std::string& ns, const std::string& ip, int port,
                        int timeoutMs = 1500) {
  std::string reply;
  inNetns(ns, [&] {
    UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    sockaddr_in sa = addrOf(ip, port);
    if (connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 &&
        errno != EINPROGRESS) {
      return;
    }
    pollfd p{fd.get(), POLLIN, 0};
    // Wait for the answer (connect + the server's write), bounded.
    for (int waited = 0; waited < timeoutMs; waited += 50) {
      if (poll(&p, 1, 50) > 0) break;
    }
    char buf[64] = {};
    ssize_t n = read(fd.get(), buf, sizeof buf - 1);
    if (n > 0) reply.assign(buf, n);
  });
  return reply;
}

// A UDP server in a namespace that answers each datagram with the sender's
// address as it sees it.
class UdpPeerEchoServer {
 public:
  UdpPeerEchoServer(const std::string& ns, int port) {
    inNetns(ns, [&] {
      fd_ = UniqueFd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
      sockaddr_in sa = addrOf("0.0.0.0", port);
      if (bind(fd_.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
        ADD_FAILURE() << "bind udp port " << port << " in " << ns;
      }
    });
    thread_ = std::thread([this] {
      while (!stop_) {
        pollfd p{fd_.get(), POLLIN, 0};
        if (poll(&p, 1, 50) <= 0) continue;
        char buf[64];
        sockaddr_in peer{};
        socklen_t len = sizeof peer;
        if (recvfrom(fd_.get(), buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&peer), &len) < 0) {
          continue;
        }
        char text[INET_ADDRSTRLEN] = {};
        inet_ntop(AF_INET, &peer.sin_addr, text, sizeof text);
        (void)!sendto(fd_.get(), text, strlen(text), 0, reinterpret_cast<sockaddr*>(&peer), len);
      }
    });
  }
  ~UdpPeerEchoServer() {
    stop_ = true;
    thread_.join();
  }

 private:
  UniqueFd fd_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

std::string udpFrom(const std::string& ns, const std::string& ip, int port) {
  std::string reply;
  inNetns(ns, [&] {
    UniqueFd fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_in sa = addrOf(ip, port);
    if (sendto(fd.get(), "?", 1, 0, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 1) return;
    pollfd p{fd.get(), POLLIN, 0};
    if (poll(&p, 1, 1500) <= 0) return;
    char buf[64] = {};
    ssize_t n = recv(fd.get(), buf, sizeof buf - 1, 0);
    if (n > 0) reply.assign(buf, n);
  });
  return reply;
}

class NftNetns : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
    for (const char* n : {"node", "out", "a1", "a2", "b1"}) {
      std::string ns = kPrefix + n;
      ASSERT_EQ(sh("ip netns add " + ns), 0) << ns;
      created_.push_back(ns);
      ASSERT_EQ(sh("ip -n " + ns + " link set lo up"), 0);
    }
    std::string n = "ip -n " + node_ + " ";
    ASSERT_EQ(sh(n + "link add brA type bridge"), 0);
    ASSERT_EQ(sh(n + "link add brB type bridge"), 0);
    ASSERT_EQ(sh(n + "addr add 10.89.1.1/24 dev brA"), 0);
    ASSERT_EQ(sh(n + "addr add 10.89.2.1/24 dev brB"), 0);
    ASSERT_EQ(sh(n + "link set brA up"), 0);
    ASSERT_EQ(sh(n + "link set brB up"), 0);
    plug("a1", "brA", "10.89.1.2", "10.89.1.1");
    plug("a2", "brA", "10.89.1.3", "10.89.1.1");
    plug("b1", "brB", "10.89.2.2", "10.89.2.1");
    ASSERT_EQ(sh(n + "link add vout type veth peer name eth0 netns " + out_), 0);
    ASSERT_EQ(sh(n + "addr add 198.18.0.1/24 dev vout"), 0);
    ASSERT_EQ(sh(n + "link set vout up"), 0);
    ASSERT_EQ(sh("ip -n " + out_ + " addr add 198.18.0.2/24 dev eth0"), 0);
    ASSERT_EQ(sh("ip -n " + out_ + " link set eth0 up"), 0);
    ASSERT_EQ(sh("ip netns exec " + node_ + " sysctl -qw net.ipv4.ip_forward=1"), 0);
  }
  void TearDown() override {
    for (const std::string& ns : created_) sh("ip netns delete " + ns);
  }

  void plug(const std::string& c, const std::string& br, const std::string& ip,
            const std::string& gw) {
    std::string ns = kPrefix + c, n = "ip -n " + node_ + " ", in = "ip -n " + ns + " ";
    ASSERT_EQ(sh(n + "link add v" + c + " type veth peer name eth0 netns " + ns), 0);
    ASSERT_EQ(sh(n + "link set v" + c + " master " + br + " up"), 0);
    ASSERT_EQ(sh(in + "addr add " + ip + "/24 dev eth0"), 0);
    ASSERT_EQ(sh(in + "link set eth0 up"), 0);
    ASSERT_EQ(sh(in + "route add default via " + gw), 0);
  }

  // Runs fn with a Firewall whose context lives in the node namespace.
  void onNode(const std::function<void(Firewall&)>& fn) {
    inNetns(node_, [&] {
      auto fw = Firewall::open();
      ASSERT_TRUE(fw.ok()) << fw.error().str();
      fn(*fw);
    });
  }
  void applyOnNode(const ProjectRules& r) {
    onNode([&](Firewall& fw) {
      auto res = fw.apply(r);
      ASSERT_TRUE(res.ok()) << res.error().str();
    });
  }
  std::string listOnNode() {
    std::string text;
    onNode([&](Firewall& fw) {
      auto l = fw.listTable();
      ASSERT_TRUE(l.ok()) << l.error().str();
      text = *l;
    });
    return text;
  }
  std::vector<std::string> projectsOnNode() {
    std::vector<std::string> p;
    onNode([&](Firewall& fw) {
      auto r = fw.projects();
      ASSERT_TRUE(r.ok()) << r.error().str();
      p = *r;
    });
    return p;
  }

  static ProjectRules projectA() {
    return {"alpha", "brA", "10.89.1.0/24", "10.89.1.1", {{8080, "10.89.1.2", 80, Proto::kTcp}}};
  }
  static ProjectRules projectB() {
    return {"beta", "brB", "10.89.2.0/24", "10.89.2.1", {{9090, "10.89.2.2", 81, Proto::kTcp}}};
  }

  std::vector<std::string> created_;
  std::string node_ = kPrefix + "node", out_ = kPrefix + "out";
  std::string a1_ = kPrefix + "a1", a2_ = kPrefix + "a2", b1_ = kPrefix + "b1";
};

TEST_F(NftNetns, OutboundIsMasqueraded) {
  PeerEchoServer outside(out_, 7000);
  // Without rules the outside host has no route back to 10.89.1.0/24.
  EXPECT_EQ(connectFrom(a1_, "198.18.0.2", 7000, 500), "");
  applyOnNode(projectA());
  EXPECT_EQ(connectFrom(a1_, "198.18.0.2", 7000), "198.18.0.1");
}

TEST_F(NftNetns, ProjectsAreIsolatedFromEachOtherAndFromTheNode) {
  PeerEchoServer inB(b1_, 81), inA(a1_, 80), nodeSsh(node_, 2222), nodeDns(node_, 53);
  EXPECT_EQ(connectFrom(a1_, "10.89.2.2", 81), "10.89.1.2") << "routed before the rules";
  applyOnNode(projectA());
  applyOnNode(projectB());
  EXPECT_EQ(connectFrom(a1_, "10.89.2.2", 81, 500), "") << "project alpha reached beta";
  EXPECT_EQ(connectFrom(b1_, "10.89.1.2", 80, 500), "") << "project beta reached alpha";
  EXPECT_EQ(connectFrom(a2_, "10.89.1.2", 80), "10.89.1.3") << "same project";
  EXPECT_EQ(connectFrom(a1_, "10.89.1.1", 2222, 500), "") << "container reached the node";
  EXPECT_EQ(connectFrom(a1_, "198.18.0.1", 2222, 500), "") << "node's other address";
  EXPECT_EQ(connectFrom(a1_, "10.89.1.1", 53), "10.89.1.2") << "DNS on the gateway";
  EXPECT_EQ(connectFrom(out_, "198.18.0.1", 2222), "198.18.0.2") << "outside is not filtered";
  EXPECT_EQ(connectFrom(out_, "10.89.1.2", 80, 500), "") << "no route, and forward drops";
}

TEST_F(NftNetns, PublishedPortFromOutsideNodeAndHairpin) {
  PeerEchoServer web(a1_, 80);
  applyOnNode(projectA());
  applyOnNode(projectB());
  EXPECT_EQ(connectFrom(out_, "198.18.0.1", 8080), "198.18.0.2") << "from outside";
  EXPECT_EQ(connectFrom(node_, "198.18.0.1", 8080), "198.18.0.1") << "node's own address";
  EXPECT_EQ(connectFrom(node_, "127.0.0.1", 8080), "10.89.1.1") << "node's localhost";
  EXPECT_EQ(connectFrom(a2_, "10.89.1.1", 8080), "10.89.1.1") << "hairpin via gateway";
  EXPECT_EQ(connectFrom(a2_, "198.18.0.1", 8080), "10.89.1.1") << "hairpin via node address";
  // A container reaching its own published port: with br_netfilter (bridge
  // nf-call-iptables is 1 in a new netns once the module is loaded) the DNAT
  // happens in the bridge, which sends the frame back out the port it came
  // in on only in hairpin mode; the netlink layer sets it on every port.
  ASSERT_EQ(sh("ip -n " + node_ + " link set va1 type bridge_slave hairpin on"), 0);
  EXPECT_EQ(connectFrom(a1_, "10.89.1.1", 8080), "10.89.1.1") << "a container to itself";
  // A published port is public: another project reaches it like anyone, as
  // the target bridge's gateway (outbound masquerade of beta).
  EXPECT_EQ(connectFrom(b1_, "198.18.0.1", 8080), "10.89.1.1") << "from another project";
  EXPECT_EQ(connectFrom(out_, "198.18.0.1", 8081, 300), "") << "unpublished port";
}

TEST_F(NftNetns, PublishedUdpPort) {
  UdpPeerEchoServer dns(a1_, 53);
  ProjectRules a = projectA();
  a.ports.push_back({5353, "10.89.1.2", 53, Proto::kUdp});
  applyOnNode(a);
  EXPECT_EQ(udpFrom(out_, "198.18.0.1", 5353), "198.18.0.2");
  EXPECT_EQ(udpFrom(node_, "127.0.0.1", 5353), "10.89.1.1");
  EXPECT_EQ(udpFrom(out_, "198.18.0.1", 8080), "") << "8080 is published for tcp only";
}

TEST_F(NftNetns, ApplyIsIdempotentAndRemoveLeavesNothing) {
  onNode([](Firewall& fw) { ASSERT_TRUE(fw.ensureTable().ok()); });
  std::string empty = listOnNode();
  applyOnNode(projectA());
  std::string once = listOnNode();
  EXPECT_NE(once, empty);
  applyOnNode(projectA());
  EXPECT_EQ(listOnNode(), once);
  onNode([](Firewall& fw) { ASSERT_TRUE(fw.ensureTable().ok()); });
  EXPECT_EQ(listOnNode(), once) << "ensureTable dropped projects";
  applyOnNode(projectB());
  EXPECT_EQ(projectsOnNode(), (std::vector<std::string>{"alpha", "beta"}));
  onNode([](Firewall& fw) {
    auto r = fw.remove("beta");
    ASSERT_TRUE(r.ok()) << r.error().str();
    ASSERT_TRUE(fw.remove("beta").ok()) << "second remove is a no-op";
  });
  EXPECT_EQ(listOnNode(), once);
  EXPECT_EQ(listOnNode().find("beta"), std::string::npos);
  onNode([](Firewall& fw) { ASSERT_TRUE(fw.remove("alpha").ok()); });
  EXPECT_EQ(listOnNode(), empty);
}

TEST_F(NftNetns, ReconcileRemovesStaleProjects) {
  applyOnNode(projectA());
  std::string onlyA = listOnNode();
  applyOnNode(projectB());
  onNode([](Firewall& fw) {
    auto r = fw.reconcile({projectA()});
    ASSERT_TRUE(r.ok()) << r.error().str();
  });
  EXPECT_EQ(projectsOnNode(), std::vector<std::string>{"alpha"});
  EXPECT_EQ(listOnNode(), onlyA);
  onNode([](Firewall& fw) {
    ASSERT_TRUE(fw.reconcile({projectA(), projectB()}).ok());
    ASSERT_TRUE(fw.reconcile({projectA(), projectB()}).ok());
  });
  EXPECT_EQ(projectsOnNode(), (std::vector<std::string>{"alpha", "beta"}));
  onNode([](Firewall& fw) {
    ASSERT_TRUE(fw.reconcile({}).ok());
    auto p = fw.projects();
    ASSERT_TRUE(p.ok());
    EXPECT_TRUE(p->empty());
    ASSERT_TRUE(fw.deleteTable().ok());
    ASSERT_TRUE(fw.deleteTable().ok()) << "absent table";
    auto l = fw.listTable();
    EXPECT_FALSE(l.ok());
  });
}

TEST_F(NftNetns, BadRulesChangeNothing) {
  applyOnNode(projectA());
  std::string before = listOnNode();
  onNode([](Firewall& fw) {
    ProjectRules bad = projectB();
    bad.ports[0].containerAddr = "10.89.1.2";  // outside beta's subnet
    auto r = fw.apply(bad);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().what().find("outside subnet"), std::string::npos) << r.error().str();
    // A kernel-side failure (bridge missing) also leaves the table as it was.
    ProjectRules missing = projectB();
    missing.bridge = "brZ";
    EXPECT_FALSE(fw.apply(missing).ok());
  });
  EXPECT_EQ(listOnNode(), before);
}

}  // namespace
}  // namespace berth::net::nft
