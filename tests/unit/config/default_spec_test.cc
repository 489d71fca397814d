// Unit tests for the default spec (`berth-runtime spec`) and the features
// document (`berth-runtime features`): both must be valid input for the
// runtime itself and carry what runc's equivalents carry.
#include "runtime/config/default_spec.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "runtime/config/features.h"
#include "runtime/config/names.h"
#include "runtime/config/parse.h"
#include "runtime/config/validate.h"
#include "tests/unit/config/testutil.h"

namespace berth::runtime::config {
namespace {

using nlohmann::json;

TEST(DefaultSpec, ParsesAndValidates) {
  for (bool rootless : {false, true}) {
    auto spec = parseSpec(defaultSpecJson(rootless));
    ASSERT_TRUE(spec.ok()) << spec.error().str();
    auto valid = validateSpec(*spec);
    EXPECT_TRUE(valid.ok()) << "rootless=" << rootless << ": " << valid.error().str();
  }
}

TEST(DefaultSpec, MatchesRuncSpecApartFromNames) {
  // Same document as `runc spec` except the version we implement and the hostname.
  for (auto [rootless, fixtureName] :
       {std::pair{false, "runc_spec.json"}, std::pair{true, "runc_spec_rootless.json"}}) {
    json ours = json::parse(defaultSpecJson(rootless));
    json runc = json::parse(testing::fixture(fixtureName));
    EXPECT_EQ(ours["ociVersion"], "1.2.0");
    EXPECT_EQ(ours["hostname"], "berth");
    ours.erase("ociVersion");
    runc.erase("ociVersion");
    ours.erase("hostname");
    runc.erase("hostname");
    if (rootless) {
      // runc writes the euid/egid of whoever ran it; we do the same.
      EXPECT_EQ(ours["linux"]["uidMappings"][0]["hostID"], ::geteuid());
      EXPECT_EQ(ours["linux"]["gidMappings"][0]["hostID"], ::getegid());
      runc["linux"]["uidMappings"][0]["hostID"] = ::geteuid();
      runc["linux"]["gidMappings"][0]["hostID"] = ::getegid();
    }
    EXPECT_EQ(ours, runc) << "rootless=" << rootless << "\nours: " << ours.dump(1)
                          << "\nrunc: " << runc.dump(1);
  }
}

TEST(DefaultSpec, KeepsRuncKeyOrderAndTabs) {
  std::string text = defaultSpecJson(false);
  EXPECT_EQ(text.rfind("{\n\t\"ociVersion\": \"1.2.0\",\n\t\"process\": {", 0), 0u)
      << text.substr(0, 80);
  EXPECT_LT(text.find("\"root\""), text.find("\"mounts\""));
}

TEST(Features, HasTheSpecKeysAndSharedTables) {
  json f = json::parse(featuresJson());
  EXPECT_EQ(f["ociVersionMin"], "1.0.0");
  EXPECT_EQ(f["ociVersionMax"], "1.2.0");
  EXPECT_EQ(f["hooks"].size(), 6u);
  EXPECT_EQ(f["hooks"][0], "prestart");
  EXPECT_EQ(f["mountOptions"].get<std::vector<std::string>>(), knownMountOptions());
  const json& linux = f["linux"];
  EXPECT_EQ(linux["namespaces"].get<std::vector<std::string>>(),
            (std::vector<std::string>{"cgroup", "ipc", "mount", "network", "pid", "time", "user",
                                      "uts"}));
  ASSERT_EQ(linux["capabilities"].size(), 41u);
  EXPECT_EQ(linux["capabilities"][0], "CAP_CHOWN");
  EXPECT_EQ(linux["capabilities"][40], "CAP_CHECKPOINT_RESTORE");
  EXPECT_EQ(
      linux["cgroup"],
      json::parse(R"({"v1":true,"v2":true,"systemd":false,"systemdUser":false,"rdma":false})"));
  const json& seccomp = linux["seccomp"];
  EXPECT_EQ(seccomp["enabled"], true);
  EXPECT_EQ(seccomp["actions"].size(), 9u);
  EXPECT_EQ(seccomp["operators"].size(), 7u);
  EXPECT_TRUE(seccomp["archs"].is_array());
  EXPECT_EQ(seccomp["knownFlags"].size(), 4u);
  for (const auto& flag : seccomp["supportedFlags"]) {
    EXPECT_TRUE(contains(seccompKnownFlags(), flag.get<std::string>())) << flag;
  }
  EXPECT_EQ(linux["apparmor"]["enabled"], false);
  EXPECT_EQ(linux["selinux"]["enabled"], false);
  EXPECT_EQ(linux["intelRdt"]["enabled"], false);
  EXPECT_EQ(f["annotations"]["io.github.berth.runtime.version"], BERTH_VERSION);
}

TEST(Features, AdvertisesEverythingRuncDoes) {
  // Whatever runc 1.1 lists must be accepted by berth too (we list more: time ns, more archs).
  std::string runc =
      R"({"linux":{"namespaces":["cgroup","ipc","mount","network","pid","user","uts"],
    "seccomp":{"actions":["SCMP_ACT_ALLOW","SCMP_ACT_ERRNO","SCMP_ACT_KILL","SCMP_ACT_KILL_PROCESS",
    "SCMP_ACT_KILL_THREAD","SCMP_ACT_LOG","SCMP_ACT_NOTIFY","SCMP_ACT_TRACE","SCMP_ACT_TRAP"]}}})";
  json theirs = json::parse(runc);
  for (const auto& n : theirs["linux"]["namespaces"])
    EXPECT_TRUE(contains(knownNamespaces(), n.get<std::string>()));
  for (const auto& a : theirs["linux"]["seccomp"]["actions"])
    EXPECT_TRUE(contains(seccompActions(), a.get<std::string>()));
  EXPECT_EQ(knownCapabilities().size(), 41u);
  EXPECT_EQ(knownRlimits().size(), 16u);
}

}  // namespace
}  // namespace berth::runtime::config
