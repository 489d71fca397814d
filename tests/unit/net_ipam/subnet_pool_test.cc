// Carving project subnets from the pool: first free, never overlapping what
// is taken (whatever its size), a clear error when the pool is full.
#include "net/ipam/subnet_pool.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

namespace berth::net::ipam {
namespace {

using ::testing::HasSubstr;

Subnet net(const char* text) {
  return *Subnet::parse(text);
}

TEST(SubnetPoolTest, DefaultsAre128ProjectsOfSlash23) {
  SubnetPool pool = SubnetPool::defaults();
  EXPECT_EQ(pool.pool().str(), "10.89.0.0/16");
  EXPECT_EQ(pool.prefixLength(), 23);
  EXPECT_EQ(pool.capacity(), 128u);
}

TEST(SubnetPoolTest, CarvesFirstFree) {
  SubnetPool pool = SubnetPool::defaults();
  EXPECT_EQ(pool.carve({})->str(), "10.89.0.0/23");
  EXPECT_EQ(pool.carve({net("10.89.0.0/23")})->str(), "10.89.2.0/23");
  // A hole left by a removed network is reused first.
  EXPECT_EQ(pool.carve({net("10.89.0.0/23"), net("10.89.4.0/23")})->str(), "10.89.2.0/23");
  // Order of `taken` does not matter.
  EXPECT_EQ(pool.carve({net("10.89.2.0/23"), net("10.89.0.0/23")})->str(), "10.89.4.0/23");
}

TEST(SubnetPoolTest, NeverOverlapsTakenSubnetsOfOtherSizes) {
  SubnetPool pool = SubnetPool::defaults();
  // A /24 in the second half of the first /23 still takes that /23.
  EXPECT_EQ(pool.carve({net("10.89.1.0/24")})->str(), "10.89.2.0/23");
  // A big block and a covering subnet from outside the pool.
  EXPECT_EQ(pool.carve({net("10.89.0.0/20")})->str(), "10.89.16.0/23");
  EXPECT_FALSE(pool.carve({net("10.0.0.0/8")}));
  // Subnets outside the pool do not matter.
  EXPECT_EQ(pool.carve({net("10.88.0.0/16"), net("192.168.0.0/23")})->str(), "10.89.0.0/23");
  // A taken subnet nested inside another taken one.
  EXPECT_EQ(pool.carve({net("10.89.0.0/22"), net("10.89.1.0/24"), net("10.89.4.0/24")})->str(),
            "10.89.6.0/23");
}

TEST(SubnetPoolTest, FullPoolIsAClearError) {
  SubnetPool pool = SubnetPool::defaults();
  std::vector<Subnet> taken;
  for (uint64_t i = 0; i < pool.capacity(); ++i) {
    auto subnet = pool.carve(taken);
    ASSERT_TRUE(subnet) << i << ": " << subnet.error().str();
    for (const Subnet& other : taken) ASSERT_FALSE(other.overlaps(*subnet));
    ASSERT_TRUE(pool.pool().contains(*subnet));
    taken.push_back(*subnet);
  }
  auto full = pool.carve(taken);
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().str(), "address pool 10.89.0.0/16 is full: 128 project networks of /23");
}

TEST(SubnetPoolTest, PoolAtTheTopOfTheAddressSpace) {
  auto pool = SubnetPool::make(net("255.255.255.0/24"), 25);
  ASSERT_TRUE(pool);
  EXPECT_EQ(pool->carve({})->str(), "255.255.255.0/25");
  EXPECT_EQ(pool->carve({net("255.255.255.0/25")})->str(), "255.255.255.128/25");
  EXPECT_FALSE(pool->carve({net("255.255.255.0/25"), net("255.255.255.128/25")}));
}

TEST(SubnetPoolTest, RejectsImpossibleSizes) {
  auto tooBig = SubnetPool::make(net("10.89.0.0/16"), 15);
  ASSERT_FALSE(tooBig);
  EXPECT_THAT(tooBig.error().str(), HasSubstr("between /16 and /30"));
  EXPECT_FALSE(SubnetPool::make(net("10.89.0.0/16"), 31));
  EXPECT_TRUE(SubnetPool::make(net("10.89.0.0/16"), 16));
}

}  // namespace
}  // namespace berth::net::ipam
