// Leases of one project network: the gateway and the network/broadcast
// addresses are never leased, no address twice, recreated containers keep
// theirs, release and reuse, and a full /23 (509 containers).
#include "net/ipam/leases.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>

namespace berth::net::ipam {
namespace {

using ::testing::HasSubstr;

Ipv4Address ip(const char* text) {
  return *Ipv4Address::parse(text);
}
Leases leasesOf(const char* cidr) {
  return *Leases::make(*Subnet::parse(cidr));
}

TEST(LeasesTest, GatewayIsReservedFirstLeaseIsSecondHost) {
  Leases leases = leasesOf("10.89.2.0/23");
  EXPECT_EQ(leases.gateway().str(), "10.89.2.1");
  EXPECT_EQ(leases.capacity(), 509u);
  EXPECT_EQ(leases.allocate("a")->str(), "10.89.2.2");
  EXPECT_EQ(leases.allocate("b")->str(), "10.89.2.3");
  EXPECT_EQ(leases.lookup("a")->str(), "10.89.2.2");
  EXPECT_EQ(leases.holder(ip("10.89.2.3")), "b");
  EXPECT_FALSE(leases.lookup("c"));
  EXPECT_EQ(leases.size(), 2u);
}

TEST(LeasesTest, SameIdKeepsItsAddress) {
  Leases leases = leasesOf("10.89.0.0/23");
  Ipv4Address first = *leases.allocate("web");
  ASSERT_TRUE(leases.allocate("db"));
  EXPECT_EQ(*leases.allocate("web"), first);
  EXPECT_EQ(*leases.allocate("web", first), first);
  EXPECT_EQ(leases.size(), 2u);
}

TEST(LeasesTest, PreferredAddressWhenFreeErrorWhenTaken) {
  Leases leases = leasesOf("10.89.0.0/23");
  EXPECT_EQ(leases.allocate("old", ip("10.89.1.7"))->str(), "10.89.1.7");
  // Recreated under a new id: the old one released, the new one asks for it.
  EXPECT_TRUE(leases.release("old"));
  EXPECT_EQ(leases.allocate("new", ip("10.89.1.7"))->str(), "10.89.1.7");

  auto taken = leases.allocate("other", ip("10.89.1.7"));
  ASSERT_FALSE(taken);
  EXPECT_THAT(taken.error().str(), HasSubstr("10.89.1.7 is in use by container new"));
  EXPECT_FALSE(leases.lookup("other"));

  for (const char* reserved : {"10.89.0.0", "10.89.0.1", "10.89.1.255", "10.89.2.5"}) {
    auto bad = leases.allocate("other", ip(reserved));
    ASSERT_FALSE(bad) << reserved;
  }
  EXPECT_THAT(leases.allocate("x", ip("10.89.0.1")).error().str(), HasSubstr("is the gateway"));
  EXPECT_THAT(leases.allocate("x", ip("10.89.2.5")).error().str(),
              HasSubstr("outside 10.89.0.0/23"));
  EXPECT_EQ(leases.size(), 1u);
}

TEST(LeasesTest, MovingToAFreePreferredAddressFreesTheOldOne) {
  Leases leases = leasesOf("10.89.0.0/23");
  Ipv4Address old = *leases.allocate("web");
  EXPECT_EQ(leases.allocate("web", ip("10.89.0.100"))->str(), "10.89.0.100");
  EXPECT_FALSE(leases.holder(old));
  EXPECT_EQ(leases.size(), 1u);
}

TEST(LeasesTest, FullSubnetThenReleaseAndReuse) {
  Leases leases = leasesOf("10.89.2.0/23");
  std::set<uint32_t> seen;
  for (int i = 0; i < 509; ++i) {
    auto address = leases.allocate("c" + std::to_string(i));
    ASSERT_TRUE(address) << i << ": " << address.error().str();
    ASSERT_TRUE(seen.insert(address->bits).second) << "handed out twice: " << address->str();
    ASSERT_NE(*address, leases.gateway());
    ASSERT_TRUE(leases.subnet().contains(*address));
    ASSERT_NE(*address, leases.subnet().network());
    ASSERT_NE(*address, leases.subnet().broadcast());
  }
  auto full = leases.allocate("one-too-many");
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().str(), "subnet 10.89.2.0/23 is full (509 containers)");
  // A container already holding an address still gets it on a full subnet.
  EXPECT_TRUE(leases.allocate("c7"));

  Ipv4Address freed = *leases.lookup("c100");
  EXPECT_TRUE(leases.release("c100"));
  EXPECT_FALSE(leases.release("c100"));
  EXPECT_FALSE(leases.holder(freed));
  EXPECT_EQ(*leases.allocate("newcomer"), freed);
  EXPECT_FALSE(leases.allocate("another"));
}

TEST(LeasesTest, NextFitDoesNotReuseAJustReleasedAddressFirst) {
  Leases leases = leasesOf("10.89.0.0/23");
  Ipv4Address a = *leases.allocate("a");
  ASSERT_TRUE(leases.allocate("b"));
  EXPECT_TRUE(leases.release("a"));
  Ipv4Address c = *leases.allocate("c");
  EXPECT_NE(c, a);
  EXPECT_EQ(c.str(), "10.89.0.4");
}

TEST(LeasesTest, WrapsAroundToFreedAddresses) {
  Leases leases = leasesOf("10.0.0.0/29");  // hosts .1-.6, gateway .1: five leases
  for (const char* id : {"a", "b", "c", "d", "e"}) ASSERT_TRUE(leases.allocate(id));
  EXPECT_EQ(leases.lookup("e")->str(), "10.0.0.6");
  EXPECT_TRUE(leases.release("b"));
  EXPECT_EQ(leases.allocate("f")->str(), "10.0.0.3");
  EXPECT_FALSE(leases.allocate("g"));
}

TEST(LeasesTest, RestoreChecksSavedLeases) {
  Leases leases = leasesOf("10.89.0.0/23");
  EXPECT_TRUE(leases.restore("a", ip("10.89.0.9")));
  EXPECT_FALSE(leases.restore("b", ip("10.89.0.9")));
  EXPECT_FALSE(leases.restore("a", ip("10.89.0.10")));
  EXPECT_FALSE(leases.restore("c", ip("10.89.0.1")));
  EXPECT_FALSE(leases.restore("c", ip("10.89.7.1")));
  EXPECT_FALSE(leases.restore("", ip("10.89.0.11")));
  EXPECT_EQ(leases.lookup("a")->str(), "10.89.0.9");
  EXPECT_NE(leases.allocate("d")->str(), "10.89.0.9");
}

TEST(LeasesTest, RejectsTinySubnetsAndEmptyIds) {
  EXPECT_FALSE(Leases::make(*Subnet::parse("10.0.0.0/31")));
  Leases smallest = leasesOf("10.0.0.0/30");
  EXPECT_EQ(smallest.capacity(), 1u);
  EXPECT_EQ(smallest.allocate("a")->str(), "10.0.0.2");
  EXPECT_FALSE(smallest.allocate("b"));
  EXPECT_FALSE(smallest.allocate(""));
}

TEST(LeasesTest, RejectsIdsThatCannotBeSavedOrShown) {
  Leases leases = leasesOf("10.89.0.0/23");
  for (std::string id : {std::string(), std::string("a b"), std::string("a\nb"),
                         std::string("\xff\xfe"), std::string(256, 'x')}) {
    auto bad = leases.allocate(id);
    ASSERT_FALSE(bad) << id;
    EXPECT_THAT(bad.error().str(), HasSubstr("invalid container id"));
  }
  EXPECT_TRUE(leases.allocate(std::string(255, 'x')));
  EXPECT_EQ(leases.size(), 1u);
}

}  // namespace
}  // namespace berth::net::ipam
