// Import of OCI layouts, oci-archives and docker-archives (made by skopeo
// and by hand, single and multi-image), with every blob verified, names in
// the index, and hostile or inconsistent archives refused with a reason.
#include "image/oci/import.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "image/oci/config.h"
#include "image/oci/manifest.h"
#include "tests/unit/image_oci/image_fixtures.h"
#include "tests/support/temp_dir.h"

namespace berth::image::oci {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::Member;
using berth::tests::TempDir;

class Import : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(tmp_.path().empty());
    ASSERT_TRUE(sys::mkdirAll(tmp_ / "root").ok());
    ASSERT_TRUE(sys::mkdirAll(tmp_ / "src").ok());
    store_ = std::make_unique<store::ContentStore>(*store::ContentStore::open(tmp_ / "root"));
    index_ = std::make_unique<store::ImageIndex>(*store::ImageIndex::open(tmp_ / "root"));
  }

  std::string src(const std::string& name) const { return tmp_ / ("src/" + name); }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    auto all = index_->list();
    EXPECT_TRUE(all.ok());
    for (const auto& r : *all) out.push_back(r.name);
    return out;
  }
  store::ImageRecord record(const std::string& name) const {
    auto r = index_->get(name);
    EXPECT_TRUE(r.ok() && r->has_value()) << name;
    return r.ok() && r->has_value() ? **r : store::ImageRecord{};
  }
  // The image config an indexed image manifest points at.
  ImageConfig configOf(const std::string& name) const {
    auto m = parseManifest(*store_->readBlob(record(name).manifest));
    EXPECT_TRUE(m.ok());
    auto c = parseImageConfig(*store_->readBlob(m->config.digest));
    EXPECT_TRUE(c.ok());
    return c.ok() ? *c : ImageConfig{};
  }
  std::string importError(const std::string& path, const ImportOptions& options = {}) {
    auto r = importImage(*store_, *index_, path, options);
    return r.ok() ? std::string("(imported)") : r.error().what();
  }

  TempDir tmp_;
  std::unique_ptr<store::ContentStore> store_;
  std::unique_ptr<store::ImageIndex> index_;
};

TEST_F(Import, BusyboxOciArchiveFromMkimage) {
  std::string archive = testing::busyboxOciArchive();
  ASSERT_FALSE(archive.empty());
  auto r = importOciArchive(*store_, *index_, archive);
  ASSERT_TRUE(r.ok()) << r.error().str();
  ASSERT_EQ(r->size(), 1u);
  // ref.name is only "latest"; containerd's annotation gives the full name.
  EXPECT_EQ((*r)[0].name, "docker.io/library/berth-busybox:latest");
  EXPECT_EQ((*r)[0].mediaType, kOciManifest);
  EXPECT_THAT(names(), ElementsAre("docker.io/library/berth-busybox:latest"));
  auto config = configOf("docker.io/library/berth-busybox:latest");
  ASSERT_TRUE(config.config.cmd);
  EXPECT_THAT(*config.config.cmd, ElementsAre("sh"));
  EXPECT_EQ(store_->list()->size(), 3u) << "manifest, config, layer";
  auto blobs = store_->list();
  for (const auto& d : *blobs) EXPECT_TRUE(store_->verify(d).ok());
  // Importing again changes nothing and succeeds.
  ASSERT_TRUE(importImage(*store_, *index_, archive).ok());
  EXPECT_EQ(store_->list()->size(), 3u);
}

TEST_F(Import, OciLayoutDirectory) {
  std::string archive = testing::busyboxOciArchive();
  ASSERT_FALSE(archive.empty());
  ASSERT_TRUE(sys::mkdirAll(src("layout")).ok());
  ASSERT_EQ(testing::run("tar -C " + src("layout") + " -xf " + archive), 0);
  auto r = importImage(*store_, *index_, src("layout"));
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_THAT(names(), ElementsAre("docker.io/library/berth-busybox:latest"));
  EXPECT_EQ(store_->list()->size(), 3u);

  // A corrupted blob in the layout is caught by verification.
  TempDir other;
  auto store2 = *store::ContentStore::open(other.path());
  auto index2 = *store::ImageIndex::open(other.path());
  std::string layer;
  auto blobs = store_->list();
  for (const auto& d : *blobs) {
    if (*store_->size(d) > 10000) layer = std::string(d.hex());
  }
  ASSERT_FALSE(layer.empty());
  std::string blob = src("layout/blobs/sha256/" + layer);
  ASSERT_TRUE(sys::writeFile(blob, "tampered").ok() || ::truncate(blob.c_str(), 0) == 0);
  auto bad = importOciLayout(store2, index2, src("layout"));
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.error().what(), HasSubstr("sha256:" + layer));
  EXPECT_TRUE(index2.list()->empty());
}

TEST_F(Import, SkopeoMadeLayoutAndDockerArchive) {
  if (testing::run("command -v skopeo") != 0) GTEST_SKIP() << "skopeo not installed";
  std::string archive = testing::busyboxOciArchive();
  ASSERT_FALSE(archive.empty());
  ASSERT_EQ(testing::run("skopeo copy oci-archive:" + archive + " oci:" + src("sk-layout") + ":busybox:2.0"), 0);
  ASSERT_EQ(testing::run("skopeo copy oci-archive:" + archive + " docker-archive:" + src("da.tar") +
                         ":example.com/team/busybox:1.0"),
            0);
  auto layout = importImage(*store_, *index_, src("sk-layout"));
  ASSERT_TRUE(layout.ok()) << layout.error().str();
  auto docker = importImage(*store_, *index_, src("da.tar"));
  ASSERT_TRUE(docker.ok()) << docker.error().str();
  EXPECT_THAT(names(), ElementsAre("docker.io/library/busybox:2.0", "example.com/team/busybox:1.0"));

  // The docker-archive's synthesized manifest: OCI, one uncompressed layer
  // whose digest is the config's diff_id.
  auto m = parseManifest(*store_->readBlob(record("example.com/team/busybox:1.0").manifest));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->mediaType, kOciManifest);
  EXPECT_EQ(m->config.mediaType, kOciConfig);
  ASSERT_EQ(m->layers.size(), 1u);
  EXPECT_EQ(m->layers[0].mediaType, kOciLayer);
  auto config = configOf("example.com/team/busybox:1.0");
  ASSERT_EQ(config.rootfs.diffIds.size(), 1u);
  EXPECT_EQ(m->layers[0].digest, config.rootfs.diffIds[0]);
  EXPECT_TRUE(store_->verify(m->layers[0].digest).ok());
}

// Two images sharing a base layer, in the classic `docker save` shape:
// "<id>/layer.tar" symlinks, legacy json/VERSION files, several RepoTags.
TEST_F(Import, MultiImageDockerArchiveByHand) {
  std::string base = testing::layerTar("etc/os-release", "ID=berth\n", tmp_.path());
  std::string app = testing::layerTar("app/run", "#!/bin/sh\necho app\n", tmp_.path());
  std::string tool = testing::layerTar("usr/bin/tool", "tool\n", tmp_.path());
  std::string c1 = testing::configJson({base, app}, "/app/run");
  std::string c2 = testing::configJson({base, tool}, "tool");
  auto h = testing::hexOf;
  std::string manifest = R"([{"Config":")" + h(c1) + R"(.json","RepoTags":["app:1","app:latest"],"Layers":[")" +
                         h(base) + R"(/layer.tar","ids1/layer.tar"]},)" + R"({"Config":")" + h(c2) +
                         R"(.json","RepoTags":["registry.local:5000/tool:2"],"Layers":[")" + h(base) +
                         R"(/layer.tar",")" + h(tool) + R"(.tar"]}])";
  testing::writeTar(src("multi.tar"), {{h(base), "", 'd'},
                                       {h(base) + "/VERSION", "1.0"},
                                       {h(base) + "/json", "{}"},
                                       {h(base) + "/layer.tar", base},
                                       {"ids1", "", 'd'},
                                       {"ids1/layer.tar", "", 'l', "../" + h(app) + ".tar"},
                                       {h(app) + ".tar", app},
                                       {h(tool) + ".tar", tool},
                                       {h(c1) + ".json", c1},
                                       {h(c2) + ".json", c2},
                                       {"manifest.json", manifest},
                                       {"repositories", "{}"}});
  auto r = importDockerArchive(*store_, *index_, src("multi.tar"));
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(r->size(), 3u);
  EXPECT_THAT(names(), ElementsAre("docker.io/library/app:1", "docker.io/library/app:latest",
                                   "registry.local:5000/tool:2"));
  EXPECT_EQ(record("docker.io/library/app:1").manifest, record("docker.io/library/app:latest").manifest);
  EXPECT_NE(record("docker.io/library/app:1").manifest, record("registry.local:5000/tool:2").manifest);
  auto m = parseManifest(*store_->readBlob(record("registry.local:5000/tool:2").manifest));
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m->layers.size(), 2u);
  EXPECT_EQ(m->layers[0].digest, store::sha256Of(base));
  EXPECT_EQ(m->layers[1].digest, store::sha256Of(tool));
  EXPECT_THAT(*configOf("docker.io/library/app:latest").config.cmd, ElementsAre("/app/run"));
  // The legacy files are not content.
  EXPECT_FALSE(store_->has(store::sha256Of("1.0")));
  // 3 layers, 2 configs, 2 synthesized manifests.
  EXPECT_EQ(store_->list()->size(), 7u);
}

TEST_F(Import, HandMadeOciArchiveNamesAndCallerName) {
  auto img1 = testing::makeImage({testing::layerTar("a", "1", tmp_.path())}, "one");
  auto img2 = testing::makeImage({testing::layerTar("b", "2", tmp_.path())}, "two");
  auto img3 = testing::makeImage({testing::layerTar("c", "3", tmp_.path())}, "three");
  testing::writeTar(src("three.tar"),
                    testing::ociLayoutMembers({{img1, "quay.io/org/one:v1"}, {img2, "stable"}, {img3, ""}}));
  // Without a caller name the tag-only and the unnamed image stay unnamed.
  auto r = importOciArchive(*store_, *index_, src("three.tar"));
  ASSERT_TRUE(r.ok()) << r.error().str();
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[1].name, "");
  EXPECT_THAT(names(), ElementsAre("quay.io/org/one:v1"));
  // With two unnamed images a caller name cannot pick one.
  ASSERT_TRUE(importOciArchive(*store_, *index_, src("three.tar"), {"mine"}).ok());
  EXPECT_THAT(names(), ElementsAre("quay.io/org/one:v1"));
  // With one, it names it.
  testing::writeTar(src("one.tar"), testing::ociLayoutMembers({{img3, ""}}));
  auto named = importImage(*store_, *index_, src("one.tar"), {"mine"});
  ASSERT_TRUE(named.ok()) << named.error().str();
  EXPECT_THAT(names(), ElementsAre("docker.io/library/mine:latest", "quay.io/org/one:v1"));
  EXPECT_EQ(record("docker.io/library/mine:latest").manifest, store::sha256Of(img3.manifest));
  EXPECT_THAT(importError(src("one.tar"), {"Bad Name"}), HasSubstr("invalid reference"));
}

TEST_F(Import, HostileMemberNamesAreRefused) {
  auto img = testing::makeImage({testing::layerTar("a", "1", tmp_.path())}, "one");
  auto base = testing::ociLayoutMembers({{img, "x:1"}});
  struct Case {
    std::string file;
    Member member;
    std::string reason;
  };
  std::vector<Case> cases = {
      {"dotdot.tar", {"../x", "evil"}, "\"../x\": \"..\" components are not allowed"},
      {"inner-dotdot.tar", {"blobs/../../x", "evil"}, "\"..\" components are not allowed"},
      {"absolute.tar", {"/etc/passwd", "evil"}, "\"/etc/passwd\": absolute names are not allowed"},
      {"symlink.tar", {"blobs/sha256/link", "", 'l', "../../../etc/passwd"}, "target escapes the archive"},
      {"abs-symlink.tar", {"evil", "", 'l', "/etc/shadow"}, "absolute target"},
      {"hardlink.tar", {"evil", "", 'h', "../outside"}, "\"..\" components are not allowed"},
      {"device.tar", {"dev-null", "", 'c'}, "unexpected member type"},
  };
  for (const auto& c : cases) {
    auto members = base;
    members.insert(members.begin() + 1, c.member);
    testing::writeTar(src(c.file), members);
    std::string err = importError(src(c.file));
    EXPECT_THAT(err, HasSubstr(c.reason)) << c.file;
    EXPECT_THAT(err, HasSubstr(src(c.file))) << "the error names the archive";
  }
  EXPECT_TRUE(names().empty()) << "no hostile archive names an image";
}

TEST_F(Import, HostileDockerArchivePathsAreRefused) {
  std::string layer = testing::layerTar("a", "1", tmp_.path());
  std::string config = testing::configJson({layer}, "x");
  auto h = testing::hexOf;
  testing::writeTar(src("da.tar"), {{h(config) + ".json", config},
                                    {"l.tar", layer},
                                    {"manifest.json", R"([{"Config":")" + h(config) +
                                                          R"(.json","RepoTags":["x:1"],"Layers":["../../etc/shadow"]}])"}});
  EXPECT_THAT(importError(src("da.tar")), HasSubstr("\"..\" components are not allowed"));
  EXPECT_TRUE(names().empty());
}

TEST_F(Import, InconsistentArchivesAreRefused) {
  auto img = testing::makeImage({testing::layerTar("a", "1", tmp_.path())}, "one");
  // A blob whose content does not match its name.
  auto members = testing::ociLayoutMembers({{img, "x:1"}});
  for (auto& m : members) {
    if (m.name == "blobs/sha256/" + testing::hexOf(img.layers[0])) m.data = "not the layer";
  }
  testing::writeTar(src("mismatch.tar"), members);
  std::string err = importError(src("mismatch.tar"));
  EXPECT_THAT(err, HasSubstr("digest mismatch: expected " + testing::digestOf(img.layers[0])));
  EXPECT_THAT(err, HasSubstr("got " + testing::digestOf("not the layer")));

  // A referenced blob that is not there (nor in the store from before).
  img = testing::makeImage({testing::layerTar("a", "1", tmp_.path())}, "two");
  members = testing::ociLayoutMembers({{img, "x:1"}});
  std::erase_if(members, [&](const Member& m) { return m.name == "blobs/sha256/" + testing::hexOf(img.config); });
  testing::writeTar(src("missing.tar"), members);
  EXPECT_THAT(importError(src("missing.tar")),
              HasSubstr("blob " + testing::digestOf(img.config) + " (application/vnd.oci.image.config.v1+json) is "
                        "missing from the archive"));

  // A descriptor announcing the wrong size.
  auto lying = img;
  std::string good = testing::descriptorJson(kOciLayer, img.layers[0]);
  std::string bad = good;
  bad.replace(bad.find("\"size\":"), std::string::npos, "\"size\":3}");
  lying.manifest.replace(lying.manifest.find(good), good.size(), bad);
  testing::writeTar(src("size.tar"), testing::ociLayoutMembers({{lying, "x:1"}}));
  EXPECT_THAT(importError(src("size.tar")), HasSubstr("size mismatch"));

  // A docker-archive layer that is not what the config's diff_id says.
  std::string layer = testing::layerTar("a", "1", tmp_.path());
  std::string other = testing::layerTar("b", "2", tmp_.path());
  std::string config = testing::configJson({layer}, "x");
  auto h = testing::hexOf;
  testing::writeTar(src("diffid.tar"),
                    {{h(config) + ".json", config},
                     {"l.tar", other},
                     {"manifest.json", R"([{"Config":")" + h(config) + R"(.json","RepoTags":["x:1"],"Layers":["l.tar"]}])"}});
  err = importError(src("diffid.tar"));
  EXPECT_THAT(err, HasSubstr("layer \"l.tar\" is " + testing::digestOf(other)));
  EXPECT_THAT(err, HasSubstr("diff_id says " + testing::digestOf(layer)));

  // Not an image archive at all.
  testing::writeTar(src("plain.tar"), {{"hello.txt", "hi"}});
  EXPECT_THAT(importError(src("plain.tar")), HasSubstr("neither an oci-archive"));
  EXPECT_THAT(importError(src("does-not-exist.tar")), HasSubstr("does-not-exist.tar"));
  EXPECT_TRUE(names().empty());
}

// `docker save` of a multi-platform image writes the whole index but only
// the blobs of the pulled platform: that imports, as long as the host's
// image is complete.
TEST_F(Import, MultiPlatformIndexNeedsOnlyTheHostImage) {
  auto host = testing::makeImage({testing::layerTar("host", "1", tmp_.path())}, "host");
  auto other = testing::makeImage({testing::layerTar("other", "2", tmp_.path())}, "other");
  std::string hostPlatform = oci::hostPlatform().architecture;
  std::string otherArch = hostPlatform == "riscv64" ? "s390x" : "riscv64";
  auto entry = [](const testing::TestImage& img, const std::string& arch) {
    std::string d = testing::descriptorJson(kOciManifest, img.manifest);
    d.pop_back();
    return d + R"(,"platform":{"os":"linux","architecture":")" + arch + "\"}}";
  };
  std::string index = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[)" +
                      entry(host, hostPlatform) + "," + entry(other, otherArch) + "]}";
  auto members = [&](const testing::TestImage& present) {
    std::vector<Member> out{{"oci-layout", R"({"imageLayoutVersion":"1.0.0"})"},
                            {"blobs/sha256/" + testing::hexOf(index), index}};
    for (const auto& blob : {present.layers[0], present.config, present.manifest}) {
      out.push_back({"blobs/sha256/" + testing::hexOf(blob), blob});
    }
    out.push_back({"index.json", R"({"schemaVersion":2,"manifests":[)" +
                                     testing::descriptorJson(kOciIndex, index) + "]}"});
    return out;
  };
  testing::writeTar(src("host-only.tar"), members(host));
  auto r = importImage(*store_, *index_, src("host-only.tar"), {"multi"});
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(record("docker.io/library/multi:latest").mediaType, kOciIndex);

  TempDir other2;
  auto store2 = *store::ContentStore::open(other2.path());
  auto index2 = *store::ImageIndex::open(other2.path());
  testing::writeTar(src("other-only.tar"), members(other));
  auto bad = importImage(store2, index2, src("other-only.tar"), {"multi"});
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.error().what(), HasSubstr("missing from the archive"));
}

}  // namespace
}  // namespace berth::image::oci
