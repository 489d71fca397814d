// The persistent IPAM store: state survives reopening, recreated containers
// keep their addresses, two threads and two processes on one file never get
// the same address, and a corrupt file is an error naming it, left as it is.
#include "net/ipam/store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

#include "runtime/sys/fs.h"
#include "tests/support/temp_dir.h"

namespace berth::net::ipam {
namespace {

using ::testing::HasSubstr;
using berth::tests::TempDir;

Ipv4Address ip(const char* text) {
  return *Ipv4Address::parse(text);
}

IpamStore storeAt(const TempDir& dir) {
  return *IpamStore::open(dir / "networks/ipam.json");
}

TEST(IpamStoreTest, MissingFileIsAnEmptyState) {
  TempDir dir;
  IpamStore store = storeAt(dir);
  auto networks = store.networks();
  ASSERT_TRUE(networks) << networks.error().str();
  EXPECT_TRUE(networks->empty());
  auto none = store.lookup("web", "c1");
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
  // Changing nothing writes nothing.
  EXPECT_EQ(*store.release("web", "c1"), false);
  EXPECT_FALSE(sys::pathExists(store.path()));
  auto badName = store.ensureNetwork("my net");
  ASSERT_FALSE(badName);
  EXPECT_THAT(badName.error().str(), HasSubstr("invalid network name"));
  EXPECT_FALSE(sys::pathExists(store.path()));
}

TEST(IpamStoreTest, NetworksAndLeasesSurviveReopening) {
  TempDir dir;
  {
    IpamStore store = storeAt(dir);
    EXPECT_EQ(store.ensureNetwork("alpha")->str(), "10.89.0.0/23");
    EXPECT_EQ(store.ensureNetwork("beta")->str(), "10.89.2.0/23");
    EXPECT_EQ(store.ensureNetwork("alpha")->str(), "10.89.0.0/23");
    EXPECT_EQ(store.allocate("alpha", "c1")->str(), "10.89.0.2");
    EXPECT_EQ(store.allocate("beta", "c1")->str(), "10.89.2.2");
  }
  IpamStore again = storeAt(dir);
  EXPECT_EQ((*again.lookup("alpha", "c1"))->str(), "10.89.0.2");
  EXPECT_EQ(again.allocate("alpha", "c2")->str(), "10.89.0.3");
  auto beta = again.network("beta");
  ASSERT_TRUE(beta && *beta);
  EXPECT_EQ((*beta)->subnet.str(), "10.89.2.0/23");
  EXPECT_EQ((*beta)->gateway.str(), "10.89.2.1");
  EXPECT_EQ((*beta)->leases.size(), 1u);
  EXPECT_EQ(again.networks()->size(), 2u);
}

TEST(IpamStoreTest, RecreatedContainerKeepsItsAddress) {
  TempDir dir;
  Ipv4Address first;
  {
    IpamStore store = storeAt(dir);
    ASSERT_TRUE(store.ensureNetwork("web"));
    ASSERT_TRUE(store.allocate("web", "other"));
    first = *store.allocate("web", "app");
  }
  // berthd restarted, container recreated with the same id.
  IpamStore store = storeAt(dir);
  EXPECT_EQ(*store.allocate("web", "app"), first);
  // Recreated under a new id, asking for the old address after releasing it.
  EXPECT_EQ(*store.release("web", "app"), true);
  EXPECT_EQ(*store.allocate("web", "app-2", first), first);
  auto clash = store.allocate("web", "app-3", first);
  ASSERT_FALSE(clash);
  EXPECT_THAT(clash.error().str(), HasSubstr("in use by container app-2"));
}

TEST(IpamStoreTest, ReleaseAndReuseAndRemove) {
  TempDir dir;
  auto pool = SubnetPool::make(*Subnet::parse("10.89.0.0/16"), 29);  // five leases per network
  IpamStore store = *IpamStore::open(dir / "ipam.json", *pool);
  ASSERT_EQ(store.ensureNetwork("n")->str(), "10.89.0.0/29");
  for (const char* id : {"a", "b", "c", "d", "e"}) ASSERT_TRUE(store.allocate("n", id));
  auto full = store.allocate("n", "f");
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().str(), "subnet 10.89.0.0/29 is full (5 containers)");
  Ipv4Address freed = **store.lookup("n", "c");
  EXPECT_EQ(*store.release("n", "c"), true);
  EXPECT_EQ(*store.release("n", "c"), false);
  EXPECT_EQ(*store.allocate("n", "f"), freed);

  EXPECT_EQ(*store.removeNetwork("n"), true);
  EXPECT_EQ(*store.removeNetwork("n"), false);
  EXPECT_FALSE(*store.lookup("n", "a"));
  auto gone = store.allocate("n", "a");
  ASSERT_FALSE(gone);
  EXPECT_THAT(gone.error().str(), HasSubstr("no such network"));
  // The removed network's subnet is the first one handed out again.
  EXPECT_EQ(store.ensureNetwork("m")->str(), "10.89.0.0/29");
}

TEST(IpamStoreTest, FullPoolIsAClearError) {
  TempDir dir;
  auto pool = SubnetPool::make(*Subnet::parse("10.89.0.0/22"), 23);
  IpamStore store = *IpamStore::open(dir / "ipam.json", *pool);
  ASSERT_TRUE(store.ensureNetwork("a"));
  ASSERT_TRUE(store.ensureNetwork("b"));
  auto full = store.ensureNetwork("c");
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().str(),
            "create network c: address pool 10.89.0.0/22 is full: 2 project networks of /23");
}

TEST(IpamStoreTest, PrivateNetworksTakeSmallSubnetsFromTheSamePool) {
  TempDir dir;
  IpamStore store = storeAt(dir);
  EXPECT_EQ(store.ensureNetwork("proj")->str(), "10.89.0.0/23");
  EXPECT_EQ(store.ensureNetwork("c-1", 30)->str(), "10.89.2.0/30");
  EXPECT_EQ(store.ensureNetwork("c-2", 30)->str(), "10.89.2.4/30");
  // A project after them skips the /23 they occupy; an existing network
  // keeps its subnet whatever size is asked.
  EXPECT_EQ(store.ensureNetwork("proj2")->str(), "10.89.4.0/23");
  EXPECT_EQ(store.ensureNetwork("c-1")->str(), "10.89.2.0/30");
  // A /30 holds exactly one container besides the gateway.
  EXPECT_EQ(store.allocate("c-1", "x")->str(), "10.89.2.2");
  EXPECT_FALSE(store.allocate("c-1", "y"));
  auto bad = store.ensureNetwork("c-3", 31);
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.error().str(), HasSubstr("create network c-3"));
}

TEST(IpamStoreTest, CorruptFileIsAnErrorNamingItAndIsNotReset) {
  TempDir dir;
  std::string path = dir / "ipam.json";
  const std::vector<std::string> corrupt = {
      "",
      "{\"version\":1,\"networks\":{\"web\":{\"subnet\":\"10.89.0.0/"
      "23\",\"leases\":{\"a\":\"10.89.0.2\"",
      "[]",
      "{\"version\":2,\"networks\":{}}",
      "{\"version\":1,\"networks\":{\"web\":{\"subnet\":\"10.89.0.1/23\"}}}",
      "{\"version\":1,\"networks\":{\"web\":{\"subnet\":\"10.89.0.0/"
      "23\",\"leases\":{\"a\":\"10.89.0.2\","
      "\"b\":\"10.89.0.2\"}}}}",
      "{\"version\":1,\"networks\":{\"web\":{\"subnet\":\"10.89.0.0/"
      "23\",\"leases\":{\"a\":\"10.89.9.2\"}}}}",
      "{\"version\":1,\"networks\":{\"web\":{\"subnet\":\"10.89.0.0/23\",\"leases\":{\"a\":7}}}}",
      "{\"version\":1,\"networks\":{\"\":{\"subnet\":\"10.89.0.0/23\"}}}",
      "{\"version\":1,\"networks\":{\"a\":{\"subnet\":\"10.89.0.0/"
      "23\"},\"b\":{\"subnet\":\"10.89.0.0/24\"}}}",
  };
  for (const std::string& text : corrupt) {
    ASSERT_TRUE(sys::writeFileAtomic(path, text));
    IpamStore store = *IpamStore::open(path);
    auto allocated = store.allocate("web", "x");
    ASSERT_FALSE(allocated) << text;
    EXPECT_THAT(allocated.error().str(), HasSubstr("corrupt IPAM state file " + path)) << text;
    auto ensured = store.ensureNetwork("other");
    ASSERT_FALSE(ensured) << text;
    EXPECT_THAT(ensured.error().str(), HasSubstr(path));
    auto listed = store.networks();
    ASSERT_FALSE(listed) << text;
    EXPECT_EQ(*sys::readFile(path), text) << "the corrupt file was changed";
  }
}

TEST(IpamStoreTest, FormatRoundTrips) {
  std::map<std::string, Leases, std::less<>> state;
  state.emplace("web", *Leases::make(*Subnet::parse("10.89.0.0/23")));
  ASSERT_TRUE(state.at("web").allocate("a"));
  ASSERT_TRUE(state.at("web").allocate("b", ip("10.89.1.9")));
  std::string text = formatIpamState(state);
  auto parsed = parseIpamState(text, "test");
  ASSERT_TRUE(parsed) << parsed.error().str();
  EXPECT_EQ(formatIpamState(*parsed), text);
  EXPECT_EQ(parsed->at("web").last(), state.at("web").last());
}

// Many allocations from `threads` store objects on one file at once; every
// address must be distinct and every lease saved.
TEST(IpamStoreTest, ConcurrentThreadsNeverShareAnAddress) {
  TempDir dir;
  ASSERT_TRUE(storeAt(dir).ensureNetwork("web"));
  constexpr int kThreads = 4;
  constexpr int kEach = 30;
  std::vector<std::vector<Ipv4Address>> got(kThreads);
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      IpamStore store = storeAt(dir);
      for (int i = 0; i < kEach; ++i) {
        auto address = store.allocate("web", "t" + std::to_string(t) + "-" + std::to_string(i));
        if (!address) {
          errors[t] = address.error().str();
          return;
        }
        got[t].push_back(*address);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  std::set<uint32_t> seen;
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(errors[t], "");
    for (Ipv4Address address : got[t])
      EXPECT_TRUE(seen.insert(address.bits).second) << address.str();
  }
  EXPECT_EQ(seen.size(), size_t{kThreads * kEach});
  EXPECT_EQ((*storeAt(dir).network("web"))->leases.size(), size_t{kThreads * kEach});
}

TEST(IpamStoreTest, ConcurrentProcessesNeverShareAnAddress) {
  TempDir dir;
  ASSERT_TRUE(storeAt(dir).ensureNetwork("web"));
  constexpr int kProcesses = 3;
  constexpr int kEach = 30;
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      IpamStore store = storeAt(dir);
      for (int i = 0; i < kEach; ++i) {
        if (!store.allocate("web", "p" + std::to_string(p) + "-" + std::to_string(i))) ::_exit(1);
      }
      ::_exit(0);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  auto web = storeAt(dir).network("web");
  ASSERT_TRUE(web && *web) << (web ? "" : web.error().str());
  std::set<uint32_t> seen;
  for (const auto& [id, address] : (*web)->leases)
    EXPECT_TRUE(seen.insert(address.bits).second) << address.str();
  EXPECT_EQ((*web)->leases.size(), size_t{kProcesses * kEach});
  EXPECT_EQ(seen.size(), size_t{kProcesses * kEach});
}

}  // namespace
}  // namespace berth::net::ipam
