// Parsers of indexes, manifests and image configs, on real-world-shaped
// documents (Docker Hub, buildx, docker save), and the errors they give for
// wrong ones; chain ids against values computed with sha256sum.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "image/oci/config.h"
#include "image/oci/manifest.h"
#include "runtime/sys/fs.h"

namespace berth::image::oci {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string fixture(const std::string& name) {
  auto text = sys::readFile(std::string(BERTH_SOURCE_DIR) + "/tests/unit/image_oci/testdata/" + name);
  EXPECT_TRUE(text.ok()) << name;
  return text.ok() ? *text : std::string();
}

std::string errorOf(const sys::Result<Manifest>& r) { return r.ok() ? "(parsed)" : r.error().what(); }

TEST(ParseManifest, OciManifest) {
  auto m = parseManifest(fixture("oci_manifest.json"));
  ASSERT_TRUE(m.ok()) << m.error().str();
  EXPECT_EQ(m->mediaType, kOciManifest);
  EXPECT_EQ(m->config.mediaType, kOciConfig);
  EXPECT_EQ(m->config.size, 1469);
  ASSERT_EQ(m->layers.size(), 2u);
  EXPECT_EQ(layerCompression(m->layers[0].mediaType), Compression::kGzip);
  EXPECT_EQ(layerCompression(m->layers[1].mediaType), Compression::kZstd);
  EXPECT_EQ(m->layers[0].size, 2152262);
  EXPECT_EQ(m->annotations.at("org.opencontainers.image.base.name"), "docker.io/library/alpine:3.19");
}

TEST(ParseManifest, DockerSchema2Manifest) {
  auto m = parseManifest(fixture("docker_manifest.json"));
  ASSERT_TRUE(m.ok()) << m.error().str();
  EXPECT_EQ(m->mediaType, kDockerManifest);
  EXPECT_EQ(m->config.mediaType, kDockerConfig);
  ASSERT_EQ(m->layers.size(), 3u);
  for (const auto& l : m->layers) EXPECT_EQ(layerCompression(l.mediaType), Compression::kGzip);
}

TEST(ParseManifest, RoundTripsThroughSerialize) {
  auto m = *parseManifest(fixture("oci_manifest.json"));
  auto again = parseManifest(serializeManifest(m));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->layers[1].digest, m.layers[1].digest);
  EXPECT_EQ(serializeManifest(*again), serializeManifest(m)) << "serialization is canonical";
}

TEST(ParseManifest, ErrorsNameTheField) {
  std::string good = fixture("oci_manifest.json");
  EXPECT_THAT(errorOf(parseManifest("")), HasSubstr("not valid JSON"));
  EXPECT_THAT(errorOf(parseManifest("[]")), HasSubstr("expected a JSON object, got array"));
  EXPECT_THAT(errorOf(parseManifest(R"({"schemaVersion":2,"layers":[]})")), HasSubstr("config: required field"));
  EXPECT_THAT(errorOf(parseManifest(R"({"schemaVersion":"2"})")), HasSubstr("schemaVersion: expected an integer"));
  EXPECT_THAT(errorOf(parseManifest(fixture("docker_schema1.json"))), HasSubstr("schema 1"));
  std::string bad = good;
  bad.replace(bad.find("\"size\": 1024"), 12, "\"size\": \"1k\"");
  EXPECT_THAT(errorOf(parseManifest(bad)), HasSubstr("layers[1].size: expected an integer, got string"));
  bad = good;
  bad.replace(bad.find("sha256:"), 7, "md5:");
  EXPECT_THAT(errorOf(parseManifest(bad)), HasSubstr("config.digest: invalid digest"));
  bad = good;
  bad.replace(bad.find("\"size\": 1024"), 12, "\"size\": -1");
  EXPECT_THAT(errorOf(parseManifest(bad)), HasSubstr("layers[1].size: must not be negative"));
  // An index handed to the manifest parser.
  EXPECT_THAT(errorOf(parseManifest(fixture("oci_index.json"))), HasSubstr("not an image manifest media type"));
}

TEST(ParseIndex, OciIndexAndDockerManifestList) {
  auto oci = parseIndex(fixture("oci_index.json"));
  ASSERT_TRUE(oci.ok()) << oci.error().str();
  ASSERT_EQ(oci->manifests.size(), 6u);
  ASSERT_TRUE(oci->manifests[4].platform);
  EXPECT_EQ(oci->manifests[4].platform->osVersion, "10.0.17763.5329");
  EXPECT_THAT(oci->manifests[4].platform->osFeatures, ElementsAre("win32k"));
  auto docker = parseIndex(fixture("docker_manifest_list.json"));
  ASSERT_TRUE(docker.ok()) << docker.error().str();
  EXPECT_EQ(docker->mediaType, kDockerManifestList);
  EXPECT_EQ(docker->manifests.size(), 6u);

  auto bad = parseIndex(R"({"schemaVersion":2,"manifests":[{"mediaType":"x","digest":"sha256:00","size":1}]})");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.error().what(), HasSubstr("manifests[0].digest: invalid digest"));
  auto noPlatformOs = parseIndex(
      R"({"schemaVersion":2,"manifests":[{"mediaType":"x","size":1,"platform":{"architecture":"amd64"},)"
      R"("digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}]})");
  ASSERT_FALSE(noPlatformOs.ok());
  EXPECT_THAT(noPlatformOs.error().what(), HasSubstr("manifests[0].platform.os: required field is missing"));
}

TEST(DetectMediaType, FromFieldOrShape) {
  EXPECT_EQ(*detectMediaType(fixture("docker_manifest.json")), kDockerManifest);
  EXPECT_EQ(*detectMediaType(fixture("docker_manifest_list.json")), kDockerManifestList);
  EXPECT_EQ(*detectMediaType(R"({"schemaVersion":2,"manifests":[]})"), kOciIndex);
  EXPECT_EQ(*detectMediaType(R"({"schemaVersion":2,"config":{},"layers":[]})"), kOciManifest);
  EXPECT_FALSE(detectMediaType(fixture("docker_schema1.json")).ok());
  EXPECT_FALSE(detectMediaType(R"({"schemaVersion":2})").ok());
  EXPECT_FALSE(detectMediaType(R"({"mediaType":"text/plain"})").ok());
}

TEST(ParseImageConfig, DockerConfigWithEveryField) {
  auto c = parseImageConfig(fixture("docker_config.json"));
  ASSERT_TRUE(c.ok()) << c.error().str();
  EXPECT_EQ(c->architecture, "amd64");
  EXPECT_EQ(c->os, "linux");
  const ContainerConfig& cc = c->config;
  EXPECT_EQ(cc.user, "nginx:nginx");
  EXPECT_THAT(cc.exposedPorts, ElementsAre("443/tcp", "80/tcp"));
  EXPECT_THAT(cc.env, ElementsAre("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                                  "NGINX_VERSION=1.25.3", "PKG_RELEASE=1~bookworm"));
  ASSERT_TRUE(cc.entrypoint);
  EXPECT_THAT(*cc.entrypoint, ElementsAre("/docker-entrypoint.sh"));
  ASSERT_TRUE(cc.cmd);
  EXPECT_THAT(*cc.cmd, ElementsAre("nginx", "-g", "daemon off;"));
  EXPECT_THAT(cc.volumes, ElementsAre("/var/cache/nginx", "/var/log/nginx"));
  EXPECT_EQ(cc.workingDir, "/srv");
  EXPECT_EQ(cc.labels.at("org.opencontainers.image.version"), "1.25.3");
  EXPECT_EQ(cc.stopSignal, "SIGQUIT");
  EXPECT_TRUE(cc.onBuild.empty()) << "null is absent";
  EXPECT_TRUE(cc.argsEscaped);
  ASSERT_TRUE(cc.healthcheck);
  EXPECT_THAT(cc.healthcheck->test, ElementsAre("CMD-SHELL", "curl -f http://localhost/ || exit 1"));
  EXPECT_EQ(cc.healthcheck->interval, 30'000'000'000);
  EXPECT_EQ(cc.healthcheck->timeout, 5'000'000'000);
  EXPECT_EQ(cc.healthcheck->startPeriod, 10'000'000'000);
  EXPECT_EQ(cc.healthcheck->retries, 3);
  EXPECT_EQ(c->rootfs.type, "layers");
  EXPECT_EQ(c->rootfs.diffIds.size(), 3u);
  ASSERT_EQ(c->history.size(), 3u);
  EXPECT_TRUE(c->history[1].emptyLayer);
  EXPECT_EQ(c->history[2].comment, "buildkit.dockerfile.v0");
}

TEST(ParseImageConfig, MinimalOciConfigKeepsAbsentApartFromEmpty) {
  auto c = parseImageConfig(fixture("oci_config_minimal.json"));
  ASSERT_TRUE(c.ok()) << c.error().str();
  EXPECT_EQ(c->variant, "v8");
  EXPECT_FALSE(c->config.entrypoint.has_value());
  EXPECT_FALSE(c->config.cmd.has_value());
  EXPECT_FALSE(c->config.healthcheck.has_value());
  EXPECT_TRUE(c->rootfs.diffIds.empty());
  auto cleared = parseImageConfig(
      R"({"config":{"Entrypoint":[],"Cmd":null},"rootfs":{"type":"layers","diff_ids":[]}})");
  ASSERT_TRUE(cleared.ok());
  ASSERT_TRUE(cleared->config.entrypoint.has_value());
  EXPECT_TRUE(cleared->config.entrypoint->empty());
  EXPECT_FALSE(cleared->config.cmd.has_value());
}

TEST(ParseImageConfig, ErrorsNameTheField) {
  auto err = [](std::string_view text) {
    auto c = parseImageConfig(text);
    return c.ok() ? std::string("(parsed)") : c.error().what();
  };
  EXPECT_THAT(err(R"({"config":{"Env":["A=1",2]},"rootfs":{"type":"layers"}})"),
              HasSubstr("config.Env[1]: expected a string, got integer"));
  EXPECT_THAT(err(R"({"config":{"ExposedPorts":["80/tcp"]},"rootfs":{"type":"layers"}})"),
              HasSubstr("config.ExposedPorts: expected an object, got array"));
  EXPECT_THAT(err(R"({"config":{"Labels":{"a":1}},"rootfs":{"type":"layers"}})"),
              HasSubstr("config.Labels[\"a\"]: expected a string, got integer"));
  EXPECT_THAT(err(R"({"config":{"Healthcheck":{"Test":["RUN"]}},"rootfs":{"type":"layers"}})"),
              HasSubstr("config.Healthcheck.Test[0]"));
  EXPECT_THAT(err(R"({"config":{"Healthcheck":{"Interval":1.5}},"rootfs":{"type":"layers"}})"),
              HasSubstr("config.Healthcheck.Interval: expected an integer, got number"));
  EXPECT_THAT(err(R"({"config":{}})"), HasSubstr("rootfs: required field is missing"));
  EXPECT_THAT(err(R"({"rootfs":{"type":"snapshot"}})"), HasSubstr("rootfs.type: expected \"layers\""));
  EXPECT_THAT(err(R"({"rootfs":{"type":"layers","diff_ids":["sha256:x"]}})"), HasSubstr("rootfs.diff_ids[0]"));
  EXPECT_THAT(err(R"({"architecture":5,"rootfs":{"type":"layers"}})"), HasSubstr("architecture: expected a string"));
}

// Values computed with sha256sum (see the comments).
TEST(ChainId, MatchesTheImageSpecFormula) {
  // printf layer-one | sha256sum, and so on.
  auto d1 = *store::Digest::parse("sha256:0139c1c77468f75e6763a4612262743bd47a36b26cb2863d662756b3377bb029");
  auto d2 = *store::Digest::parse("sha256:4381142a944dccfafc4428f3b1d4469713054b918f3c97f2e7f1cac2c25e0cc4");
  auto d3 = *store::Digest::parse("sha256:6c743db43f0448c007a51265ac822887f39ea7e6600820511cc46f9f63690fd5");
  EXPECT_EQ(store::sha256Of("layer-one"), d1);
  // printf "sha256:$d1 sha256:$d2" | sha256sum
  auto c2 = "sha256:aff998a96a2f925843dfb74108505e06ba8a26c9ff277ee74ede14a9bd9090b0";
  // printf "sha256:$c2 sha256:$d3" | sha256sum
  auto c3 = "sha256:0c591124fb48bc3416c43b04465bf075a13e4949d16e3c58b274b18a00494da7";
  auto ids = chainIds({d1, d2, d3});
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(ids[0], d1) << "ChainID(L0) = DiffID(L0)";
  EXPECT_EQ(ids[1].str(), c2);
  EXPECT_EQ(ids[2].str(), c3);
  EXPECT_EQ(chainIdOf(ids[1], d3).str(), c3);
  EXPECT_TRUE(chainIds({}).empty());
}

}  // namespace
}  // namespace berth::image::oci
