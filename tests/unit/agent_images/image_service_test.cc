// ImageService without root: import of small OCI layouts and archives built
// here, resolve by name / id / prefix, list, inspect, remove, prune, the
// in-use rules and what garbage collection keeps. Each test has its own data
// root, removed afterwards.
#include "agent/images/image_service.h"

#include <gtest/gtest.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "runtime/sys/fs.h"
#include "tests/unit/image_oci/image_fixtures.h"

namespace berth::agent::images {
namespace {

namespace t = ::berth::image::testing;

bool exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

class ImageServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    base_ = "/tmp/berth-agent-images-" + std::to_string(::getpid()) + "-" + info->name();
    ASSERT_TRUE(sys::removeAll(base_).ok());
    ASSERT_TRUE(sys::mkdirAll(base_ + "/src").ok());
    root_ = base_ + "/root";
    ImageServiceOptions options;
    options.resolvePinSeconds = 0;  // see ResolvedLayersOutliveARemoveForAWhile
    auto service = ImageService::open(root_, options);
    ASSERT_TRUE(service.ok()) << service.error().str();
    service_ = std::move(*service);
    one_ = t::makeImage(
        {t::layerTar("etc/one", "one", base_), t::layerTar("bin/app", "app-v1", base_)},
        "/bin/app");
    two_ = t::makeImage(
        {t::layerTar("etc/one", "one", base_), t::layerTar("bin/app", "app-v2", base_)},
        "/bin/app2");
  }
  void TearDown() override {
    service_.reset();
    EXPECT_TRUE(sys::removeAll(base_).ok());
  }

  std::string archive(const std::vector<std::pair<t::TestImage, std::string>>& images) {
    std::string path = base_ + "/src/image-" + std::to_string(counter_++) + ".tar";
    t::writeTar(path, t::ociLayoutMembers(images));
    return path;
  }
  // The same members written as an OCI layout directory.
  std::string layoutDir(const std::vector<std::pair<t::TestImage, std::string>>& images) {
    std::string dir = base_ + "/src/layout-" + std::to_string(counter_++);
    for (const auto& m : t::ociLayoutMembers(images)) {
      std::string path = dir + "/" + m.name;
      if (m.type == 'd') {
        EXPECT_TRUE(sys::mkdirAll(path).ok());
      } else {
        EXPECT_TRUE(sys::mkdirAll(path.substr(0, path.rfind('/'))).ok());
        EXPECT_TRUE(sys::writeFileAtomic(path, m.data).ok());
      }
    }
    return dir;
  }
  pb::ImageImportReply importOk(const std::string& path, const std::string& reference = "") {
    pb::ImageImportRequest request;
    request.set_path(path);
    request.set_reference(reference);
    auto reply = service_->import(request);
    EXPECT_TRUE(reply.ok()) << reply.error().str();
    return reply.ok() ? *reply : pb::ImageImportReply{};
  }
  std::vector<pb::ImageSummary> listImages(bool all) {
    pb::ImageListRequest request;
    request.set_all(all);
    auto reply = service_->list(request);
    EXPECT_TRUE(reply.ok()) << reply.error().str();
    return reply.ok()
               ? std::vector<pb::ImageSummary>(reply->images().begin(), reply->images().end())
               : std::vector<pb::ImageSummary>{};
  }
  api::CallResult<pb::ImageRemoveReply> removeImage(const std::string& reference,
                                                    bool force = false) {
    pb::ImageRemoveRequest request;
    request.set_reference(reference);
    request.set_force(force);
    return service_->remove(request);
  }
  std::string idOf(const t::TestImage& image) { return t::digestOf(image.config); }
  std::string layerDir(const t::TestImage& image, size_t i) {
    std::vector<image::store::Digest> diffIds;
    for (const auto& l : image.layers) diffIds.push_back(image::store::sha256Of(l));
    return root_ + "/layers/" + std::string(image::oci::chainIds(diffIds)[i].hex());
  }

  std::string base_;
  std::string root_;
  int counter_ = 0;
  std::unique_ptr<ImageService> service_;
  t::TestImage one_;
  t::TestImage two_;
};

TEST_F(ImageServiceTest, ImportArchiveThenResolveByNameGivesUnpackedLayersLowestFirst) {
  auto reply = importOk(archive({{one_, "localhost/one:1"}}));
  ASSERT_EQ(reply.images_size(), 1);
  EXPECT_EQ(reply.images(0).id(), idOf(one_));
  ASSERT_EQ(reply.images(0).references_size(), 1);
  EXPECT_EQ(reply.images(0).references(0), "localhost/one:1");

  auto resolved = service_->resolve("localhost/one:1");
  ASSERT_TRUE(resolved.ok()) << resolved.error().str();
  EXPECT_EQ(resolved->reference, "localhost/one:1");
  EXPECT_EQ(resolved->imageId, idOf(one_));
  EXPECT_EQ(resolved->manifestDigest, t::digestOf(one_.manifest));
  ASSERT_EQ(resolved->layerDirs.size(), 2u);
  EXPECT_EQ(resolved->layerDirs[0], layerDir(one_, 0));
  EXPECT_EQ(*sys::readFile(resolved->layerDirs[0] + "/etc/one"), "one");
  EXPECT_EQ(*sys::readFile(resolved->layerDirs[1] + "/bin/app"), "app-v1");
  ASSERT_TRUE(resolved->config.config.cmd.has_value());
  EXPECT_EQ(*resolved->config.config.cmd, std::vector<std::string>{"/bin/app"});
}

TEST_F(ImageServiceTest, ImportLayoutDirWithReferenceNamesTheImageNormalized) {
  auto reply = importOk(layoutDir({{one_, ""}}), "tiny");
  ASSERT_EQ(reply.images_size(), 1);
  ASSERT_EQ(reply.images(0).references_size(), 1);
  EXPECT_EQ(reply.images(0).references(0), "docker.io/library/tiny:latest");
  for (const char* name :
       {"tiny", "tiny:latest", "docker.io/library/tiny", "docker.io/library/tiny:latest"}) {
    auto resolved = service_->resolve(name);
    ASSERT_TRUE(resolved.ok()) << name << ": " << resolved.error().str();
    EXPECT_EQ(resolved->reference, "docker.io/library/tiny:latest");
  }
  EXPECT_FALSE(service_->resolve("tiny:2").ok());
}

TEST_F(ImageServiceTest, ResolveByIdAndIdPrefix) {
  importOk(archive({{one_, "localhost/one:1"}}));
  std::string id = idOf(one_);
  std::string hex = id.substr(7);
  for (const std::string& text : {id, hex, id.substr(0, 7 + 12), hex.substr(0, 4)}) {
    auto resolved = service_->resolve(text);
    ASSERT_TRUE(resolved.ok()) << text << ": " << resolved.error().str();
    EXPECT_EQ(resolved->imageId, id);
    EXPECT_EQ(resolved->reference, id);
    EXPECT_EQ(resolved->layerDirs.size(), 2u);
  }
  auto tooShort = service_->resolve("sha256:" + hex.substr(0, 3));
  ASSERT_FALSE(tooShort.ok());
  EXPECT_EQ(tooShort.error().code, pb::INVALID_ARGUMENT);
}

TEST_F(ImageServiceTest, ResolveMissingSaysHowToGetIt) {
  importOk(archive({{one_, "localhost/one:1"}}));
  auto missing = service_->resolve("busybox");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, pb::NOT_FOUND);
  EXPECT_NE(missing.error().message.find("no such image: busybox"), std::string::npos)
      << missing.error().message;
  EXPECT_NE(missing.error().message.find("berth image pull busybox"), std::string::npos);
  auto badId = service_->resolve("sha256:ffffffffff");
  ASSERT_FALSE(badId.ok());
  EXPECT_EQ(badId.error().code, pb::NOT_FOUND);
  auto invalid = service_->resolve("UPPER/Case:!");
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(invalid.error().code, pb::INVALID_ARGUMENT);
}

TEST_F(ImageServiceTest, ListShowsNamesSizePlatformAndAllAddsUntagged) {
  importOk(archive({{one_, "localhost/one:1"}}));
  importOk(archive({{two_, ""}}));  // unnamed: kept untagged
  auto tagged = listImages(false);
  ASSERT_EQ(tagged.size(), 1u);
  EXPECT_EQ(tagged[0].id(), idOf(one_));
  EXPECT_EQ(tagged[0].size(), one_.layers[0].size() + one_.layers[1].size());
  EXPECT_EQ(tagged[0].platform(), "linux/amd64");
  EXPECT_EQ(tagged[0].manifest_digest(), t::digestOf(one_.manifest));
  EXPECT_GT(tagged[0].created_ns(), 0);

  auto all = listImages(true);
  ASSERT_EQ(all.size(), 2u);
  const auto& untagged = all[0].id() == idOf(two_) ? all[0] : all[1];
  EXPECT_EQ(untagged.id(), idOf(two_));
  EXPECT_EQ(untagged.references_size(), 0);
  // An untagged image still runs by id.
  auto resolved = service_->resolve(idOf(two_).substr(7, 12));
  ASSERT_TRUE(resolved.ok()) << resolved.error().str();
  EXPECT_EQ(*sys::readFile(resolved->layerDirs[1] + "/bin/app"), "app-v2");
}

TEST_F(ImageServiceTest, InspectFillsFromTheImageConfig) {
  importOk(archive({{one_, "localhost/one:1"}}));
  pb::ImageInspectRequest request;
  request.set_reference("localhost/one:1");
  auto info = service_->inspect(request);
  ASSERT_TRUE(info.ok()) << info.error().str();
  EXPECT_EQ(info->summary().id(), idOf(one_));
  EXPECT_EQ(info->os(), "linux");
  EXPECT_EQ(info->architecture(), "amd64");
  ASSERT_EQ(info->cmd_size(), 1);
  EXPECT_EQ(info->cmd(0), "/bin/app");
  ASSERT_EQ(info->env_size(), 1);
  EXPECT_EQ(info->env(0), "PATH=/bin");
  ASSERT_EQ(info->layers_size(), 2);
  EXPECT_EQ(info->layers(0), t::digestOf(one_.layers[0]));
  request.set_reference("localhost/nope:1");
  auto missing = service_->inspect(request);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, pb::NOT_FOUND);
}

TEST_F(ImageServiceTest, RemoveUntagsUntilTheLastNameThenDeletesContent) {
  std::string src = archive({{one_, "localhost/one:1"}});
  importOk(src);
  importOk(src, "localhost/one:alias");
  auto first = removeImage("localhost/one:alias");
  ASSERT_TRUE(first.ok()) << first.error().str();
  ASSERT_EQ(first->untagged_size(), 1);
  EXPECT_EQ(first->deleted_size(), 0);
  EXPECT_TRUE(exists(layerDir(one_, 1)));
  EXPECT_TRUE(service_->resolve("localhost/one:1").ok());

  auto last = removeImage("localhost/one:1");
  ASSERT_TRUE(last.ok()) << last.error().str();
  ASSERT_EQ(last->deleted_size(), 1);
  EXPECT_EQ(last->deleted(0), idOf(one_));
  EXPECT_FALSE(exists(root_ + "/blobs/sha256/" + t::hexOf(one_.config)));
  EXPECT_FALSE(exists(root_ + "/blobs/sha256/" + t::hexOf(one_.layers[1])));
  EXPECT_FALSE(exists(layerDir(one_, 0)));
  EXPECT_TRUE(listImages(true).empty());
  auto again = removeImage("localhost/one:1");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, pb::NOT_FOUND);
}

TEST_F(ImageServiceTest, RemoveByIdTakesEveryNameAndKeepsSharedLayers) {
  std::string src = archive({{one_, "localhost/one:1"}});
  importOk(src);
  importOk(src, "localhost/one:2");
  importOk(archive({{two_, "localhost/two:1"}}));
  auto removed = removeImage(idOf(one_).substr(0, 7 + 8));
  ASSERT_TRUE(removed.ok()) << removed.error().str();
  EXPECT_EQ(removed->untagged_size(), 2);
  ASSERT_EQ(removed->deleted_size(), 1);
  auto left = listImages(true);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].id(), idOf(two_));
  // The base layer is two's too; one's top layer is gone.
  EXPECT_TRUE(exists(layerDir(two_, 0)));
  EXPECT_FALSE(exists(layerDir(one_, 1)));
  EXPECT_TRUE(service_->resolve("localhost/two:1").ok());
}

TEST_F(ImageServiceTest, RemoveOfAnImageInUseIsAConflictNamingTheContainers) {
  importOk(archive({{one_, "localhost/one:1"}}));
  std::string id = idOf(one_);
  std::vector<std::string> dirs = {layerDir(one_, 0), layerDir(one_, 1)};
  service_->setInUse([&] { return ImageService::InUse{{id}, {"web, db"}, dirs}; });
  auto refused = removeImage("localhost/one:1");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, pb::CONFLICT);
  EXPECT_NE(refused.error().message.find("web, db"), std::string::npos) << refused.error().message;
  EXPECT_TRUE(service_->resolve("localhost/one:1").ok());

  // Forced: the name goes, the image stays (untagged) for its containers.
  auto forced = removeImage("localhost/one:1", true);
  ASSERT_TRUE(forced.ok()) << forced.error().str();
  EXPECT_EQ(forced->untagged_size(), 1);
  EXPECT_EQ(forced->deleted_size(), 0);
  EXPECT_TRUE(listImages(false).empty());
  auto all = listImages(true);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].references_size(), 0);
  EXPECT_TRUE(exists(dirs[1]));

  pb::ImagePruneRequest prune;
  prune.set_all(true);
  auto kept = service_->prune(prune);
  ASSERT_TRUE(kept.ok()) << kept.error().str();
  EXPECT_EQ(kept->deleted_size(), 0);
  EXPECT_TRUE(exists(dirs[1]));

  service_->setInUse([] { return ImageService::InUse{}; });
  auto pruned = service_->prune(pb::ImagePruneRequest{});
  ASSERT_TRUE(pruned.ok()) << pruned.error().str();
  ASSERT_EQ(pruned->deleted_size(), 1);
  EXPECT_EQ(pruned->deleted(0), id);
  EXPECT_GT(pruned->reclaimed_bytes(), 0u);
  EXPECT_FALSE(exists(dirs[1]));
  EXPECT_TRUE(listImages(true).empty());
}

TEST_F(ImageServiceTest, GarbageCollectionKeepsLayerDirsContainersMount) {
  importOk(archive({{one_, "localhost/one:1"}}));
  // The image is no longer recorded as in use (its container's record was
  // rewritten, say), but a rootfs still mounts its top layer.
  std::string top = layerDir(one_, 1);
  service_->setInUse([&] { return ImageService::InUse{{}, {}, {top}}; });
  auto removed = removeImage("localhost/one:1");
  ASSERT_TRUE(removed.ok()) << removed.error().str();
  EXPECT_TRUE(exists(top));
  EXPECT_EQ(*sys::readFile(top + "/bin/app"), "app-v1");
  EXPECT_FALSE(exists(layerDir(one_, 0)));
  EXPECT_FALSE(exists(root_ + "/blobs/sha256/" + t::hexOf(one_.layers[1])));
}

TEST_F(ImageServiceTest, ResolvedLayersOutliveARemoveForAWhile) {
  // A container being created resolved the image but is not in InUse yet.
  service_.reset();
  auto service = ImageService::open(root_);
  ASSERT_TRUE(service.ok()) << service.error().str();
  service_ = std::move(*service);
  importOk(archive({{one_, "localhost/one:1"}}));
  auto resolved = service_->resolve("localhost/one:1");
  ASSERT_TRUE(resolved.ok()) << resolved.error().str();
  auto removed = removeImage("localhost/one:1");
  ASSERT_TRUE(removed.ok()) << removed.error().str();
  EXPECT_EQ(removed->deleted_size(), 1);
  EXPECT_FALSE(exists(root_ + "/blobs/sha256/" + t::hexOf(one_.config)));
  for (const auto& dir : resolved->layerDirs) EXPECT_TRUE(exists(dir)) << dir;
}

TEST_F(ImageServiceTest, ResolveByRepositoryAndDigest) {
  importOk(archive({{one_, "localhost/one:1"}}));
  std::string manifest = t::digestOf(one_.manifest);
  auto resolved = service_->resolve("localhost/one@" + manifest);
  ASSERT_TRUE(resolved.ok()) << resolved.error().str();
  EXPECT_EQ(resolved->imageId, idOf(one_));
  EXPECT_FALSE(service_->resolve("localhost/other@" + manifest).ok());
}

TEST_F(ImageServiceTest, PruneRemovesUntaggedOnlyUnlessAll) {
  importOk(archive({{one_, "localhost/one:1"}}));
  importOk(archive({{two_, ""}}));
  auto pruned = service_->prune(pb::ImagePruneRequest{});
  ASSERT_TRUE(pruned.ok()) << pruned.error().str();
  ASSERT_EQ(pruned->deleted_size(), 1);
  EXPECT_EQ(pruned->deleted(0), idOf(two_));
  EXPECT_FALSE(exists(layerDir(two_, 1)));
  EXPECT_TRUE(exists(layerDir(one_, 0)));  // shared with one
  ASSERT_EQ(listImages(true).size(), 1u);

  pb::ImagePruneRequest all;
  all.set_all(true);
  auto everything = service_->prune(all);
  ASSERT_TRUE(everything.ok()) << everything.error().str();
  EXPECT_EQ(everything->deleted_size(), 1);
  EXPECT_TRUE(listImages(true).empty());
  EXPECT_FALSE(exists(layerDir(one_, 0)));
}

TEST_F(ImageServiceTest, ImportOfAMissingFileNamesIt) {
  pb::ImageImportRequest request;
  request.set_path(base_ + "/src/nothing.tar");
  auto reply = service_->import(request);
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.error().code, pb::NOT_FOUND);
  EXPECT_NE(reply.error().message.find("nothing.tar"), std::string::npos) << reply.error().message;
  request.set_reference("Bad Name");
  auto bad = service_->import(request);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, pb::INVALID_ARGUMENT);
}

TEST_F(ImageServiceTest, ConcurrentCallsSeeConsistentImages) {
  std::string src1 = archive({{one_, "localhost/one:1"}});
  std::string src2 = archive({{two_, "localhost/two:1"}});
  importOk(src1);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; i++) {
    threads.emplace_back([&, i] {
      for (int j = 0; j < 10; j++) {
        if (i == 0) {
          pb::ImageImportRequest request;
          request.set_path(j % 2 ? src1 : src2);
          if (!service_->import(request).ok()) failures++;
        } else if (i == 1) {
          if (!service_->list(pb::ImageListRequest{}).ok()) failures++;
        } else {
          if (!service_->resolve("localhost/one:1").ok()) failures++;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(listImages(false).size(), 2u);
}

// A StreamSink whose client cancels at once, as one that hangs up would.
class CancelledSink : public api::StreamSink {
 public:
  CancelledSink() : fd_(::eventfd(1, EFD_CLOEXEC)) {}
  bool send(const pb::Response& frame) override {
    frames.push_back(frame);
    return true;
  }
  bool cancelled() const override { return cancel; }
  int cancelFd() const override { return cancel ? fd_.get() : -1; }
  bool cancel = true;
  std::vector<pb::Response> frames;

 private:
  sys::UniqueFd fd_;
};

TEST_F(ImageServiceTest, PullRejectsBadReferencesAndHonoursCancel) {
  CancelledSink sink;
  sink.cancel = false;
  api::StreamWriter<pb::PullProgress> writer(sink, &pb::Response::mutable_pull_progress);
  pb::ImagePullRequest request;
  request.set_reference("Not A Reference");
  auto bad = service_->pull(request, writer);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, pb::INVALID_ARGUMENT);

  request.set_reference("127.0.0.1:9/nothing:1");
  request.set_platform("linux/amd64/x/y");
  auto badPlatform = service_->pull(request, writer);
  ASSERT_FALSE(badPlatform.ok());
  EXPECT_EQ(badPlatform.error().code, pb::INVALID_ARGUMENT);

  // Port 9 (discard) on loopback: nothing listens, the connection is refused.
  request.set_platform("");
  auto refused = service_->pull(request, writer);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, pb::UNAVAILABLE) << refused.error().message;
  EXPECT_NE(refused.error().message.find("127.0.0.1:9"), std::string::npos)
      << refused.error().message;

  sink.cancel = true;
  auto cancelled = service_->pull(request, writer);
  ASSERT_FALSE(cancelled.ok());
  EXPECT_EQ(cancelled.error().code, pb::CANCELLED);
  EXPECT_TRUE(listImages(true).empty());
}

}  // namespace
}  // namespace berth::agent::images
