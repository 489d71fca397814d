// IPv4 address and subnet arithmetic: strict parsing, formatting, prefix
// math, containment, overlap and host numbering.
#include "net/ipam/subnet.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace berth::net::ipam {
namespace {

using ::testing::HasSubstr;

Ipv4Address ip(const char* text) {
  return *Ipv4Address::parse(text);
}
Subnet net(const char* text) {
  return *Subnet::parse(text);
}

TEST(Ipv4AddressTest, ParsesAndFormatsRoundTrip) {
  for (const char* text : {"0.0.0.0", "10.89.0.1", "255.255.255.255", "192.168.100.7"}) {
    auto parsed = Ipv4Address::parse(text);
    ASSERT_TRUE(parsed) << text << ": " << parsed.error().str();
    EXPECT_EQ(parsed->str(), text);
  }
  EXPECT_EQ(ip("10.89.0.1").bits, 0x0a590001u);
}

TEST(Ipv4AddressTest, RejectsEverythingButAStrictDottedQuad) {
  for (const char* text : {"", "10", "10.89.0", "10.89.0.1.2", "256.0.0.1", "10.089.0.1", "10..0.1",
                           "10.89.0.", ".10.89.0", "10.89.0.1 ", "+1.2.3.4", "1.2.3.-4",
                           "0x0a.0.0.1", "1.2.3.4/24", "99999999999.1.1.1"}) {
    auto parsed = Ipv4Address::parse(text);
    ASSERT_FALSE(parsed) << "accepted \"" << text << "\"";
    EXPECT_THAT(parsed.error().str(), HasSubstr("invalid IPv4 address"));
  }
}

TEST(SubnetTest, ParsesPrefixMath) {
  Subnet pool = net("10.89.0.0/16");
  EXPECT_EQ(pool.str(), "10.89.0.0/16");
  EXPECT_EQ(pool.prefixLength(), 16);
  EXPECT_EQ(pool.mask(), 0xffff0000u);
  EXPECT_EQ(pool.broadcast().str(), "10.89.255.255");
  EXPECT_EQ(pool.size(), 65536u);
  EXPECT_EQ(pool.hostCount(), 65534u);

  Subnet project = net("10.89.2.0/23");
  EXPECT_EQ(project.broadcast().str(), "10.89.3.255");
  EXPECT_EQ(project.hostCount(), 510u);

  Subnet all = net("0.0.0.0/0");
  EXPECT_EQ(all.mask(), 0u);
  EXPECT_EQ(all.size(), uint64_t{1} << 32);
  EXPECT_EQ(all.broadcast().str(), "255.255.255.255");

  Subnet single = net("10.0.0.7/32");
  EXPECT_EQ(single.size(), 1u);
  EXPECT_EQ(single.hostCount(), 0u);
  EXPECT_EQ(net("10.0.0.6/31").hostCount(), 0u);
  EXPECT_EQ(net("10.0.0.4/30").hostCount(), 2u);
}

TEST(SubnetTest, RejectsMalformedAndHostBits) {
  for (const char* text :
       {"10.89.0.0", "10.89.0.0/", "10.89.0.0/33", "10.89.0.0/-1", "10.89.0.0/016", "10.89.0/16",
        "/16", "10.89.0.0/16/2", "10.89.0.0/1a"}) {
    EXPECT_FALSE(Subnet::parse(text)) << "accepted \"" << text << "\"";
  }
  auto hostBits = Subnet::parse("10.89.0.1/16");
  ASSERT_FALSE(hostBits);
  EXPECT_THAT(hostBits.error().str(), HasSubstr("did you mean 10.89.0.0/16"));
}

TEST(SubnetTest, ContainingClearsHostBits) {
  auto subnet = Subnet::containing(ip("10.89.3.77"), 23);
  ASSERT_TRUE(subnet);
  EXPECT_EQ(subnet->str(), "10.89.2.0/23");
  EXPECT_FALSE(Subnet::containing(ip("10.89.3.77"), 33));
}

TEST(SubnetTest, ContainsAndOverlaps) {
  Subnet pool = net("10.89.0.0/16");
  Subnet project = net("10.89.2.0/23");
  EXPECT_TRUE(pool.contains(ip("10.89.0.0")));
  EXPECT_TRUE(pool.contains(ip("10.89.255.255")));
  EXPECT_FALSE(pool.contains(ip("10.90.0.0")));
  EXPECT_FALSE(pool.contains(ip("10.88.255.255")));
  EXPECT_TRUE(project.contains(ip("10.89.3.255")));
  EXPECT_FALSE(project.contains(ip("10.89.4.0")));

  EXPECT_TRUE(pool.contains(project));
  EXPECT_FALSE(project.contains(pool));
  EXPECT_TRUE(pool.overlaps(project));
  EXPECT_TRUE(project.overlaps(pool));
  EXPECT_FALSE(project.overlaps(net("10.89.4.0/23")));
  EXPECT_FALSE(project.overlaps(net("10.89.0.0/23")));
  EXPECT_TRUE(project.overlaps(net("10.89.3.128/25")));
}

TEST(SubnetTest, NthHost) {
  Subnet project = net("10.89.2.0/23");
  EXPECT_EQ(project.host(1)->str(), "10.89.2.1");
  EXPECT_EQ(project.host(256)->str(), "10.89.3.0");
  EXPECT_EQ(project.host(510)->str(), "10.89.3.254");
  EXPECT_FALSE(project.host(0));
  auto past = project.host(511);
  ASSERT_FALSE(past);
  EXPECT_THAT(past.error().str(), HasSubstr("10.89.2.0/23 has no host number 511"));
  EXPECT_FALSE(net("10.0.0.7/32").host(1));
}

}  // namespace
}  // namespace berth::net::ipam
