// Unit tests of the generated nft script text (no root, no kernel).
#include "net/nft/rules.h"

#include <gtest/gtest.h>

namespace berth::net::nft {
namespace {

ProjectRules webProject() {
  return ProjectRules{"web",
                      "berth-1a2b",
                      "10.89.0.0/23",
                      "10.89.0.1",
                      {{8080, "10.89.0.2", 80, Proto::kTcp}, {5353, "10.89.0.3", 53, Proto::kUdp}}};
}

int count(const std::string& s, const std::string& what) {
  int n = 0;
  for (auto at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

bool has(const std::string& script, const std::string& line) {
  return script.find(line + "\n") != std::string::npos;
}

TEST(NftRules, PublishedPortsAreDnatedInPreroutingAndOutput) {
  std::string s = projectChainsScript(webProject());
  for (std::string hook : {"prerouting", "output"}) {
    EXPECT_TRUE(has(s, "add rule inet berth proj-web-" + hook +
                           " meta nfproto ipv4 fib daddr type local tcp dport 8080 "
                           "dnat ip to 10.89.0.2:80"))
        << s;
    EXPECT_TRUE(has(s, "add rule inet berth proj-web-" + hook +
                           " meta nfproto ipv4 fib daddr type local udp dport 5353 "
                           "dnat ip to 10.89.0.3:53"))
        << s;
  }
}

TEST(NftRules, MasqueradeOutboundHairpinAndLoopback) {
  std::string s = projectChainsScript(webProject());
  std::string post = "add rule inet berth proj-web-postrouting ";
  EXPECT_TRUE(has(s, post + "ip saddr 10.89.0.0/23 oifname != \"berth-1a2b\" masquerade")) << s;
  EXPECT_TRUE(has(s, post + "oifname \"berth-1a2b\" ip saddr 10.89.0.0/23 ip daddr 10.89.0.0/23 "
                            "ct status dnat masquerade"));
  EXPECT_TRUE(has(s, post + "oifname \"berth-1a2b\" ip saddr 127.0.0.0/8 masquerade"));
}

TEST(NftRules, ForwardAndInputIsolateTheBridge) {
  std::string s = projectChainsScript(webProject());
  std::string fwd = "add rule inet berth proj-web-forward ";
  EXPECT_TRUE(has(s, fwd + "oifname != \"berth-1a2b\" return"));
  EXPECT_TRUE(has(s, fwd + "ct status dnat accept"));
  EXPECT_TRUE(has(s, fwd + "drop"));
  std::string in = "add rule inet berth proj-web-input ";
  EXPECT_TRUE(has(s, in + "iifname != \"berth-1a2b\" return"));
  EXPECT_TRUE(has(s, in + "ip daddr 10.89.0.1 udp dport 53 accept"));
  EXPECT_TRUE(has(s, in + "ip daddr 10.89.0.1 tcp dport 53 accept"));
  // The drop comes last: DNS and answers are accepted before it.
  EXPECT_LT(s.find(in + "ip daddr 10.89.0.1 tcp dport 53 accept"), s.find(in + "drop"));
}

TEST(NftRules, ProjectChainsAreFlushedBeforeRefill) {
  std::string s = projectChainsScript(webProject());
  for (std::string_view hook : kHooks) {
    std::string chain = chainName("web", hook);
    auto flush = s.find("flush chain inet berth " + chain + "\n");
    ASSERT_NE(flush, std::string::npos) << hook;
    EXPECT_LT(s.find("add chain inet berth " + chain + "\n"), flush);
    auto firstRule = s.find("add rule inet berth " + chain + " ");
    if (firstRule != std::string::npos) {
      EXPECT_LT(flush, firstRule);
    }
  }
}

TEST(NftRules, BaseScriptJumpsOncePerProjectSorted) {
  std::string s = baseScript({"b", "a", "b"});
  EXPECT_TRUE(has(s, "add table inet berth"));
  EXPECT_TRUE(has(s,
                  "add chain inet berth prerouting { type nat hook prerouting priority -100; "
                  "policy accept; }"));
  EXPECT_TRUE(has(s,
                  "add chain inet berth forward { type filter hook forward priority 0; "
                  "policy accept; }"));
  EXPECT_TRUE(has(s, "flush chain inet berth input"));
  auto a = s.find("add rule inet berth forward jump proj-a-forward\n");
  auto b = s.find("add rule inet berth forward jump proj-b-forward\n");
  ASSERT_NE(a, std::string::npos);
  ASSERT_NE(b, std::string::npos);
  EXPECT_LT(a, b);
  EXPECT_EQ(count(s, "jump proj-b-forward"), 1) << "duplicate jump";
}

TEST(NftRules, ApplyKeepsOtherProjects) {
  auto s = applyScript(webProject(), {"db", "web"});
  ASSERT_TRUE(s.ok()) << s.error().str();
  EXPECT_TRUE(has(*s, "add rule inet berth postrouting jump proj-db-postrouting"));
  EXPECT_TRUE(has(*s, "add rule inet berth postrouting jump proj-web-postrouting"));
  EXPECT_EQ(s->find("delete chain"), std::string::npos);
  // db's chains are not touched beyond the jumps to them.
  EXPECT_EQ(count(*s, "proj-db-"), 10);  // 5 "add chain" (no-ops) + 5 jumps
}

TEST(NftRules, RemoveDeletesOnlyThatProject) {
  auto s = removeScript("web", {"db", "web"});
  ASSERT_TRUE(s.ok());
  for (std::string_view hook : kHooks) {
    EXPECT_TRUE(has(*s, "delete chain inet berth " + chainName("web", hook)));
    EXPECT_FALSE(has(*s, "delete chain inet berth " + chainName("db", hook)));
  }
  EXPECT_EQ(s->find("jump proj-web-"), std::string::npos);
  EXPECT_NE(s->find("jump proj-db-forward"), std::string::npos);
  auto none = removeScript("gone", {"db"});
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, "");
}

TEST(NftRules, ReconcileDeletesStaleAndRejectsDuplicates) {
  auto s = reconcileScript({webProject()}, {"old", "web"});
  ASSERT_TRUE(s.ok()) << s.error().str();
  EXPECT_TRUE(has(*s, "delete chain inet berth proj-old-forward"));
  EXPECT_FALSE(has(*s, "delete chain inet berth proj-web-forward"));
  EXPECT_EQ(s->find("jump proj-old-"), std::string::npos);
  EXPECT_FALSE(reconcileScript({webProject(), webProject()}, {}).ok());
}

TEST(NftRules, ChainNamesRoundTrip) {
  EXPECT_EQ(projectOfChain("proj-my-app-postrouting"), "my-app");
  EXPECT_EQ(projectOfChain("proj-x-input-forward"), "x-input");
  EXPECT_EQ(projectOfChain("forward"), "");
  EXPECT_EQ(projectOfChain("proj--input"), "");
  EXPECT_EQ(projectsOfChains({"input", "proj-a-input", "proj-a-forward", "proj-b.c-output"}),
            (std::vector<std::string>{"a", "b.c"}));
}

TEST(NftRules, ValidationRejectsBadInput) {
  EXPECT_TRUE(validate(webProject()).ok());
  auto bad = [](auto mutate) {
    ProjectRules r = webProject();
    mutate(r);
    return validate(r);
  };
  auto e = bad([](ProjectRules& r) { r.project = "Web\"; flush ruleset"; });
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().what().find("project name"), std::string::npos);
  EXPECT_FALSE(bad([](ProjectRules& r) { r.bridge = "br\" accept"; }).ok());
  EXPECT_FALSE(bad([](ProjectRules& r) { r.bridge = "a-very-long-bridge"; }).ok());
  EXPECT_FALSE(bad([](ProjectRules& r) { r.subnet = "10.89.0.1/23"; }).ok());
  EXPECT_FALSE(bad([](ProjectRules& r) { r.subnet = "10.89.0.0"; }).ok());
  EXPECT_FALSE(bad([](ProjectRules& r) { r.gateway = "10.90.0.1"; }).ok());
  auto outside = bad([](ProjectRules& r) { r.ports[0].containerAddr = "10.89.2.2"; });
  ASSERT_FALSE(outside.ok());
  EXPECT_NE(outside.error().what().find("outside subnet"), std::string::npos)
      << outside.error().what();
  EXPECT_FALSE(bad([](ProjectRules& r) { r.ports[0].hostPort = 0; }).ok());
  EXPECT_FALSE(bad([](ProjectRules& r) { r.ports.push_back(r.ports[0]); }).ok());
  // Same host port on the other protocol is fine.
  EXPECT_TRUE(bad([](ProjectRules& r) {
                r.ports.push_back({8080, "10.89.0.2", 80, Proto::kUdp});
              }).ok());
}

}  // namespace
}  // namespace berth::net::nft
