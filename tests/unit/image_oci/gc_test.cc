// Garbage collection: keeps everything an indexed image reaches (blobs and
// layer directories), removes the rest, reports what went and how much.
#include "image/oci/gc.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "image/oci/config.h"
#include "image/oci/import.h"
#include "tests/unit/image_oci/image_fixtures.h"
#include "tests/support/temp_dir.h"

namespace berth::image::oci {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;
using berth::tests::TempDir;

std::string layerDir(const TempDir& root, const store::Digest& chain) {
  return root / ("layers/" + std::string(chain.hex()));
}

TEST(Gc, KeepsReferencedAndRemovesUnreferenced) {
  TempDir tmp;
  auto store = *store::ContentStore::open(tmp.path());
  auto index = *store::ImageIndex::open(tmp.path());
  std::string base = testing::layerTar("etc/base", "base", tmp.path());
  std::string a = testing::layerTar("a", "only in a", tmp.path());
  std::string b = testing::layerTar("b", "only in b", tmp.path());
  auto imgA = testing::makeImage({base, a}, "a");
  auto imgB = testing::makeImage({base, b}, "b");
  testing::writeTar(tmp / "two.tar", testing::ociLayoutMembers({{imgA, "x/a:1"}, {imgB, "x/b:1"}}));
  ASSERT_TRUE(importOciArchive(store, index, tmp / "two.tar").ok());
  ASSERT_EQ(store.list()->size(), 7u);

  // Unpacked layers of both images, one stale layer and the unpacker's temp dir.
  auto chainsA = chainIds({store::sha256Of(base), store::sha256Of(a)});
  auto chainsB = chainIds({store::sha256Of(base), store::sha256Of(b)});
  store::Digest stale = store::sha256Of("stale");
  for (const auto& c : {chainsA[0], chainsA[1], chainsB[1], stale}) {
    ASSERT_TRUE(sys::mkdirAll(layerDir(tmp, c) + "/usr").ok());
    ASSERT_TRUE(sys::writeFileAtomic(layerDir(tmp, c) + "/usr/file", "12345").ok());
  }
  ASSERT_TRUE(sys::mkdirAll(tmp / "layers/tmp-unpack-123").ok());

  // Nothing to collect while both are named (dry run and real).
  auto none = collectGarbage(store, index);
  ASSERT_TRUE(none.ok()) << none.error().str();
  EXPECT_TRUE(none->removedBlobs.empty());
  EXPECT_THAT(none->removedLayers, ElementsAre(std::string(stale.hex())));
  EXPECT_EQ(none->bytesFreed, 5u);

  // rm x/b:1, then prune: b's layer, config and manifest go; the shared base stays.
  ASSERT_TRUE(*index.remove("docker.io/x/b:1"));
  GcOptions dry;
  dry.dryRun = true;
  auto preview = collectGarbage(store, index, dry);
  ASSERT_TRUE(preview.ok());
  EXPECT_EQ(preview->removedBlobs.size(), 3u);
  EXPECT_EQ(store.list()->size(), 7u) << "a dry run removes nothing";
  EXPECT_TRUE(sys::pathExists(layerDir(tmp, chainsB[1])));

  auto report = collectGarbage(store, index);
  ASSERT_TRUE(report.ok()) << report.error().str();
  EXPECT_THAT(report->removedBlobs, UnorderedElementsAre(store::sha256Of(b), store::sha256Of(imgB.config),
                                                         store::sha256Of(imgB.manifest)));
  EXPECT_THAT(report->removedLayers, ElementsAre(std::string(chainsB[1].hex())));
  EXPECT_EQ(report->bytesFreed, b.size() + imgB.config.size() + imgB.manifest.size() + 5u);
  EXPECT_EQ(store.list()->size(), 4u);
  for (const auto& keep : {base, a, imgA.config, imgA.manifest}) EXPECT_TRUE(store.has(store::sha256Of(keep)));
  EXPECT_TRUE(sys::pathExists(layerDir(tmp, chainsA[0])));
  EXPECT_TRUE(sys::pathExists(layerDir(tmp, chainsA[1])));
  EXPECT_FALSE(sys::pathExists(layerDir(tmp, chainsB[1])));
  EXPECT_TRUE(sys::pathExists(tmp / "layers/tmp-unpack-123")) << "names that are not chain ids are never touched";

  // The last image gone, everything goes.
  ASSERT_TRUE(*index.remove("docker.io/x/a:1"));
  auto all = collectGarbage(store, index);
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(store.list()->empty());
  EXPECT_FALSE(sys::pathExists(layerDir(tmp, chainsA[0])));
}

TEST(Gc, MultiPlatformIndexKeepsEveryPlatform) {
  TempDir tmp;
  auto store = *store::ContentStore::open(tmp.path());
  auto index = *store::ImageIndex::open(tmp.path());
  auto amd = testing::makeImage({testing::layerTar("amd", "1", tmp.path())}, "amd");
  auto arm = testing::makeImage({testing::layerTar("arm", "2", tmp.path())}, "arm");
  for (const auto* img : {&amd, &arm}) {
    for (const auto& blob : {img->layers[0], img->config, img->manifest}) ASSERT_TRUE(store.putAny(blob).ok());
  }
  std::string idx = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[)" +
                    testing::descriptorJson(kOciManifest, amd.manifest) + "," +
                    testing::descriptorJson(kOciManifest, arm.manifest) + "]}";
  auto idxDigest = *store.putAny(idx);
  ASSERT_TRUE(store.putAny("garbage").ok());
  ASSERT_TRUE(index.set({"docker.io/library/multi:1", idxDigest, std::string(kOciIndex), 0}).ok());
  auto report = collectGarbage(store, index);
  ASSERT_TRUE(report.ok()) << report.error().str();
  EXPECT_THAT(report->removedBlobs, ElementsAre(store::sha256Of("garbage")));
  EXPECT_EQ(store.list()->size(), 7u);
}

TEST(Gc, NeverDeletesOnDoubt) {
  TempDir tmp;
  auto store = *store::ContentStore::open(tmp.path());
  auto index = *store::ImageIndex::open(tmp.path());
  auto img = testing::makeImage({testing::layerTar("a", "1", tmp.path())}, "a");
  ASSERT_TRUE(store.putAny(img.manifest).ok());  // config and layer never arrived
  ASSERT_TRUE(index.set({"docker.io/library/broken:1", store::sha256Of(img.manifest), std::string(kOciManifest), 0}).ok());
  store::Digest someChain = store::sha256Of("some layer");
  ASSERT_TRUE(sys::mkdirAll(tmp / ("layers/sha256:" + std::string(someChain.hex()))).ok());
  auto report = collectGarbage(store, index);
  ASSERT_TRUE(report.ok()) << report.error().str();
  EXPECT_TRUE(report->removedLayers.empty());
  EXPECT_THAT(report->layersSkipped, HasSubstr("missing"));
  EXPECT_TRUE(store.has(store::sha256Of(img.manifest)));

  // A manifest that no longer parses aborts the collection.
  auto junk = *store.putAny("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\"}");
  ASSERT_TRUE(index.set({"docker.io/library/junk:1", junk, std::string(kOciManifest), 0}).ok());
  ASSERT_TRUE(store.putAny("garbage").ok());
  auto failed = collectGarbage(store, index);
  ASSERT_FALSE(failed.ok());
  EXPECT_THAT(failed.error().what(), HasSubstr("docker.io/library/junk:1"));
  EXPECT_TRUE(store.has(store::sha256Of("garbage")));
}

TEST(Gc, LayerDirNames) {
  std::string hex(64, 'a');
  EXPECT_TRUE(layerDirChainId(hex));
  EXPECT_TRUE(layerDirChainId("sha256:" + hex));
  EXPECT_TRUE(layerDirChainId("sha256-" + hex));
  EXPECT_FALSE(layerDirChainId(hex + ".tmp"));
  EXPECT_FALSE(layerDirChainId(std::string(64, 'A')));
  EXPECT_FALSE(layerDirChainId("tmp"));
}

}  // namespace
}  // namespace berth::image::oci
