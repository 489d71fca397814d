// A container's spec -> its project-network attach request
// (agent/engine/container_network.h): --publish parsing, hostname and
// aliases, and the spec checks that refuse a bad --publish at create.
#include "agent/engine/container_network.h"

#include <gtest/gtest.h>

#include "agent/engine/spec_options.h"

namespace berth::agent::engine {
namespace {

TEST(ContainerNetwork, ParsePublish) {
  auto tcp = parsePublish("8080:80");
  ASSERT_TRUE(tcp) << tcp.error().str();
  EXPECT_EQ(tcp->hostPort, 8080);
  EXPECT_EQ(tcp->containerPort, 80);
  EXPECT_EQ(tcp->proto, net::nft::Proto::kTcp);
  auto udp = parsePublish("5353:53/udp");
  ASSERT_TRUE(udp);
  EXPECT_EQ(udp->hostPort, 5353);
  EXPECT_EQ(udp->containerPort, 53);
  EXPECT_EQ(udp->proto, net::nft::Proto::kUdp);
  EXPECT_TRUE(parsePublish("1:65535/tcp"));
  for (const char* bad :
       {"80", "0:80", "80:0", "65536:80", "a:80", "80:80/sctp", ":80", "80:", "8080:80x", ""}) {
    auto parsed = parsePublish(bad);
    EXPECT_FALSE(parsed) << bad;
    if (!parsed) {
      EXPECT_NE(parsed.error().what().find("published port"), std::string::npos) << bad;
    }
  }
}

TEST(ContainerNetwork, AttachRequestNamesAndPorts) {
  ContainerRecord r;
  r.id = std::string(64, 'a');
  r.name = "web";
  // No --network: a private /30 network of its own, named after its id.
  auto own = attachRequestFor(r);
  ASSERT_TRUE(own) << own.error().str();
  EXPECT_EQ(own->network, "c-aaaaaaaaaaaa");
  EXPECT_EQ(own->prefix, kPrivateNetworkPrefix);
  EXPECT_EQ(own->hostname, "web");
  // --network none: no network at all (loopback only).
  r.spec.add_networks("none");
  auto none = attachRequestFor(r);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->network.empty());
  r.spec.clear_networks();

  r.spec.add_networks("proj");
  r.spec.add_aliases("www");
  r.spec.add_aliases("web");  // the name again: not twice
  r.spec.add_publish("18080:80");
  auto request = attachRequestFor(r);
  ASSERT_TRUE(request) << request.error().str();
  EXPECT_EQ(request->network, "proj");
  EXPECT_EQ(request->prefix, 0);  // the daemon's project size
  EXPECT_EQ(request->containerId, r.id);
  EXPECT_EQ(request->hostname, "web");
  EXPECT_EQ(request->aliases, std::vector<std::string>{"www"});
  ASSERT_EQ(request->publish.size(), 1u);
  EXPECT_EQ(request->publish[0].hostPort, 18080);

  r.spec.set_hostname("front");
  request = attachRequestFor(r);
  ASSERT_TRUE(request);
  EXPECT_EQ(request->hostname, "front");
  EXPECT_EQ(request->aliases, (std::vector<std::string>{"web", "www"}));
}

TEST(ContainerNetwork, BadPublishRefusedAtCreate) {
  pb::ContainerSpec spec;
  spec.set_image("busybox");
  spec.add_publish("80");
  EXPECT_FALSE(validateSpec(spec));
  spec.clear_publish();
  spec.add_publish("8080:80/udp");
  EXPECT_TRUE(validateSpec(spec));
  spec.add_networks("host");
  auto host = validateSpec(spec);
  ASSERT_FALSE(host);
  EXPECT_NE(host.error().what().find("--network host is not supported"), std::string::npos);
}

TEST(ContainerNetwork, WarningsOnlyWithoutNetworking) {
  pb::ContainerSpec spec;
  spec.add_networks("proj");
  spec.add_publish("8080:80");
  EXPECT_EQ(unsupportedWarnings(spec, /*networking=*/true).size(), 0u);
  EXPECT_EQ(unsupportedWarnings(spec, /*networking=*/false).size(), 2u);
  spec.clear_networks();  // -p on the container's own network
  EXPECT_EQ(unsupportedWarnings(spec, /*networking=*/true).size(), 0u);
  spec.add_networks("none");
  EXPECT_EQ(unsupportedWarnings(spec, /*networking=*/true).size(), 1u);  // -p with no network
}

TEST(ContainerNetwork, HostnameIsTheName) {
  pb::ContainerSpec spec;
  spec.add_networks("proj");
  RunOptions o = runOptionsFor(spec, std::string(64, 'b'), "web", "/berth/x", "/rootfs");
  EXPECT_EQ(o.hostname, "web");
  spec.clear_networks();
  o = runOptionsFor(spec, std::string(64, 'b'), "web", "/berth/x", "/rootfs");
  EXPECT_EQ(o.hostname, "web");  // its own network names it the same way
  spec.set_hostname("front");
  o = runOptionsFor(spec, std::string(64, 'b'), "web", "/berth/x", "/rootfs");
  EXPECT_EQ(o.hostname, "front");
}

}  // namespace
}  // namespace berth::agent::engine
