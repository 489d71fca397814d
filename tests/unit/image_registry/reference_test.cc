// Reference grammar and normalization: the forms users type, the normalized
// names they map to, and the errors for each malformed part.
#include "image/oci/reference.h"

#include <gtest/gtest.h>

namespace berth::image::oci {
namespace {

const std::string kHex(64, 'a');
const std::string kDigest = "sha256:" + kHex;

Reference mustParse(std::string_view text) {
  auto r = Reference::parse(text);
  EXPECT_TRUE(r.ok()) << text << ": " << r.error().str();
  return r.ok() ? *r : Reference{};
}

std::string errorOf(std::string_view text) {
  auto r = Reference::parse(text);
  EXPECT_FALSE(r.ok()) << text << " parsed as " << (r.ok() ? r->str() : "");
  return r.ok() ? std::string() : r.error().str();
}

TEST(Reference, NormalizesDockerHubNames) {
  struct Case {
    const char* in;
    const char* normalized;
    const char* familiar;
  } cases[] = {
      {"nginx", "docker.io/library/nginx:latest", "nginx:latest"},
      {"nginx:1.25", "docker.io/library/nginx:1.25", "nginx:1.25"},
      {"user/app", "docker.io/user/app:latest", "user/app:latest"},
      {"docker.io/nginx", "docker.io/library/nginx:latest", "nginx:latest"},
      {"index.docker.io/library/redis:7", "docker.io/library/redis:7", "redis:7"},
      {"docker.io/library/a/b", "docker.io/library/a/b:latest", "library/a/b:latest"},
      {"user/app/sub:v1", "docker.io/user/app/sub:v1", "user/app/sub:v1"},
  };
  for (const auto& c : cases) {
    Reference r = mustParse(c.in);
    EXPECT_EQ(r.str(), c.normalized) << c.in;
    EXPECT_EQ(r.familiarString(), c.familiar) << c.in;
    EXPECT_EQ(r.registry, "docker.io") << c.in;
  }
}

TEST(Reference, FirstComponentIsRegistryWhenItLooksLikeAHost) {
  Reference port = mustParse("127.0.0.1:5000/app:v2");
  EXPECT_EQ(port.registry, "127.0.0.1:5000");
  EXPECT_EQ(port.repository, "app");
  EXPECT_EQ(port.tag, "v2");
  EXPECT_EQ(port.str(), "127.0.0.1:5000/app:v2");
  EXPECT_EQ(port.familiarName(), "127.0.0.1:5000/app");

  Reference local = mustParse("localhost/team/app");
  EXPECT_EQ(local.registry, "localhost");
  EXPECT_EQ(local.repository, "team/app");
  EXPECT_EQ(local.tag, "latest");

  Reference dotted = mustParse("quay.io/coreos/etcd");
  EXPECT_EQ(dotted.registry, "quay.io");
  EXPECT_EQ(dotted.repository, "coreos/etcd");

  // "localhost:5000" alone is a repository with a tag, as Docker reads it.
  Reference tricky = mustParse("localhost:5000");
  EXPECT_EQ(tricky.str(), "docker.io/library/localhost:5000");

  // Without a '.', ':' or "localhost" the first component is a path.
  EXPECT_EQ(mustParse("myhost/app").registry, "docker.io");
}

TEST(Reference, DigestPinsTheImage) {
  Reference onlyDigest = mustParse("nginx@" + kDigest);
  EXPECT_EQ(onlyDigest.tag, "");
  EXPECT_EQ(onlyDigest.digest, kDigest);
  EXPECT_EQ(onlyDigest.str(), "docker.io/library/nginx@" + kDigest);
  EXPECT_EQ(onlyDigest.manifestReference(), kDigest);

  Reference both = mustParse("host:5000/a/b:1.0@" + kDigest);
  EXPECT_EQ(both.registry, "host:5000");
  EXPECT_EQ(both.tag, "1.0");
  EXPECT_EQ(both.manifestReference(), kDigest);
  EXPECT_EQ(both.str(), "host:5000/a/b:1.0@" + kDigest);

  EXPECT_EQ(mustParse("nginx:1.25").manifestReference(), "1.25");
}

TEST(Reference, RoundTripsItsNormalizedForm) {
  for (const char* text : {"nginx", "user/app:v1", "127.0.0.1:5000/x/y:z", "localhost/a"}) {
    Reference r = mustParse(text);
    EXPECT_EQ(mustParse(r.str()), r) << text;
    EXPECT_EQ(mustParse(r.familiarString()), r) << text;
  }
}

TEST(Reference, PathComponentSeparators) {
  for (const char* ok : {"a.b", "a_b", "a__b", "a-b", "a---b", "a0.b1_c2__d3-e4", "0"}) {
    EXPECT_TRUE(isValidPathComponent(ok)) << ok;
  }
  for (const char* bad : {"", "-a", "a-", ".a", "a.", "a..b", "a___b", "a._b", "A", "a b", "a/b"}) {
    EXPECT_FALSE(isValidPathComponent(bad)) << bad;
  }
}

TEST(Reference, TagGrammar) {
  EXPECT_TRUE(isValidTag("latest"));
  EXPECT_TRUE(isValidTag("_under"));
  EXPECT_TRUE(isValidTag("V1.2-rc_3"));
  EXPECT_TRUE(isValidTag(std::string(128, 'a')));
  EXPECT_FALSE(isValidTag(std::string(129, 'a')));
  EXPECT_FALSE(isValidTag(""));
  EXPECT_FALSE(isValidTag(".hidden"));
  EXPECT_FALSE(isValidTag("-dash"));
  EXPECT_FALSE(isValidTag("a+b"));
}

TEST(Reference, ErrorsSayWhatIsWrong) {
  EXPECT_EQ(errorOf("Foo/Bar"), "invalid reference \"Foo/Bar\": repository name must be lowercase");
  EXPECT_EQ(errorOf("Nginx"), "invalid reference \"Nginx\": repository name must be lowercase");
  EXPECT_EQ(errorOf(""), "invalid reference \"\": empty reference");
  EXPECT_NE(errorOf("nginx:").find("invalid tag \"\""), std::string::npos);
  EXPECT_NE(errorOf("nginx:.bad").find("invalid tag \".bad\""), std::string::npos);
  EXPECT_NE(errorOf("nginx:" + std::string(129, 't')).find("invalid tag"), std::string::npos);
  EXPECT_NE(errorOf("nginx@sha256:abc").find("64 lowercase hex"), std::string::npos);
  EXPECT_NE(errorOf("nginx@sha256:" + std::string(64, 'A')).find("invalid digest"),
            std::string::npos);
  EXPECT_NE(errorOf("nginx@md5:" + std::string(32, 'a')).find("only sha256"), std::string::npos);
  EXPECT_NE(errorOf("nginx@").find("invalid digest"), std::string::npos);
  EXPECT_NE(errorOf("a..b/c").find("invalid registry host \"a..b\""), std::string::npos);
  EXPECT_NE(errorOf("host:99999/app").find("invalid registry host"), std::string::npos);
  EXPECT_NE(errorOf("-host.io/app").find("invalid registry host"), std::string::npos);
  EXPECT_NE(errorOf("a/-b").find("invalid path component \"-b\""), std::string::npos);
  EXPECT_NE(errorOf("a//b").find("invalid path component \"\""), std::string::npos);
  EXPECT_NE(errorOf("a/b/").find("invalid path component"), std::string::npos);
  EXPECT_NE(errorOf("host.io/").find("must not be empty"), std::string::npos);
  EXPECT_NE(errorOf(":tag").find("must not be empty"), std::string::npos);
  EXPECT_NE(errorOf("a b").find("invalid path component"), std::string::npos);
  EXPECT_NE(errorOf(kHex).find("image ID"), std::string::npos);
  EXPECT_NE(errorOf("reg.io/" + std::string(250, 'a')).find("longer than 255"),
            std::string::npos);
}

TEST(Reference, DigestValidation) {
  EXPECT_TRUE(isValidDigest(kDigest));
  EXPECT_FALSE(isValidDigest("sha256:" + std::string(63, 'a')));
  EXPECT_FALSE(isValidDigest("sha256:" + std::string(65, 'a')));
  EXPECT_FALSE(isValidDigest("sha256:" + std::string(63, 'a') + "g"));
  EXPECT_FALSE(isValidDigest("sha512:" + std::string(64, 'a')));
}

TEST(Reference, RegistryHosts) {
  for (const char* ok : {"localhost", "localhost:5000", "a.b.c", "127.0.0.1:1", "Reg-1.IO:65535"}) {
    EXPECT_TRUE(isValidRegistryHost(ok)) << ok;
  }
  for (const char* bad : {"", ":5000", "host:", "host:65536", "host:x", "a_b.io", "-a.io", "a-.io"}) {
    EXPECT_FALSE(isValidRegistryHost(bad)) << bad;
  }
}

}  // namespace
}  // namespace berth::image::oci
