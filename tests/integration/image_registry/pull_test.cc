// Registry pull against a real docker-registry on loopback: images pushed
// with skopeo from OCI layouts built by hack/registry-mkimage.sh (and the
// busybox image of hack/mkimage); plain HTTP, TLS with htpasswd, and token
// auth with a token server thread. Each suite starts its own registry.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "image/registry/auth.h"
#include "image/registry/pull.h"
#include "tests/integration/image_registry/fixture.h"

namespace berth::image::registry {
namespace {

using test::LoopbackRegistry;
using test::sh;
using test::TempDir;

bool toolsPresent() {
  return test::haveTool("docker-registry") && test::haveTool("skopeo") &&
         test::haveTool("openssl") && test::haveTool("htpasswd");
}

std::string mkimage(const std::string& args) {
  return sh(test::sourceDir() + "/hack/registry-mkimage.sh " + args);
}

oci::Reference parseRef(const std::string& text) {
  auto r = oci::Reference::parse(text);
  EXPECT_TRUE(r.ok()) << r.error().str();
  return r.ok() ? *r : oci::Reference{};
}

void writeAuthFile(const std::string& path, const std::string& host, const std::string& user,
                   const std::string& pass) {
  std::ofstream(path) << R"({"auths":{")" << host << R"(":{"auth":")"
                      << base64Encode(user + ":" + pass) << R"("}}})";
}

std::string configArchitecture(const store::ContentStore& store, const store::Digest& config) {
  auto text = store.readBlob(config);
  if (!text.ok()) return "unreadable: " + text.error().str();
  auto doc = nlohmann::json::parse(*text, nullptr, false);
  return doc.is_object() ? doc.value("architecture", "") : "not json";
}

// A store in a fresh directory per test.
struct FreshStore {
  TempDir dir;
  store::ContentStore store = *store::ContentStore::open(dir.path());
  store::ImageIndex index = *store::ImageIndex::open(dir.path());
};

class PlainRegistry : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!toolsPresent()) return;
    work_ = new TempDir();
    registry_ = new LoopbackRegistry(work_->path() + "/registry", "");
    if (!registry_->ok()) return;
    const std::string w = work_->path();
    std::string oci = sh(test::sourceDir() + "/hack/mkimage " + w + "/busybox | sed -n 2p");
    pushed_ = registry_->push("oci-archive:" + oci, "busybox:1") &&
              registry_->push("oci:" + mkimage("layers " + w + "/multi 256 m1 m2 m3") + ":latest",
                              "multi:v1") &&
              registry_->push("oci:" + mkimage("layers " + w + "/plus 256 m1 m2 m3 m4") + ":latest",
                              "plus:v1") &&
              registry_->push("oci:" + mkimage("layers " + w + "/tamper 64 t1") + ":latest",
                              "tamper:v1") &&
              // Layers above 4 MiB take the threaded write path (blob_pipe.h).
              registry_->push("oci:" + mkimage("layers " + w + "/large 6144 g1 g2") + ":latest",
                              "large:v1") &&
              registry_->push("oci:" + mkimage("layers " + w + "/ltamper 6144 lt1") + ":latest",
                              "ltamper:v1") &&
              registry_->push("oci:" + mkimage("index " + w + "/idx") + ":latest", "idx:v1",
                              "--all");
  }
  static void TearDownTestSuite() {
    delete registry_;
    delete work_;
    registry_ = nullptr;
    work_ = nullptr;
  }
  void SetUp() override {
    if (!toolsPresent()) GTEST_SKIP() << "needs docker-registry, skopeo, openssl, htpasswd";
    ASSERT_TRUE(registry_ != nullptr && registry_->ok() && pushed_) << "registry setup failed";
  }
  PullOptions options() const {
    PullOptions o;
    o.insecureRegistries = {registry_->addr()};
    o.connectTimeoutSec = 5;
    o.stallTimeoutSec = 10;
    return o;
  }
  std::string name(const std::string& repoTag) const { return registry_->addr() + "/" + repoTag; }

  static TempDir* work_;
  static LoopbackRegistry* registry_;
  static bool pushed_;
};
TempDir* PlainRegistry::work_ = nullptr;
LoopbackRegistry* PlainRegistry::registry_ = nullptr;
bool PlainRegistry::pushed_ = false;

TEST_F(PlainRegistry, PullsMultiLayerImageAndRecordsIt) {
  FreshStore s;
  PullOptions o = options();
  o.index = &s.index;
  uint64_t progressBytes = 0;
  int finished = 0;
  o.progress = [&](const PullProgress& p) {
    if (p.finished) {
      ++finished;
      progressBytes += p.done;
    }
  };
  int before = registry_->blobGets("multi");
  auto r = pull(parseRef(name("multi:v1")), o, s.store);
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(r->layers.size(), 3u);
  EXPECT_EQ(r->blobsDownloaded, 4);  // config + 3 layers
  EXPECT_EQ(r->blobsSkipped, 0);
  EXPECT_EQ(finished, 4);
  EXPECT_EQ(progressBytes, r->bytesDownloaded);
  EXPECT_GT(r->bytesDownloaded, 3u * 256 * 1024);
  EXPECT_EQ(registry_->blobGets("multi") - before, 4);
  EXPECT_TRUE(r->indexDigest.empty());
  for (const auto& d : r->layers) {
    EXPECT_TRUE(s.store.has(d));
    EXPECT_TRUE(s.store.verify(d).ok()) << d.str();
  }
  EXPECT_TRUE(s.store.has(r->manifest));
  EXPECT_TRUE(s.store.has(r->config));
  auto record = s.index.get(r->name);
  ASSERT_TRUE(record.ok() && record->has_value());
  EXPECT_EQ((*record)->manifest, r->manifest);
  EXPECT_EQ(r->name, registry_->addr() + "/multi:v1");

  // The same image by digest resolves to the same manifest, with nothing to fetch.
  auto byDigest = pull(parseRef(name("multi@" + r->manifest.str())), o, s.store);
  ASSERT_TRUE(byDigest.ok()) << byDigest.error().str();
  EXPECT_EQ(byDigest->manifest, r->manifest);
  EXPECT_EQ(byDigest->blobsDownloaded, 0);
}

TEST_F(PlainRegistry, PullsBusyboxFromMkimage) {
  FreshStore s;
  auto r = pull(parseRef(name("busybox:1")), options(), s.store);
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(r->layers.size(), 1u);
  EXPECT_EQ(configArchitecture(s.store, r->config), Platform::host().architecture);
}

TEST_F(PlainRegistry, SharedLayersAreNotDownloadedTwice) {
  FreshStore s;
  auto first = pull(parseRef(name("multi:v1")), options(), s.store);
  ASSERT_TRUE(first.ok()) << first.error().str();
  int before = registry_->blobGets("plus");
  auto second = pull(parseRef(name("plus:v1")), options(), s.store);
  ASSERT_TRUE(second.ok()) << second.error().str();
  EXPECT_EQ(second->layers.size(), 4u);
  EXPECT_EQ(second->blobsSkipped, 3);     // m1 m2 m3
  EXPECT_EQ(second->blobsDownloaded, 2);  // its config and m4
  EXPECT_EQ(registry_->blobGets("plus") - before, 2) << "the registry served more blobs";
  // Pulling again asks only which digest the tag names (HEAD): the manifest
  // and every blob come from the store.
  int beforeAgain = registry_->blobGets("plus");
  int manifestGets = registry_->accessLines("\"GET /v2/plus/manifests/");
  int manifestHeads = registry_->accessLines("\"HEAD /v2/plus/manifests/");
  auto again = pull(parseRef(name("plus:v1")), options(), s.store);
  ASSERT_TRUE(again.ok()) << again.error().str();
  EXPECT_EQ(again->blobsDownloaded, 0);
  EXPECT_EQ(again->manifest, second->manifest);
  EXPECT_EQ(registry_->blobGets("plus"), beforeAgain);
  EXPECT_EQ(registry_->accessLines("\"GET /v2/plus/manifests/"), manifestGets);
  EXPECT_EQ(registry_->accessLines("\"HEAD /v2/plus/manifests/"), manifestHeads + 1);
}

TEST_F(PlainRegistry, IndexResolvesToRequestedPlatform) {
  FreshStore s;
  PullOptions amd = options();
  amd.platform = *Platform::parse("linux/amd64");
  auto a = pull(parseRef(name("idx:v1")), amd, s.store);
  ASSERT_TRUE(a.ok()) << a.error().str();
  EXPECT_FALSE(a->indexDigest.empty());
  EXPECT_TRUE(s.store.has(*store::Digest::parse(a->indexDigest)));
  EXPECT_EQ(configArchitecture(s.store, a->config), "amd64");

  PullOptions arm = options();
  arm.platform = *Platform::parse("linux/arm64");
  auto b = pull(parseRef(name("idx:v1")), arm, s.store);
  ASSERT_TRUE(b.ok()) << b.error().str();
  EXPECT_EQ(b->indexDigest, a->indexDigest);
  EXPECT_NE(b->manifest, a->manifest);
  EXPECT_EQ(configArchitecture(s.store, b->config), "arm64");

  PullOptions s390 = options();
  s390.platform = *Platform::parse("linux/s390x");
  auto c = pull(parseRef(name("idx:v1")), s390, s.store);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().str().find("no manifest for platform linux/s390x"), std::string::npos)
      << c.error().str();
  EXPECT_NE(c.error().str().find("linux/amd64, linux/arm64/v8"), std::string::npos);
}

TEST_F(PlainRegistry, UnknownImageSaysSo) {
  FreshStore s;
  auto repo = pull(parseRef(name("nope:v1")), options(), s.store);
  ASSERT_FALSE(repo.ok());
  std::string msg = repo.error().str();
  EXPECT_NE(msg.find("pull " + registry_->addr() + "/nope:v1"), std::string::npos) << msg;
  EXPECT_NE(msg.find("image not found"), std::string::npos) << msg;
  EXPECT_NE(msg.find("404"), std::string::npos) << msg;

  auto tag = pull(parseRef(name("multi:missing")), options(), s.store);
  ASSERT_FALSE(tag.ok());
  EXPECT_NE(tag.error().str().find("MANIFEST_UNKNOWN"), std::string::npos) << tag.error().str();
}

TEST_F(PlainRegistry, TamperedBlobIsRefusedAsDigestMismatch) {
  FreshStore s;
  auto probe = pull(parseRef(name("tamper:v1")), options(), s.store);
  ASSERT_TRUE(probe.ok()) << probe.error().str();
  std::string layer = probe->layers.at(0).str();
  // Flip one byte in the registry's copy; the size stays the same.
  std::string file = registry_->blobFile(layer);
  sh("printf 'X' | dd of='" + file + "' bs=1 seek=100 conv=notrunc 2>/dev/null");

  FreshStore fresh;
  PullOptions o = options();
  o.index = &fresh.index;
  auto r = pull(parseRef(name("tamper:v1")), o, fresh.store);
  ASSERT_FALSE(r.ok());
  std::string msg = r.error().str();
  EXPECT_NE(msg.find("digest mismatch"), std::string::npos) << msg;
  EXPECT_NE(msg.find("layer " + layer), std::string::npos) << msg;
  EXPECT_NE(msg.find("pull " + registry_->addr() + "/tamper:v1"), std::string::npos) << msg;
  EXPECT_FALSE(fresh.store.has(probe->layers[0]));
  EXPECT_FALSE(fresh.store.has(probe->manifest));
  auto record = fresh.index.get(name("tamper:v1"));
  ASSERT_TRUE(record.ok());
  EXPECT_FALSE(record->has_value());
}

TEST_F(PlainRegistry, LargeLayersStreamThroughTheWriterThread) {
  FreshStore s;
  auto r = pull(parseRef(name("large:v1")), options(), s.store);
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(r->blobsDownloaded, 3);
  EXPECT_GT(r->bytesDownloaded, 2u * 6 << 20);
  for (const auto& d : r->layers) EXPECT_TRUE(s.store.verify(d).ok()) << d.str();
}

TEST_F(PlainRegistry, TamperedLargeLayerIsRefused) {
  FreshStore probeStore;
  auto probe = pull(parseRef(name("ltamper:v1")), options(), probeStore.store);
  ASSERT_TRUE(probe.ok()) << probe.error().str();
  std::string layer = probe->layers.at(0).str();
  sh("printf 'X' | dd of='" + registry_->blobFile(layer) +
     "' bs=1 seek=5000000 conv=notrunc 2>/dev/null");
  FreshStore s;
  auto r = pull(parseRef(name("ltamper:v1")), options(), s.store);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().str().find("digest mismatch"), std::string::npos) << r.error().str();
  EXPECT_NE(r.error().str().find("layer " + layer), std::string::npos) << r.error().str();
  EXPECT_FALSE(s.store.has(probe->layers[0]));
}

// Registries redirect blob GETs to storage elsewhere: a front server serves
// the manifest and redirects each blob to the real registry.
TEST_F(PlainRegistry, FollowsBlobRedirects) {
  FreshStore origin;
  auto r = pull(parseRef(name("multi:v1")), options(), origin.store);
  ASSERT_TRUE(r.ok()) << r.error().str();
  std::string manifest = *origin.store.readBlob(r->manifest);
  std::atomic<int> redirects{0};
  test::MiniHttpServer front([&](const std::string& req) {
    if (req.find(" /v2/front/manifests/v1 ") != std::string::npos) {
      return test::MiniHttpServer::response(
          200, "Content-Type: application/vnd.oci.image.manifest.v1+json\r\n", manifest);
    }
    size_t blobs = req.find(" /v2/front/blobs/");
    if (req.rfind("GET", 0) == 0 && blobs != std::string::npos) {
      ++redirects;
      std::string digest = req.substr(blobs + 17, 71);
      return test::MiniHttpServer::response(
          307, "Location: http://" + registry_->addr() + "/v2/multi/blobs/" + digest + "\r\n", "");
    }
    return test::MiniHttpServer::response(404, "", "");
  });
  std::string host = "127.0.0.1:" + std::to_string(front.port());
  FreshStore s;
  PullOptions o = options();
  o.insecureRegistries = {host};
  int before = registry_->blobGets("multi");
  auto viaFront = pull(parseRef(host + "/front:v1"), o, s.store);
  ASSERT_TRUE(viaFront.ok()) << viaFront.error().str();
  EXPECT_EQ(viaFront->manifest, r->manifest);
  EXPECT_EQ(redirects, 4);
  EXPECT_EQ(registry_->blobGets("multi") - before, 4);
  for (const auto& d : viaFront->layers) EXPECT_TRUE(s.store.verify(d).ok()) << d.str();
}

TEST_F(PlainRegistry, UnreachableRegistryNamesTheAddress) {
  // A port that was just free: bound, then closed.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ::close(fd);
  std::string host = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  FreshStore s;
  PullOptions o = options();
  o.insecureRegistries = {host};
  auto r = pull(parseRef(host + "/app:v1"), o, s.store);
  ASSERT_FALSE(r.ok());
  std::string msg = r.error().str();
  EXPECT_NE(msg.find("pull " + host + "/app:v1"), std::string::npos) << msg;
  EXPECT_NE(msg.find("registry " + host + " unreachable"), std::string::npos) << msg;
  EXPECT_NE(msg.find("Connection refused"), std::string::npos) << msg;
}

TEST_F(PlainRegistry, PlainHttpRegistryNotListedAsInsecureIsATlsFailure) {
  FreshStore s;
  PullOptions o = options();
  o.insecureRegistries.clear();
  auto r = pull(parseRef(name("busybox:1")), o, s.store);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().str().find("TLS failure talking to registry " + registry_->addr()),
            std::string::npos)
      << r.error().str();
}

class TlsAuthRegistry : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!toolsPresent()) return;
    work_ = new TempDir();
    registry_ = new LoopbackRegistry(work_->path() + "/registry", "--tls --htpasswd alice:s3cret");
    if (!registry_->ok()) return;
    std::string oci = sh(test::sourceDir() + "/hack/mkimage " + work_->path() + "/busybox | sed -n 2p");
    pushed_ = registry_->push("oci-archive:" + oci, "private/busybox:1", "--creds alice:s3cret");
    writeAuthFile(work_->path() + "/good.json", registry_->addr(), "alice", "s3cret");
    writeAuthFile(work_->path() + "/bad.json", registry_->addr(), "alice", "wrong");
  }
  static void TearDownTestSuite() {
    delete registry_;
    delete work_;
    registry_ = nullptr;
    work_ = nullptr;
  }
  void SetUp() override {
    if (!toolsPresent()) GTEST_SKIP() << "needs docker-registry, skopeo, openssl, htpasswd";
    ASSERT_TRUE(registry_ != nullptr && registry_->ok() && pushed_) << "registry setup failed";
  }
  PullOptions options(const std::string& authFile) const {
    PullOptions o;
    o.caFile = registry_->caFile();
    o.authFile = authFile.empty() ? "" : work_->path() + "/" + authFile;
    o.connectTimeoutSec = 5;
    o.stallTimeoutSec = 10;
    return o;
  }
  oci::Reference image() const { return parseRef(registry_->addr() + "/private/busybox:1"); }

  static TempDir* work_;
  static LoopbackRegistry* registry_;
  static bool pushed_;
};
TempDir* TlsAuthRegistry::work_ = nullptr;
LoopbackRegistry* TlsAuthRegistry::registry_ = nullptr;
bool TlsAuthRegistry::pushed_ = false;

TEST_F(TlsAuthRegistry, PullsWithCaFileAndBasicAuth) {
  FreshStore s;
  auto r = pull(image(), options("good.json"), s.store);
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(r->blobsDownloaded, 2);
  EXPECT_TRUE(s.store.has(r->layers.at(0)));
}

TEST_F(TlsAuthRegistry, WrongPasswordIsUnauthorized) {
  FreshStore s;
  auto r = pull(image(), options("bad.json"), s.store);
  ASSERT_FALSE(r.ok());
  std::string msg = r.error().str();
  EXPECT_NE(msg.find("unauthorized"), std::string::npos) << msg;
  EXPECT_NE(msg.find("user \"alice\""), std::string::npos) << msg;
  EXPECT_NE(msg.find("401"), std::string::npos) << msg;
  EXPECT_NE(msg.find("pull " + image().str()), std::string::npos) << msg;
}

TEST_F(TlsAuthRegistry, NoCredentialsSaysLoginNeeded) {
  FreshStore s;
  auto r = pull(image(), options(""), s.store);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().str().find("requires a login"), std::string::npos) << r.error().str();
}

TEST_F(TlsAuthRegistry, UnknownCaIsATlsFailureNamingTheCa) {
  FreshStore s;
  PullOptions o = options("good.json");
  o.caFile.clear();
  auto r = pull(image(), o, s.store);
  ASSERT_FALSE(r.ok());
  std::string msg = r.error().str();
  EXPECT_NE(msg.find("TLS failure talking to registry " + registry_->addr()), std::string::npos)
      << msg;
  EXPECT_NE(msg.find("system CA store"), std::string::npos) << msg;
  EXPECT_NE(msg.find("certificate"), std::string::npos) << msg;
}

TEST_F(TlsAuthRegistry, InsecureListSkipsVerification) {
  FreshStore s;
  PullOptions o = options("good.json");
  o.caFile.clear();
  o.insecureRegistries = {"127.0.0.1"};  // a host without port covers every port
  auto r = pull(image(), o, s.store);
  ASSERT_TRUE(r.ok()) << r.error().str();
}

class TokenRegistry : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!toolsPresent()) return;
    work_ = new TempDir();
    tokens_ = new test::TokenServer(work_->path(), "bob", "hunter2");
    if (!tokens_->ok()) return;
    std::string flags = "--token '" + tokens_->realm() + "' " + test::TokenServer::kService + " " +
                        test::TokenServer::kIssuer + " " + tokens_->certFile();
    registry_ = new LoopbackRegistry(work_->path() + "/registry", flags);
    if (!registry_->ok()) return;
    pushed_ = registry_->push(
        "oci:" + mkimage("layers " + work_->path() + "/tok 64 k1 k2") + ":latest", "team/tok:v1",
        "--creds bob:hunter2");
    writeAuthFile(work_->path() + "/auth.json", registry_->addr(), "bob", "hunter2");
  }
  static void TearDownTestSuite() {
    delete registry_;
    delete tokens_;
    delete work_;
    registry_ = nullptr;
    tokens_ = nullptr;
    work_ = nullptr;
  }
  void SetUp() override {
    if (!toolsPresent()) GTEST_SKIP() << "needs docker-registry, skopeo, openssl, htpasswd";
    ASSERT_TRUE(registry_ != nullptr && registry_->ok() && pushed_) << "registry setup failed";
  }
  PullOptions options() const {
    PullOptions o;
    o.insecureRegistries = {registry_->addr()};
    o.connectTimeoutSec = 5;
    o.stallTimeoutSec = 10;
    return o;
  }

  static TempDir* work_;
  static test::TokenServer* tokens_;
  static LoopbackRegistry* registry_;
  static bool pushed_;
};
TempDir* TokenRegistry::work_ = nullptr;
test::TokenServer* TokenRegistry::tokens_ = nullptr;
LoopbackRegistry* TokenRegistry::registry_ = nullptr;
bool TokenRegistry::pushed_ = false;

TEST_F(TokenRegistry, BearerTokenFetchedOnceAndReused) {
  FreshStore s;
  PullOptions o = options();
  o.authFile = work_->path() + "/auth.json";
  o.parallelism = 3;
  int issuedBefore = tokens_->issued();
  auto r = pull(parseRef(registry_->addr() + "/team/tok:v1"), o, s.store);
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(r->blobsDownloaded, 3);
  // One token for the repository scope, cached for the blob downloads.
  EXPECT_EQ(tokens_->issued() - issuedBefore, 1);
}

TEST_F(TokenRegistry, AnonymousIsRefusedByTheTokenServer) {
  FreshStore s;
  int refusedBefore = tokens_->refused();
  auto r = pull(parseRef(registry_->addr() + "/team/tok:v1"), options(), s.store);
  ASSERT_FALSE(r.ok());
  std::string msg = r.error().str();
  EXPECT_NE(msg.find("unauthorized: token server " + tokens_->realm()), std::string::npos) << msg;
  EXPECT_NE(msg.find("anonymous"), std::string::npos) << msg;
  EXPECT_EQ(tokens_->refused() - refusedBefore, 1);
}

}  // namespace
}  // namespace berth::image::registry
