// Integration tests of ProjectNetworks (root). Each test runs the whole
// service in a forked child that has unshared a fresh network and mount
// namespace: that child is the "node", its bridges, rules, DNS sockets and
// pinned container namespaces vanish with it, so nothing leaks even when a
// test fails halfway, and the host's network namespace is never touched.
// Containers are the namespaces attach() creates; traffic is sent only
// between them and the node.
#include "net/network/network.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "net/dns/packet.h"
#include "net/netlink/naming.h"
#include "net/netlink/socket.h"
#include "net/network/kernel.h"
#include "net/nft/firewall.h"
#include "runtime/sys/fd.h"
#include "runtime/sys/fs.h"

namespace berth::net::network {
namespace {

using sys::UniqueFd;

struct Dirs {
  std::string data;
  std::string run;
  std::string resolvConf;
};

// Runs `body` in a child process inside its own network and mount
// namespaces (the node); its failures fail the test through the exit code.
void inNode(const std::function<void(const Dirs&)>& body) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  char tmpl[] = "/tmp/berth-net-network-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string root = tmpl;
  Dirs dirs{root + "/data", root + "/run", root + "/resolv.conf"};
  ASSERT_TRUE(sys::writeFileAtomic(dirs.resolvConf, "# no upstreams\n"));
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    alarm(120);  // a hung test must not hang the suite
    if (unshare(CLONE_NEWNET | CLONE_NEWNS) != 0 ||
        mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        // /sys/class/net shows the devices of the netns that mounted sysfs.
        mount("sysfs", "/sys", "sysfs", 0, nullptr) != 0 ||
        std::system("ip link set lo up") != 0) {
      perror("set up the node namespaces");
      _exit(2);
    }
    body(dirs);
    fflush(stdout);
    _exit(::testing::Test::HasFailure() ? 1 : 0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "node child status " << status;
  EXPECT_TRUE(sys::removeAll(root));
}

std::unique_ptr<ProjectNetworks> openNetworks(const Dirs& dirs) {
  auto networks = ProjectNetworks::open({dirs.data, dirs.run, "10.89.0.0/16", 23, dirs.resolvConf});
  EXPECT_TRUE(networks) << networks.error().str();
  return networks ? std::move(*networks) : nullptr;
}

sockaddr_in addrOf(const std::string& ip, int port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  inet_pton(AF_INET, ip.c_str(), &sa.sin_addr);
  return sa;
}

UniqueFd openNetns(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  EXPECT_TRUE(fd) << "open " << path;
  return fd;
}

UniqueFd socketIn(int netnsFd, int type) {
  auto fd = netlink::socketInNetns(netnsFd, AF_INET, type | SOCK_CLOEXEC, 0);
  EXPECT_TRUE(fd) << fd.error().str();
  return fd ? std::move(*fd) : UniqueFd();
}

// Sends a datagram from namespace `from` to `to`:7000 where a socket in
// namespace `toNetns` listens; returns the sender address the receiver saw
// ("" when nothing arrived within `timeoutMs`).
std::string udpExchange(int from, int toNetns, const std::string& to, int timeoutMs = 1500) {
  UniqueFd server = socketIn(toNetns, SOCK_DGRAM);
  UniqueFd client = socketIn(from, SOCK_DGRAM);
  sockaddr_in any = addrOf("0.0.0.0", 7000);
  if (bind(server.get(), reinterpret_cast<sockaddr*>(&any), sizeof any) != 0) return "bind failed";
  sockaddr_in dst = addrOf(to, 7000);
  if (sendto(client.get(), "?", 1, 0, reinterpret_cast<sockaddr*>(&dst), sizeof dst) != 1) return "";
  pollfd p{server.get(), POLLIN, 0};
  if (poll(&p, 1, timeoutMs) <= 0) return "";
  char buf[16];
  sockaddr_in peer{};
  socklen_t len = sizeof peer;
  if (recvfrom(server.get(), buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&peer), &len) < 0) {
    return "";
  }
  char text[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &peer.sin_addr, text, sizeof text);
  // The reply proves the way back works too.
  if (sendto(server.get(), "!", 1, 0, reinterpret_cast<sockaddr*>(&peer), len) != 1) return "";
  pollfd c{client.get(), POLLIN, 0};
  if (poll(&c, 1, timeoutMs) <= 0) return "no reply";
  return text;
}

// Connects `client` (non-blocking) to ip:port, accepts on `listener` (the
// container's socket) and returns what the client read back ("" on timeout).
std::string tcpExchange(int client, int listener, const std::string& ip, int port,
                        int timeoutMs = 2000) {
  sockaddr_in dst = addrOf(ip, port);
  if (connect(client, reinterpret_cast<sockaddr*>(&dst), sizeof dst) != 0 &&
      errno != EINPROGRESS) {
    return "";
  }
  pollfd p{listener, POLLIN, 0};
  if (poll(&p, 1, timeoutMs) <= 0) return "";
  UniqueFd conn(accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
  if (!conn || write(conn.get(), "hi", 2) != 2) return "";
  pollfd c{client, POLLIN, 0};
  if (poll(&c, 1, timeoutMs) <= 0) return "";
  char buf[4] = {};
  if (read(client, buf, sizeof buf - 1) <= 0) return "";
  return buf;
}

struct DnsAnswer {
  int rcode = -1;  // -1: no response in time
  std::vector<std::string> addresses;
};

// An A query for `name` sent over UDP from inside `netnsFd` to server:53.
DnsAnswer queryA(int netnsFd, const std::string& server, const std::string& name,
                 int timeoutMs = 2000) {
  std::vector<uint8_t> q = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
  EXPECT_TRUE(dns::appendName(name, q));
  q.insert(q.end(), {0, dns::rtype::kA, 0, dns::kClassIn});
  UniqueFd fd = socketIn(netnsFd, SOCK_DGRAM);
  sockaddr_in dst = addrOf(server, 53);
  DnsAnswer answer;
  if (sendto(fd.get(), q.data(), q.size(), 0, reinterpret_cast<sockaddr*>(&dst), sizeof dst) < 0) {
    return answer;
  }
  pollfd p{fd.get(), POLLIN, 0};
  if (poll(&p, 1, timeoutMs) <= 0) return answer;
  uint8_t r[1500];
  ssize_t n = recv(fd.get(), r, sizeof r, 0);
  if (n < static_cast<ssize_t>(q.size())) return answer;
  answer.rcode = r[3] & 0x0f;
  int count = r[6] << 8 | r[7];
  size_t at = q.size();  // the question is echoed as sent
  for (int i = 0; i < count && at < static_cast<size_t>(n); ++i) {
    if ((r[at] & 0xc0) == 0xc0) {
      at += 2;
    } else {
      while (at < static_cast<size_t>(n) && r[at] != 0) at += r[at] + 1;
      at += 1;
    }
    if (at + 10 > static_cast<size_t>(n)) break;
    int type = r[at] << 8 | r[at + 1];
    int length = r[at + 8] << 8 | r[at + 9];
    at += 10;
    if (type == dns::rtype::kA && length == 4 && at + 4 <= static_cast<size_t>(n)) {
      answer.addresses.push_back(std::to_string(r[at]) + "." + std::to_string(r[at + 1]) + "." +
                                 std::to_string(r[at + 2]) + "." + std::to_string(r[at + 3]));
    }
    at += length;
  }
  return answer;
}

constexpr int kNxDomain = 3;

AttachRequest request(std::string network, std::string id, std::string hostname,
                      std::vector<std::string> aliases = {}, std::vector<PortMapping> ports = {}) {
  return AttachRequest{std::move(network), std::move(id), std::move(hostname), std::move(aliases),
                       std::move(ports)};
}

TEST(ProjectNetworks, ContainersReachAndResolveEachOther) {
  inNode([](const Dirs& dirs) {
    auto networks = openNetworks(dirs);
    ASSERT_TRUE(networks);
    auto info = networks->ensure("shop");
    ASSERT_TRUE(info) << info.error().str();
    EXPECT_EQ(info->subnet, "10.89.0.0/23");
    EXPECT_EQ(info->gateway, "10.89.0.1");
    EXPECT_EQ(info->bridge, netlink::bridgeName("shop"));
    EXPECT_TRUE(linkExists(info->bridge));
    ASSERT_TRUE(networks->ensure("shop"));  // idempotent

    auto web = networks->attach(request("shop", "c1", "web", {"web-1"}));
    ASSERT_TRUE(web) << web.error().str();
    auto db = networks->attach(request("shop", "c2", "db"));
    ASSERT_TRUE(db) << db.error().str();
    EXPECT_EQ(web->gateway, "10.89.0.1");
    EXPECT_EQ(web->prefix, 23);
    EXPECT_EQ(web->netnsPath, dirs.run + "/netns/c1");
    EXPECT_NE(web->address, db->address);
    EXPECT_EQ(web->resolvConf, "search shop\nnameserver 10.89.0.1\n");
    EXPECT_NE(web->hosts.find(web->address + "\tweb web.shop web-1\n"), std::string::npos);
    EXPECT_EQ(web->hostname, "web\n");
    auto hairpin = sys::readFile("/sys/class/net/" + netlink::vethHostName("c1") +
                                 "/brport/hairpin_mode");
    ASSERT_TRUE(hairpin) << hairpin.error().str();
    EXPECT_EQ(*hairpin, "1\n");

    UniqueFd ns1 = openNetns(web->netnsPath);
    UniqueFd ns2 = openNetns(db->netnsPath);
    EXPECT_EQ(udpExchange(ns1.get(), ns2.get(), db->address), web->address);
    EXPECT_EQ(udpExchange(ns2.get(), ns1.get(), web->address), db->address);

    EXPECT_EQ(queryA(ns1.get(), "10.89.0.1", "db").addresses, std::vector{db->address});
    EXPECT_EQ(queryA(ns1.get(), "10.89.0.1", "db.shop").addresses, std::vector{db->address});
    EXPECT_EQ(queryA(ns2.get(), "10.89.0.1", "web-1").addresses, std::vector{web->address});
    EXPECT_EQ(queryA(ns2.get(), "10.89.0.1", "WEB.shop").addresses, std::vector{web->address});
    EXPECT_EQ(queryA(ns2.get(), "10.89.0.1", "nope.shop").rcode, kNxDomain);

    // Stopped: the name is gone at once, the veth and pin too; the lease stays.
    ASSERT_TRUE(networks->detach("c2", false));
    DnsAnswer gone = queryA(ns1.get(), "10.89.0.1", "db.shop");
    EXPECT_EQ(gone.rcode, kNxDomain);
    EXPECT_TRUE(gone.addresses.empty());
    EXPECT_FALSE(linkExists(netlink::vethHostName("c2")));
    EXPECT_FALSE(sys::pathExists(db->netnsPath));
    auto again = networks->attach(request("shop", "c2", "db"));
    ASSERT_TRUE(again) << again.error().str();
    EXPECT_EQ(again->address, db->address);
    EXPECT_EQ(queryA(ns1.get(), "10.89.0.1", "db").addresses, std::vector{db->address});
    ASSERT_TRUE(networks->detach("c2", true));
    ASSERT_TRUE(networks->detach("c1", true));
  });
}

TEST(ProjectNetworks, ProjectsAreIsolated) {
  inNode([](const Dirs& dirs) {
    auto networks = openNetworks(dirs);
    ASSERT_TRUE(networks);
    auto a = networks->attach(request("alpha", "a1", "apple"));
    ASSERT_TRUE(a) << a.error().str();
    auto b = networks->attach(request("beta", "b1", "banana"));
    ASSERT_TRUE(b) << b.error().str();
    EXPECT_NE(a->gateway, b->gateway);
    UniqueFd nsA = openNetns(a->netnsPath);
    UniqueFd nsB = openNetns(b->netnsPath);
    EXPECT_EQ(udpExchange(nsA.get(), nsB.get(), b->address, 500), "");
    EXPECT_EQ(udpExchange(nsB.get(), nsA.get(), a->address, 500), "");
    EXPECT_EQ(queryA(nsA.get(), a->gateway, "apple").addresses, std::vector{a->address});
    EXPECT_TRUE(queryA(nsA.get(), a->gateway, "banana").addresses.empty());
    EXPECT_TRUE(queryA(nsA.get(), a->gateway, "banana.beta").addresses.empty());
    EXPECT_TRUE(queryA(nsB.get(), b->gateway, "apple.alpha").addresses.empty());
    EXPECT_TRUE(networks->detach("a1", true));
    EXPECT_TRUE(networks->detach("b1", true));
  });
}

TEST(ProjectNetworks, PublishedPortReachableFromTheNode) {
  inNode([](const Dirs& dirs) {
    // The node's own address, on an "uplink" (a veth pair: no dummy module
    // here) inside the node namespace.
    ASSERT_EQ(std::system("ip link add bnode0 type veth peer name bnode1 &&"
                          " ip addr add 198.18.0.1/24 dev bnode0 &&"
                          " ip link set bnode0 up && ip link set bnode1 up"), 0);
    auto networks = openNetworks(dirs);
    ASSERT_TRUE(networks);
    auto web = networks->attach(request("shop", "c1", "web", {}, {{8080, 80, nft::Proto::kTcp}}));
    ASSERT_TRUE(web) << web.error().str();
    UniqueFd ns = openNetns(web->netnsPath);
    UniqueFd listener = socketIn(ns.get(), SOCK_STREAM);
    sockaddr_in any = addrOf("0.0.0.0", 80);
    ASSERT_EQ(bind(listener.get(), reinterpret_cast<sockaddr*>(&any), sizeof any), 0);
    ASSERT_EQ(listen(listener.get(), 4), 0);
    UniqueFd client(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    EXPECT_EQ(tcpExchange(client.get(), listener.get(), "198.18.0.1", 8080), "hi");
    UniqueFd local(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    EXPECT_EQ(tcpExchange(local.get(), listener.get(), "127.0.0.1", 8080), "hi");
    // Hairpin: the container reaches its own published port through the node.
    UniqueFd self = socketIn(ns.get(), SOCK_STREAM | SOCK_NONBLOCK);
    EXPECT_EQ(tcpExchange(self.get(), listener.get(), "198.18.0.1", 8080), "hi");
    EXPECT_TRUE(networks->detach("c1", true));
    // Detached: the port is closed again.
    UniqueFd late(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    EXPECT_EQ(tcpExchange(late.get(), listener.get(), "198.18.0.1", 8080, 300), "");
  });
}

TEST(ProjectNetworks, RemoveRefusedWhileAttachedThenLeavesNothing) {
  inNode([](const Dirs& dirs) {
    auto networks = openNetworks(dirs);
    ASSERT_TRUE(networks);
    auto web = networks->attach(request("shop", "c1", "web", {}, {{8080, 80, nft::Proto::kTcp}}));
    ASSERT_TRUE(web) << web.error().str();
    auto refused = networks->remove("shop");
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code(), EBUSY);
    EXPECT_NE(refused.error().what().find("c1"), std::string::npos) << refused.error().str();
    ASSERT_TRUE(networks->inspect("shop"));
    EXPECT_EQ(networks->inspect("shop")->containers, std::vector<std::string>{"c1"});

    ASSERT_TRUE(networks->detach("c1", true));
    auto removed = networks->remove("shop");
    ASSERT_TRUE(removed) << removed.error().str();
    // Gone for its users at once; the kernel objects go in the background.
    EXPECT_TRUE(networks->list().empty());
    EXPECT_FALSE(networks->inspect("shop"));
    networks->settle();
    EXPECT_FALSE(linkExists(netlink::bridgeName("shop")));
    EXPECT_FALSE(linkExists(netlink::vethHostName("c1")));
    auto firewall = nft::Firewall::open();
    ASSERT_TRUE(firewall);
    auto projects = firewall->projects();
    ASSERT_TRUE(projects);
    EXPECT_TRUE(projects->empty());
    EXPECT_TRUE(networks->list().empty());
    EXPECT_FALSE(networks->inspect("shop"));
    EXPECT_FALSE(sys::pathExists(web->netnsPath));
    auto state = sys::readFile(dirs.data + "/networks/attachments.json");
    ASSERT_TRUE(state);
    EXPECT_EQ(state->find("c1"), std::string::npos) << *state;
    auto ipamState = sys::readFile(dirs.data + "/networks/ipam.json");
    ASSERT_TRUE(ipamState);
    EXPECT_EQ(ipamState->find("shop"), std::string::npos) << *ipamState;
    // The DNS address is free again: the network can come back.
    EXPECT_TRUE(networks->ensure("shop"));
  });
}

TEST(ProjectNetworks, TeardownInTheBackgroundNeverBlocksAReuse) {
  inNode([](const Dirs& dirs) {
    auto networks = openNetworks(dirs);
    ASSERT_TRUE(networks);
    // Detach and re-attach at once (a restart): the old veth, maybe still
    // being deleted, must not make the new one fail.
    for (int round = 0; round < 3; ++round) {
      auto web = networks->attach(request("shop", "c1", "web", {}, {}));
      ASSERT_TRUE(web) << "round " << round << ": " << web.error().str();
      ASSERT_TRUE(networks->detach("c1", false));
    }
    // Removed and created again at once: same name, a fresh bridge, and the
    // subnet of the old one only once it is gone.
    ASSERT_TRUE(networks->remove("shop"));
    auto again = networks->attach(request("shop", "c1", "web", {}, {}));
    ASSERT_TRUE(again) << again.error().str();
    EXPECT_TRUE(linkExists(netlink::bridgeName("shop")));
    EXPECT_TRUE(linkExists(netlink::vethHostName("c1")));
    ASSERT_TRUE(networks->detach("c1", true));
    ASSERT_TRUE(networks->remove("shop"));
    networks->settle();
    EXPECT_FALSE(linkExists(netlink::bridgeName("shop")));
    EXPECT_FALSE(linkExists(netlink::vethHostName("c1")));
    EXPECT_TRUE(networks->list().empty());
  });
}

TEST(ProjectNetworks, RecoverAfterRestartRestoresDnsAndRules) {
  inNode([](const Dirs& dirs) {
    auto networks = openNetworks(dirs);
    ASSERT_TRUE(networks);
    AttachRequest webReq = request("shop", "c1", "web", {"www"}, {{8080, 80, nft::Proto::kTcp}});
    AttachRequest dbReq = request("shop", "c2", "db");
    AttachRequest otherReq = request("other", "o1", "odd", {}, {{5353, 53, nft::Proto::kUdp}});
    auto web = networks->attach(webReq);
    ASSERT_TRUE(web) << web.error().str();
    auto db = networks->attach(dbReq);
    ASSERT_TRUE(db) << db.error().str();
    auto other = networks->attach(otherReq);
    ASSERT_TRUE(other) << other.error().str();
    auto firewall = nft::Firewall::open();
    ASSERT_TRUE(firewall);
    auto before = firewall->listTable();
    ASSERT_TRUE(before);

    networks.reset();  // berthd exits; containers keep running
    UniqueFd ns1 = openNetns(web->netnsPath);
    EXPECT_EQ(queryA(ns1.get(), "10.89.0.1", "db", 300).rcode, -1);

    networks = openNetworks(dirs);
    ASSERT_TRUE(networks);
    // "o1" stopped while berthd was away.
    auto recovered = networks->recover({webReq, dbReq});
    ASSERT_TRUE(recovered) << recovered.error().str();
    EXPECT_EQ(queryA(ns1.get(), "10.89.0.1", "db").addresses, std::vector{db->address});
    EXPECT_EQ(queryA(ns1.get(), "10.89.0.1", "www.shop").addresses, std::vector{web->address});
    EXPECT_FALSE(linkExists(netlink::vethHostName("o1")));
    EXPECT_FALSE(sys::pathExists(other->netnsPath));
    EXPECT_TRUE(networks->inspect("other")->containers.empty());
    // Same rules minus the stopped container's published port.
    ASSERT_TRUE(networks->recover({webReq, dbReq}));  // twice: still no duplicates
    auto after = firewall->listTable();
    ASSERT_TRUE(after);
    EXPECT_EQ(after->find("5353"), std::string::npos) << *after;
    auto o1 = networks->attach(otherReq);
    ASSERT_TRUE(o1) << o1.error().str();
    EXPECT_EQ(o1->address, other->address);  // the lease was kept
    auto restored = firewall->listTable();
    ASSERT_TRUE(restored);
    EXPECT_EQ(*restored, *before);
    UniqueFd ns2 = openNetns(db->netnsPath);
    EXPECT_EQ(udpExchange(ns1.get(), ns2.get(), db->address), web->address);
    for (const char* id : {"c1", "c2", "o1"}) EXPECT_TRUE(networks->detach(id, true));
  });
}

}  // namespace
}  // namespace berth::net::network
