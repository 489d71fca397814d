// Zone lookups, reverse names, resolv.conf parsing and the local answer policy.
#include "net/dns/zone.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "net/dns/resolver.h"
#include "tests/unit/net_dns/query_builder.h"

namespace berth::net::dns {
namespace {

std::vector<std::string> names(std::initializer_list<const char*> list) {
  return {list.begin(), list.end()};
}

class DnsZone : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<IpAddress> web = {IpAddress::v4(10, 89, 0, 2), *IpAddress::parse("fd00::2")};
    ASSERT_TRUE(zone.setHost("web-1", names({"web", "frontend"}), web));
  }
  Zone zone{"Shop"};
  std::vector<Record> out;
};

TEST_F(DnsZone, ResolvesHostnameAliasesAndQualifiedNames) {
  for (const char* name : {"web", "frontend", "web.shop", "frontend.shop"}) {
    out.clear();
    EXPECT_EQ(zone.lookup(name, rtype::kA, out), LookupStatus::kFound) << name;
    ASSERT_EQ(out.size(), 1u) << name;
    EXPECT_EQ(out[0].address, IpAddress::v4(10, 89, 0, 2));
  }
  out.clear();
  EXPECT_EQ(zone.lookup("web", rtype::kAaaa, out), LookupStatus::kFound);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].type, rtype::kAaaa);
  out.clear();
  EXPECT_EQ(zone.lookup("web", rtype::kAny, out), LookupStatus::kFound);
  EXPECT_EQ(out.size(), 2u);
}

TEST_F(DnsZone, NoDataNxDomainAndForeignNames) {
  EXPECT_EQ(zone.lookup("web", rtype::kSoa, out), LookupStatus::kFound);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(zone.lookup("db.shop", rtype::kA, out), LookupStatus::kNoName);
  EXPECT_EQ(zone.lookup("shop", rtype::kA, out), LookupStatus::kFound);
  EXPECT_EQ(zone.lookup("example.com", rtype::kA, out), LookupStatus::kNotOurs);
  EXPECT_EQ(zone.lookup("db", rtype::kA, out), LookupStatus::kNotOurs);
  EXPECT_EQ(zone.lookup("xshop", rtype::kA, out), LookupStatus::kNotOurs);
  EXPECT_TRUE(out.empty());
}

TEST_F(DnsZone, CaseInsensitiveThroughTheCodec) {
  auto q = parseQuery(testing::makeQuery("WEB.SHOP."));
  EXPECT_EQ(zone.lookup(q->name, rtype::kA, out), LookupStatus::kFound);
  EXPECT_EQ(out.size(), 1u);
}

TEST_F(DnsZone, ReverseLookups) {
  EXPECT_EQ(zone.lookup("2.0.89.10.in-addr.arpa", rtype::kPtr, out), LookupStatus::kFound);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].target, "web.shop");
  out.clear();
  std::string v6 = IpAddress::parse("fd00::2")->reverseName();
  EXPECT_EQ(v6, "2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa");
  EXPECT_EQ(zone.lookup(v6, rtype::kPtr, out), LookupStatus::kFound);
  ASSERT_EQ(out.size(), 1u);
  out.clear();
  EXPECT_EQ(zone.lookup("3.0.89.10.in-addr.arpa", rtype::kPtr, out), LookupStatus::kNotOurs);
  EXPECT_EQ(zone.lookup("2.0.89.10.in-addr.arpa", rtype::kA, out), LookupStatus::kFound);
  EXPECT_TRUE(out.empty());
}

TEST(DnsAddress, ReverseNameRoundTripAndRejects) {
  for (const char* text : {"10.89.0.2", "255.0.0.1", "fd00::1:2", "::1"}) {
    auto ip = IpAddress::parse(text);
    ASSERT_TRUE(ip) << text;
    EXPECT_EQ(parseReverseName(ip->reverseName()), ip) << text;
  }
  for (const char* bad :
       {"1.2.3.in-addr.arpa", "01.2.3.4.in-addr.arpa", "256.2.3.4.in-addr.arpa",
        "1.2.3.4.5.in-addr.arpa", "in-addr.arpa", "1.ip6.arpa", "a..b.in-addr.arpa"}) {
    EXPECT_FALSE(parseReverseName(bad)) << bad;
  }
}

TEST_F(DnsZone, RemoveIsImmediateAndReplaceSwapsEverything) {
  EXPECT_TRUE(zone.removeHost("web-1"));
  EXPECT_FALSE(zone.removeHost("web-1"));
  EXPECT_EQ(zone.lookup("web", rtype::kA, out), LookupStatus::kNotOurs);
  EXPECT_EQ(zone.lookup("web.shop", rtype::kA, out), LookupStatus::kNoName);
  EXPECT_EQ(zone.lookup("2.0.89.10.in-addr.arpa", rtype::kPtr, out), LookupStatus::kNotOurs);

  std::vector<IpAddress> a = {IpAddress::v4(10, 89, 0, 5)};
  ASSERT_TRUE(zone.setHost("db-1", names({"db"}), a));
  std::vector<IpAddress> b = {IpAddress::v4(10, 89, 0, 6)};
  ASSERT_TRUE(zone.setHost("db-1", names({"database"}), b));
  EXPECT_EQ(zone.lookup("db", rtype::kA, out), LookupStatus::kNotOurs);
  EXPECT_EQ(zone.lookup("database", rtype::kA, out), LookupStatus::kFound);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].address, b[0]);
  EXPECT_EQ(zone.hostCount(), 1u);
}

TEST_F(DnsZone, SharedNameUnitesAddresses) {
  std::vector<IpAddress> other = {IpAddress::v4(10, 89, 0, 3)};
  ASSERT_TRUE(zone.setHost("web-2", names({"web"}), other));
  EXPECT_EQ(zone.lookup("web", rtype::kA, out), LookupStatus::kFound);
  EXPECT_EQ(out.size(), 2u);
  zone.removeHost("web-1");
  out.clear();
  EXPECT_EQ(zone.lookup("web", rtype::kA, out), LookupStatus::kFound);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].address, other[0]);
}

TEST_F(DnsZone, InvalidNamesChangeNothing) {
  std::vector<IpAddress> a = {IpAddress::v4(10, 89, 0, 9)};
  auto r = zone.setHost("bad", names({"ok", "not ok"}), a);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().what().find("not ok"), std::string::npos);
  EXPECT_EQ(zone.lookup("ok", rtype::kA, out), LookupStatus::kNotOurs);
  EXPECT_FALSE(zone.setHost("bad", names({std::string(64, 'a').c_str()}), a));
  EXPECT_FALSE(zone.setHost("bad", names({"a..b"}), a));
  EXPECT_TRUE(zone.setHost("ok", names({"Trailing.Dot."}), a));
  EXPECT_EQ(zone.lookup("trailing.dot.shop", rtype::kA, out), LookupStatus::kFound);
}

TEST_F(DnsZone, ConcurrentLookupsNeverSeeRemovedHost) {
  std::atomic<bool> removed{false}, stale{false}, done{false};
  std::thread reader([&] {
    std::vector<Record> local;
    while (!done) {
      bool was_removed = removed.load();
      local.clear();
      if (zone.lookup("web", rtype::kA, local) == LookupStatus::kFound && was_removed) stale = true;
    }
  });
  std::vector<IpAddress> a = {IpAddress::v4(10, 89, 0, 7)};
  for (int i = 0; i < 2000; ++i)
    ASSERT_TRUE(zone.setHost("n" + std::to_string(i % 50), names({"x"}), a));
  zone.removeHost("web-1");
  removed = true;
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  done = true;
  reader.join();
  EXPECT_FALSE(stale);
}

TEST(DnsResolvConf, ParsesNameserversToleratingJunk) {
  auto servers = parseResolvConf(
      "# comment\n"
      "search example.com\n"
      "nameserver 192.0.2.1\n"
      "nameserver   2001:db8::53  # trailing comment\n"
      "nameserver\n"
      "nameserver not-an-ip\n"
      "nameserver 192.0.2.2 extra\n"
      "nameserverx 192.0.2.3\n"
      "nameserver 192.0.2.1\n"
      "\tnameserver\t192.0.2.4\r\n"
      "nameserver fe80::1%eth0\n"
      "options ndots:5");
  ASSERT_EQ(servers.size(), 3u);
  EXPECT_EQ(servers[0].str(), "192.0.2.1:53");
  EXPECT_EQ(servers[1].str(), "[2001:db8::53]:53");
  EXPECT_EQ(servers[2].str(), "192.0.2.4:53");
  EXPECT_TRUE(parseResolvConf("").empty());
}

TEST_F(DnsZone, LocalDecisions) {
  auto decide = [&](const std::vector<uint8_t>& bytes, bool can_forward) {
    out.clear();
    auto q = parseQuery(bytes);
    return decideLocally(zone, *q, can_forward, out);
  };
  using testing::makeQuery;
  auto found = decide(makeQuery("web"), true);
  EXPECT_FALSE(found.forward);
  EXPECT_TRUE(found.authoritative);
  EXPECT_EQ(out.size(), 1u);
  EXPECT_EQ(decide(makeQuery("nope.shop"), true).rcode, Rcode::kNxDomain);
  EXPECT_TRUE(decide(makeQuery("example.com"), true).forward);
  EXPECT_EQ(decide(makeQuery("example.com"), false).rcode, Rcode::kRefused);
  EXPECT_EQ(decide(makeQuery("web", {.qclass = 3}), true).rcode, Rcode::kRefused);
  EXPECT_EQ(decide(makeQuery("web", {.qtype = rtype::kAxfr}), true).rcode, Rcode::kRefused);
  EXPECT_EQ(decide(makeQuery("web", {.opcode = 4}), true).rcode, Rcode::kNotImp);
}

}  // namespace
}  // namespace berth::net::dns
