// The informational commands: `features` and `spec`, which tools call to
// learn what the runtime supports and to start a bundle.
#include <algorithm>

#include "runtime/sys/fs.h"
#include "tests/integration/cli/harness.h"

namespace berth::tests::cli {
namespace {

class CommandsTest : public RuntimeTest {};

TEST_F(CommandsTest, FeaturesPrintsOciVersionRange) {
  auto r = runtime({"features"});
  ASSERT_EQ(r.exitCode, 0) << r.describe();
  Json features = Json::parse(r.out, nullptr, false);
  ASSERT_TRUE(features.is_object()) << r.out;
  ASSERT_TRUE(features["ociVersionMin"].is_string()) << r.out;
  ASSERT_TRUE(features["ociVersionMax"].is_string()) << r.out;
  EXPECT_EQ(features["ociVersionMin"].get<std::string>().rfind("1.0.", 0), 0u) << r.out;
  EXPECT_EQ(features["ociVersionMax"].get<std::string>().rfind("1.", 0), 0u) << r.out;
  // Lists the namespaces it can create; the ones every container here uses must be there.
  ASSERT_TRUE(features["linux"]["namespaces"].is_array()) << r.out;
  for (const char* ns : {"pid", "mount", "network", "uts", "ipc"}) {
    EXPECT_NE(std::find(features["linux"]["namespaces"].begin(),
                        features["linux"]["namespaces"].end(), Json(ns)),
              features["linux"]["namespaces"].end())
        << ns;
  }
}

TEST_F(CommandsTest, SpecWritesAParsableConfig) {
  std::string dir = tempDir() + "/spec";
  ASSERT_TRUE(sys::mkdirAll(dir));
  auto r = runtime({"spec"}, {.cwd = dir});
  ASSERT_EQ(r.exitCode, 0) << r.describe();
  Json spec = Json::parse(readFileOr(dir + "/config.json"), nullptr, false);
  ASSERT_TRUE(spec.is_object()) << readFileOr(dir + "/config.json");
  EXPECT_TRUE(spec["ociVersion"].is_string());
  EXPECT_TRUE(spec["process"]["args"].is_array());
  EXPECT_EQ(spec["root"]["path"], "rootfs");
  EXPECT_TRUE(spec["linux"]["namespaces"].is_array());
}

TEST_F(CommandsTest, SpecWithBundleWritesThere) {
  std::string dir = tempDir() + "/spec-bundle";
  ASSERT_TRUE(sys::mkdirAll(dir));
  auto r = runtime({"spec", "--bundle", dir});
  ASSERT_EQ(r.exitCode, 0) << r.describe();
  EXPECT_TRUE(Json::parse(readFileOr(dir + "/config.json"), nullptr, false).is_object());
}

TEST_F(CommandsTest, SpecRunsWithTheFixtureRootfs) {
  // The generated config is a working container once root points at a rootfs.
  std::string dir = tempDir() + "/spec-run";
  ASSERT_TRUE(sys::mkdirAll(dir));
  ASSERT_EQ(runtime({"spec", "--bundle", dir}).exitCode, 0);
  Json spec = Json::parse(readFileOr(dir + "/config.json"));
  spec["root"] = {{"path", busyboxFixture().rootfs}, {"readonly", true}};
  spec["process"]["terminal"] = false;
  spec["process"]["args"] = {"sh", "-c", "echo spec-ok"};
  spec["linux"]["cgroupsPath"] = cgroupsPathOf(id());
  bool hasNetns = false;
  for (auto& ns : spec["linux"]["namespaces"]) hasNetns |= ns["type"] == "network";
  if (!hasNetns) spec["linux"]["namespaces"].push_back({{"type", "network"}});
  writeFileOrFail(dir + "/config.json", spec.dump());
  auto r = runtime({"run", "--bundle", dir, id()});
  EXPECT_EQ(r.exitCode, 0) << r.describe();
  EXPECT_EQ(r.out, "spec-ok\n") << r.describe();
}

TEST_F(CommandsTest, UnknownCommandFails) {
  auto r = runtime({"no-such-command"});
  EXPECT_NE(r.exitCode, 0) << r.describe();
  EXPECT_FALSE(r.err.empty());
}

}  // namespace
}  // namespace berth::tests::cli
