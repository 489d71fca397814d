// Interface naming: stable, short enough for the kernel, distinct per input.
#include "net/netlink/naming.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace berth::net::netlink {
namespace {

TEST(BridgeName, IsStablePrefixedAndFitsIfNameSize) {
  std::string name = bridgeName("virascience");
  EXPECT_EQ(name, bridgeName("virascience"));
  EXPECT_EQ(name.rfind("berth-", 0), 0u);
  EXPECT_LE(name.size(), kMaxIfNameLength);
  EXPECT_TRUE(isValidIfName(name));
  // Pinned: a change would orphan the bridges of running projects.
  EXPECT_EQ(bridgeName(""), "berth-cbf29ce4");
}

TEST(BridgeName, DiffersBetweenProjects) {
  std::set<std::string> names;
  for (int i = 0; i < 2000; ++i) names.insert(bridgeName("project-" + std::to_string(i)));
  EXPECT_EQ(names.size(), 2000u);
  EXPECT_NE(bridgeName("a"), bridgeName("b"));
}

TEST(BridgeName, LongProjectNamesStillFit) {
  std::string name = bridgeName(std::string(300, 'x'));
  EXPECT_LE(name.size(), kMaxIfNameLength);
  EXPECT_TRUE(isValidIfName(name));
}

TEST(VethHostName, FitsAndIsUniquePerContainer) {
  std::set<std::string> names;
  for (int i = 0; i < 10000; ++i) {
    std::string name = vethHostName("0123456789abcdef0123456789abcdef-" + std::to_string(i));
    EXPECT_EQ(name.size(), kMaxIfNameLength);
    EXPECT_EQ(name.rfind("bveth", 0), 0u);
    EXPECT_TRUE(isValidIfName(name));
    names.insert(name);
  }
  EXPECT_EQ(names.size(), 10000u);
  EXPECT_EQ(vethHostName("abc"), vethHostName("abc"));
}

TEST(IsValidIfName, FollowsTheKernelRules) {
  EXPECT_TRUE(isValidIfName("eth0"));
  EXPECT_TRUE(isValidIfName("123456789012345"));
  EXPECT_FALSE(isValidIfName("1234567890123456"));
  EXPECT_FALSE(isValidIfName(""));
  EXPECT_FALSE(isValidIfName("."));
  EXPECT_FALSE(isValidIfName(".."));
  EXPECT_FALSE(isValidIfName("a/b"));
  EXPECT_FALSE(isValidIfName("a:b"));
  EXPECT_FALSE(isValidIfName("a b"));
}

}  // namespace
}  // namespace berth::net::netlink
