// Platform parsing, normalization and the choice of an image from an image
// index / manifest list.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/utsname.h>

#include "image/oci/manifest.h"
#include "runtime/sys/fs.h"

namespace berth::image::oci {
namespace {

using ::testing::HasSubstr;

Index fixtureIndex(const std::string& name) {
  auto text = sys::readFile(std::string(BERTH_SOURCE_DIR) + "/tests/unit/image_oci/testdata/" + name);
  EXPECT_TRUE(text.ok());
  auto idx = parseIndex(text.ok() ? *text : "");
  EXPECT_TRUE(idx.ok());
  return idx.ok() ? *idx : Index{};
}

std::string pick(const Index& idx, const std::string& platform) {
  auto want = parsePlatform(platform);
  EXPECT_TRUE(want.ok()) << platform;
  auto d = selectManifest(idx, *want);
  if (!d.ok()) return "error: " + d.error().what();
  return d->platform ? d->platform->str() : "(none)";
}

TEST(Platform, ParseAndNormalize) {
  EXPECT_EQ(parsePlatform("linux/amd64")->str(), "linux/amd64");
  EXPECT_EQ(parsePlatform("linux/x86_64")->str(), "linux/amd64");
  EXPECT_EQ(parsePlatform("linux/aarch64")->str(), "linux/arm64");
  EXPECT_EQ(parsePlatform("linux/arm64/v8")->str(), "linux/arm64");
  EXPECT_EQ(parsePlatform("linux/arm")->str(), "linux/arm/v7");
  EXPECT_EQ(parsePlatform("Linux/ARM/v6")->str(), "linux/arm/v6");
  for (auto bad : {"linux", "linux/", "/amd64", "linux/amd64/v2/x", "linux/am d64", ""}) {
    auto p = parsePlatform(bad);
    EXPECT_FALSE(p.ok()) << bad;
    if (!p.ok()) {
      EXPECT_THAT(p.error().what(), HasSubstr("invalid platform"));
    }
  }
}

TEST(Platform, HostIsLinuxAndGoArch) {
  Platform host = hostPlatform();
  EXPECT_EQ(host.os, "linux");
  struct utsname u {};
  ::uname(&u);
  std::string machine = u.machine;
  std::string expected = machine == "x86_64" ? "linux/amd64" : machine == "aarch64" ? "linux/arm64" : host.str();
  EXPECT_EQ(host.str(), expected);
}

TEST(SelectManifest, OciIndex) {
  Index idx = fixtureIndex("oci_index.json");
  EXPECT_EQ(pick(idx, "linux/amd64"), "linux/amd64");
  EXPECT_EQ(pick(idx, "linux/arm64"), "linux/arm64/v8");
  EXPECT_EQ(pick(idx, "linux/arm64/v8"), "linux/arm64/v8");
  EXPECT_EQ(pick(idx, "linux/arm/v7"), "linux/arm/v7");
  EXPECT_EQ(pick(idx, "linux/arm/v6"), "linux/arm/v6");
  EXPECT_EQ(pick(idx, "windows/amd64"), "windows/amd64");
  // Nothing for s390x; the attestation ("unknown/unknown") is never offered.
  std::string err = pick(idx, "linux/s390x");
  EXPECT_THAT(err, HasSubstr("no image for platform linux/s390x"));
  EXPECT_THAT(err, HasSubstr("linux/amd64, linux/arm/v6, linux/arm/v7, linux/arm64, windows/amd64"));
  EXPECT_THAT(err, ::testing::Not(HasSubstr("unknown")));
  // The host platform picks the host's entry.
  auto host = selectManifest(idx, hostPlatform());
  if (hostPlatform().str() == "linux/amd64") {
    ASSERT_TRUE(host.ok());
    EXPECT_EQ(host->digest, store::sha256Of("amd64"));
  }
}

TEST(SelectManifest, DockerManifestListWithArmFallback) {
  Index idx = fixtureIndex("docker_manifest_list.json");
  EXPECT_EQ(pick(idx, "linux/amd64"), "linux/amd64");
  EXPECT_EQ(pick(idx, "linux/386"), "linux/386");
  EXPECT_EQ(pick(idx, "linux/arm/v7"), "linux/arm/v7");
  // No v6 build: an arm/v6 CPU cannot run v7 code, but runs v5.
  EXPECT_EQ(pick(idx, "linux/arm/v6"), "linux/arm/v5");
  EXPECT_EQ(pick(idx, "linux/arm/v8"), "linux/arm/v7") << "the newest older variant wins";
  EXPECT_THAT(pick(idx, "linux/riscv64"), HasSubstr("no image for platform linux/riscv64"));
}

TEST(SelectManifest, EntriesWithoutPlatform) {
  Index idx;
  Descriptor d;
  d.mediaType = std::string(kOciManifest);
  d.digest = store::sha256Of("only");
  d.size = 10;
  idx.manifests.push_back(d);
  auto got = selectManifest(idx, *parsePlatform("linux/amd64"));
  ASSERT_TRUE(got.ok()) << "an index whose entries name no platform offers its image";
  EXPECT_EQ(got->digest, d.digest);
  EXPECT_FALSE(selectManifest(Index{}, hostPlatform()).ok());
}

}  // namespace
}  // namespace berth::image::oci
