// The network-free parts of pulling: WWW-Authenticate challenges, docker
// config.json credentials, base64, manifest and index parsing, platform
// selection.
#include <gtest/gtest.h>

#include <vector>

#include "image/registry/auth.h"
#include "image/registry/manifest.h"

namespace berth::image::registry {
namespace {

const std::string kA = "sha256:" + std::string(64, 'a');
const std::string kB = "sha256:" + std::string(64, 'b');
const std::string kC = "sha256:" + std::string(64, 'c');

TEST(Challenge, ParsesBearerParameters) {
  auto c = parseChallenge(
      "Bearer realm=\"https://auth.example.io/token\",service=\"registry.example.io\","
      "scope=\"repository:library/nginx:pull,push\"");
  ASSERT_TRUE(c.ok()) << c.error().str();
  EXPECT_EQ(c->scheme, "bearer");
  EXPECT_EQ(c->param("realm"), "https://auth.example.io/token");
  EXPECT_EQ(c->param("service"), "registry.example.io");
  EXPECT_EQ(c->param("scope"), "repository:library/nginx:pull,push");
  EXPECT_EQ(c->param("error"), "");
}

TEST(Challenge, BasicWithSpacesTokensAndEscapes) {
  auto c = parseChallenge("basic   Realm=\"Registry \\\"Realm\\\"\", charset=UTF-8");
  ASSERT_TRUE(c.ok()) << c.error().str();
  EXPECT_EQ(c->scheme, "basic");
  EXPECT_EQ(c->param("realm"), "Registry \"Realm\"");
  EXPECT_EQ(c->param("charset"), "UTF-8");
}

TEST(Challenge, RejectsMalformed) {
  EXPECT_FALSE(parseChallenge("").ok());
  auto unterminated = parseChallenge("Bearer realm=\"https://x");
  ASSERT_FALSE(unterminated.ok());
  EXPECT_NE(unterminated.error().str().find("unterminated"), std::string::npos);
}

TEST(Base64, RoundTripsAllPaddings) {
  for (const std::string& s : std::vector<std::string>{"", "a", "ab", "abc", "user:pa:ss", std::string("\0\xff\x10", 3)}) {
    auto decoded = base64Decode(base64Encode(s));
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(*decoded, s);
  }
  EXPECT_EQ(base64Encode("user:pass"), "dXNlcjpwYXNz");
  EXPECT_FALSE(base64Decode("dXN!").ok());
}

TEST(Credentials, FindsHostInDockerConfig) {
  std::string config = R"({"auths": {
      "127.0.0.1:5000": {"auth": "dXNlcjpwYXNz"},
      "https://index.docker.io/v1/": {"auth": ")" + base64Encode("hub:se:cret") + R"("},
      "quay.io": {"username": "q", "password": "p"}}})";
  auto local = findCredentials(config, "127.0.0.1:5000");
  ASSERT_TRUE(local.ok() && local->has_value());
  EXPECT_EQ((*local)->username, "user");
  EXPECT_EQ((*local)->password, "pass");
  auto hub = findCredentials(config, "docker.io");
  ASSERT_TRUE(hub.ok() && hub->has_value());
  EXPECT_EQ((*hub)->username, "hub");
  EXPECT_EQ((*hub)->password, "se:cret");  // only the first ':' separates
  auto quay = findCredentials(config, "quay.io");
  ASSERT_TRUE(quay.ok() && quay->has_value());
  EXPECT_EQ((*quay)->password, "p");
  auto none = findCredentials(config, "127.0.0.1:5001");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST(Credentials, BadDocumentsAreErrors) {
  EXPECT_FALSE(findCredentials("not json", "h").ok());
  auto noColon = findCredentials(R"({"auths":{"h":{"auth":"dXNlcg=="}}})", "h");
  ASSERT_FALSE(noColon.ok());
  EXPECT_NE(noColon.error().str().find("user:password"), std::string::npos);
  auto empty = findCredentials(R"({"credsStore":"desktop"})", "h");
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->has_value());
  auto missing = loadCredentials("/nonexistent/berth/config.json", "h");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
}

TEST(Manifest, ParsesOciManifest) {
  std::string body = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
    "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" + kA + R"(","size":12},
    "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":")" + kB + R"(","size":34},
              {"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":")" + kC + R"(","size":56}]})";
  auto m = parseManifest(body, "");
  ASSERT_TRUE(m.ok()) << m.error().str();
  EXPECT_EQ(m->kind, ManifestKind::kManifest);
  EXPECT_EQ(m->config.digest, kA);
  EXPECT_EQ(m->config.size, 12);
  ASSERT_EQ(m->layers.size(), 2u);
  EXPECT_EQ(m->layers[1].digest, kC);
  EXPECT_EQ(m->layers[1].size, 56);
}

TEST(Manifest, MediaTypeFromHeaderOrShape) {
  std::string list = R"({"schemaVersion":2,"manifests":[{"mediaType":")" +
                     std::string(kDockerManifest) + R"(","digest":")" + kA +
                     R"(","size":1,"platform":{"os":"linux","architecture":"amd64"}}]})";
  auto fromHeader = parseManifest(list, std::string(kDockerList) + "; charset=utf-8");
  ASSERT_TRUE(fromHeader.ok()) << fromHeader.error().str();
  EXPECT_EQ(fromHeader->kind, ManifestKind::kIndex);
  EXPECT_EQ(fromHeader->mediaType, kDockerList);
  auto fromShape = parseManifest(list, "application/octet-stream");
  ASSERT_TRUE(fromShape.ok());
  EXPECT_EQ(fromShape->kind, ManifestKind::kIndex);
}

TEST(Manifest, RefusesSchema1BadDigestsAndJunk) {
  auto schema1 = parseManifest(R"({"schemaVersion":1,"name":"x","fsLayers":[]})", "");
  ASSERT_FALSE(schema1.ok());
  EXPECT_NE(schema1.error().str().find("schema1"), std::string::npos);
  auto badDigest = parseManifest(
      R"({"config":{"digest":"sha256:../../etc","size":1},"layers":[]})", "");
  ASSERT_FALSE(badDigest.ok());
  EXPECT_NE(badDigest.error().str().find("config: digest"), std::string::npos);
  auto negative = parseManifest(R"({"config":{"digest":")" + kA + R"(","size":-1},"layers":[]})", "");
  EXPECT_FALSE(negative.ok());
  EXPECT_FALSE(parseManifest("[1,2]", "").ok());
  EXPECT_FALSE(parseManifest(R"({"mediaType":"text/plain"})", "").ok());
}

ParsedManifest threePlatformIndex() {
  std::string body = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
    {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + kA + R"(","size":1,
     "platform":{"os":"linux","architecture":"amd64"}},
    {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + kB + R"(","size":2,
     "platform":{"os":"linux","architecture":"arm64","variant":"v8"}},
    {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + kC + R"(","size":3,
     "platform":{"os":"linux","architecture":"arm","variant":"v7"}}]})";
  auto m = parseManifest(body, "");
  EXPECT_TRUE(m.ok());
  return m.ok() ? *m : ParsedManifest{};
}

TEST(Platform, SelectsMatchingEntry) {
  ParsedManifest index = threePlatformIndex();
  auto pick = [&](const char* text) {
    auto p = Platform::parse(text);
    EXPECT_TRUE(p.ok()) << text;
    auto d = selectPlatform(index, *p);
    return d.ok() ? d->digest : d.error().str();
  };
  EXPECT_EQ(pick("linux/amd64"), kA);
  EXPECT_EQ(pick("x86_64"), kA);
  EXPECT_EQ(pick("linux/arm64"), kB);
  EXPECT_EQ(pick("linux/arm64/v8"), kB);
  EXPECT_EQ(pick("linux/arm/v7"), kC);
  std::string missing = pick("linux/s390x");
  EXPECT_NE(missing.find("no manifest for platform linux/s390x"), std::string::npos) << missing;
  EXPECT_NE(missing.find("linux/amd64, linux/arm64/v8, linux/arm/v7"), std::string::npos) << missing;
  EXPECT_NE(pick("linux/arm/v6").find("no manifest"), std::string::npos);
}

TEST(Platform, ParseAndHost) {
  EXPECT_FALSE(Platform::parse("").ok());
  EXPECT_FALSE(Platform::parse("linux/").ok());
  EXPECT_FALSE(Platform::parse("a/b/c/d").ok());
  EXPECT_EQ(Platform::parse("linux/arm/v7")->str(), "linux/arm/v7");
  EXPECT_EQ(Platform::host().os, "linux");
  EXPECT_FALSE(Platform::host().architecture.empty());
}

}  // namespace
}  // namespace berth::image::registry
