// Unit tests of the pure parts of net/network: the hosts, resolv.conf and
// hostname texts a container gets, and the persisted attachment state.
#include <gtest/gtest.h>

#include "net/network/files.h"
#include "net/network/state.h"

namespace berth::net::network {
namespace {

TEST(HostsText, NamesTheContainerBareQualifiedAndByAlias) {
  EXPECT_EQ(hostsText("10.89.0.2", "shop", "web", {"web-1", "web"}),
            "127.0.0.1\tlocalhost\n"
            "::1\tlocalhost ip6-localhost ip6-loopback\n"
            "10.89.0.2\tweb web.shop web-1\n");
}

TEST(HostsText, WithoutNamesOnlyLocalhost) {
  EXPECT_EQ(hostsText("10.89.0.2", "shop", "", {}),
            "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
}

TEST(HostsText, AliasesWithoutHostname) {
  std::string text = hostsText("10.89.0.9", "p", "", {"db"});
  EXPECT_NE(text.find("10.89.0.9\tdb\n"), std::string::npos) << text;
}

TEST(ResolvConfText, GatewayIsTheOnlyNameserver) {
  EXPECT_EQ(resolvConfText("10.89.0.1", "shop"), "search shop\nnameserver 10.89.0.1\n");
}

TEST(HostnameText, OneLineOrNothing) {
  EXPECT_EQ(hostnameText("web"), "web\n");
  EXPECT_EQ(hostnameText(""), "");
}

TEST(AttachmentState, RoundTrips) {
  AttachmentRecords records;
  AttachmentRecord r;
  r.request = {"shop", "c1", "web", {"web-1"}, {{8080, 80, nft::Proto::kTcp}, {5353, 53, nft::Proto::kUdp}}};
  r.address = "10.89.0.2";
  r.netnsPath = "/run/berth/netns/c1";
  records["c1"] = r;
  auto parsed = parseAttachments(formatAttachments(records), "x");
  ASSERT_TRUE(parsed) << parsed.error().str();
  ASSERT_EQ(parsed->size(), 1u);
  const AttachmentRecord& back = parsed->at("c1");
  EXPECT_EQ(back.request.containerId, "c1");
  EXPECT_EQ(back.request.network, "shop");
  EXPECT_EQ(back.request.hostname, "web");
  EXPECT_EQ(back.request.aliases, std::vector<std::string>{"web-1"});
  ASSERT_EQ(back.request.publish.size(), 2u);
  EXPECT_EQ(back.request.publish[1].hostPort, 5353);
  EXPECT_EQ(back.request.publish[1].proto, nft::Proto::kUdp);
  EXPECT_EQ(back.address, "10.89.0.2");
  EXPECT_EQ(back.netnsPath, "/run/berth/netns/c1");
}

TEST(AttachmentState, CorruptFileIsAnErrorNamingIt) {
  auto parsed = parseAttachments("{\"version\":1,\"attachments\":{\"c\":{}}}", "/d/attachments.json");
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.error().str().find("/d/attachments.json"), std::string::npos);
  EXPECT_FALSE(parseAttachments("not json", "f"));
  EXPECT_FALSE(parseAttachments("{\"version\":2,\"attachments\":{}}", "f"));
}

}  // namespace
}  // namespace berth::net::network
