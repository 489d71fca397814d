// ImageService as root with real images: the busybox OCI archive that
// hack/mkimage builds, imported and resolved to layer directories holding
// bin/busybox; and a pull from a real docker-registry on loopback
// (hack/registry-fixture.sh), with its progress frames. Each test has its own
// data root (and registry), removed afterwards.
#include "agent/images/image_service.h"

#include <gtest/gtest.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <set>

#include "runtime/sys/fs.h"

namespace berth::agent::images {
namespace {

constexpr const char* kBusyboxRef = "docker.io/library/berth-busybox:latest";

std::string sh(const std::string& cmd) {
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return "";
  std::string out;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  if (::pclose(p) != 0) {
    ADD_FAILURE() << "command failed: " << cmd << "\n" << out;
    return "";
  }
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

bool haveTool(const char* name) {
  return std::system(("command -v " + std::string(name) + " >/dev/null 2>&1").c_str()) == 0;
}

// hack/mkimage's busybox OCI archive, cached in the build tree like the
// image/ tests do.
std::string busyboxArchive() {
  std::string out =
      sh(std::string(BERTH_SOURCE_DIR) + "/hack/mkimage " + BERTH_BUILD_DIR + "/test-images");
  return out.empty() ? "" : std::string(BERTH_BUILD_DIR) + "/test-images/busybox-oci.tar";
}

bool isExecutableFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111) &&
         st.st_uid == 0;
}

// Unpacked layers under `dir` (named by 64 hex; lock and temp files are not).
int layerDirCount(const std::string& dir) {
  std::string out = sh("ls -A " + dir + " 2>/dev/null | grep -cE '^[0-9a-f]{64}$' || true");
  return std::atoi(out.c_str());
}

// Collects the frames of a streaming call; never cancelled.
class CollectingSink : public api::StreamSink {
 public:
  CollectingSink() : fd_(::eventfd(0, EFD_CLOEXEC)) {}
  bool send(const pb::Response& frame) override {
    frames.push_back(frame.pull_progress());
    return true;
  }
  bool cancelled() const override { return false; }
  int cancelFd() const override { return fd_.get(); }
  std::vector<pb::PullProgress> frames;
  std::set<std::string> statuses() const {
    std::set<std::string> out;
    for (const auto& f : frames) out.insert(f.status());
    return out;
  }

 private:
  sys::UniqueFd fd_;
};

class ImageServiceRootTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (layers are unpacked with their owners)";
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    base_ = "/tmp/berth-agent-images-it-" + std::to_string(::getpid()) + "-" + info->name();
    ASSERT_TRUE(sys::removeAll(base_).ok());
    ASSERT_TRUE(sys::mkdirAll(base_).ok());
  }
  void TearDown() override {
    service_.reset();
    if (!registryDir_.empty()) {
      std::system((std::string(BERTH_SOURCE_DIR) + "/hack/registry-fixture.sh stop " + registryDir_)
                      .c_str());
    }
    if (!base_.empty()) {
      EXPECT_TRUE(sys::removeAll(base_).ok());
    }
  }
  void openService(ImageServiceOptions options = {}) {
    auto service = ImageService::open(base_ + "/root", std::move(options));
    ASSERT_TRUE(service.ok()) << service.error().str();
    service_ = std::move(*service);
  }
  // Starts a plain-HTTP registry on 127.0.0.1 and returns its address.
  std::string startRegistry() {
    registryDir_ = base_ + "/registry";
    return sh(std::string(BERTH_SOURCE_DIR) + "/hack/registry-fixture.sh start " + registryDir_);
  }
  bool push(const std::string& src, const std::string& nameTag) {
    return std::system((std::string(BERTH_SOURCE_DIR) + "/hack/registry-fixture.sh push " +
                        registryDir_ + " " + src + " " + nameTag + " 2>&1")
                           .c_str()) == 0;
  }

  std::string base_;
  std::string registryDir_;
  std::unique_ptr<ImageService> service_;
};

TEST_F(ImageServiceRootTest, ImportedBusyboxResolvesToLayersHoldingBusybox) {
  std::string archive = busyboxArchive();
  ASSERT_FALSE(archive.empty());
  ImageServiceOptions options;
  options.resolvePinSeconds = 0;  // the removal below is to take the layers too
  openService(options);
  pb::ImageImportRequest request;
  request.set_path(archive);
  auto imported = service_->import(request);
  ASSERT_TRUE(imported.ok()) << imported.error().str();
  ASSERT_EQ(imported->images_size(), 1);
  ASSERT_EQ(imported->images(0).references_size(), 1);
  EXPECT_EQ(imported->images(0).references(0), kBusyboxRef);
  EXPECT_GT(imported->images(0).size(), 0u);

  for (const std::string& text : {std::string("berth-busybox"), imported->images(0).id(),
                                  imported->images(0).id().substr(7, 6)}) {
    auto resolved = service_->resolve(text);
    ASSERT_TRUE(resolved.ok()) << text << ": " << resolved.error().str();
    ASSERT_EQ(resolved->layerDirs.size(), 1u);
    EXPECT_TRUE(isExecutableFile(resolved->layerDirs[0] + "/bin/busybox"))
        << resolved->layerDirs[0];
    ASSERT_TRUE(resolved->config.config.cmd.has_value());
    EXPECT_EQ(*resolved->config.config.cmd, std::vector<std::string>{"sh"});
  }

  pb::ImageRemoveRequest remove;
  remove.set_reference("berth-busybox");
  auto removed = service_->remove(remove);
  ASSERT_TRUE(removed.ok()) << removed.error().str();
  EXPECT_EQ(removed->deleted_size(), 1);
  EXPECT_EQ(layerDirCount(base_ + "/root/layers"), 0)
      << "layer directories left after the last image went";
}

TEST_F(ImageServiceRootTest, PullFromLoopbackRegistryStreamsProgressAndUnpacks) {
  if (!haveTool("docker-registry") || !haveTool("skopeo"))
    GTEST_SKIP() << "docker-registry and skopeo needed";
  std::string archive = busyboxArchive();
  ASSERT_FALSE(archive.empty());
  std::string addr = startRegistry();
  ASSERT_FALSE(addr.empty());
  ASSERT_TRUE(push("oci-archive:" + archive, "tools/busybox:1"));
  ImageServiceOptions options;
  options.insecureRegistries = {addr};
  openService(options);

  CollectingSink sink;
  api::StreamWriter<pb::PullProgress> writer(sink, &pb::Response::mutable_pull_progress);
  pb::ImagePullRequest request;
  request.set_reference(addr + "/tools/busybox:1");
  auto pulled = service_->pull(request, writer);
  ASSERT_TRUE(pulled.ok()) << pulled.error().str();
  ASSERT_EQ(pulled->image().references_size(), 1);
  EXPECT_EQ(pulled->image().references(0), addr + "/tools/busybox:1");
  EXPECT_FALSE(pulled->image().manifest_digest().empty());
  auto statuses = sink.statuses();
  EXPECT_TRUE(statuses.count("resolving"));
  EXPECT_TRUE(statuses.count("unpacking"));
  EXPECT_TRUE(statuses.count("done"));
  EXPECT_EQ(sink.frames.back().id(), addr + "/tools/busybox:1");

  auto resolved = service_->resolve(addr + "/tools/busybox:1");
  ASSERT_TRUE(resolved.ok()) << resolved.error().str();
  ASSERT_EQ(resolved->layerDirs.size(), 1u);
  EXPECT_TRUE(isExecutableFile(resolved->layerDirs[0] + "/bin/busybox"));
  EXPECT_EQ(resolved->imageId, pulled->image().id());

  // Everything is there: a second pull downloads nothing.
  CollectingSink again;
  api::StreamWriter<pb::PullProgress> againWriter(again, &pb::Response::mutable_pull_progress);
  auto repeat = service_->pull(request, againWriter);
  ASSERT_TRUE(repeat.ok()) << repeat.error().str();
  EXPECT_TRUE(again.statuses().count("exists"));
  EXPECT_FALSE(again.statuses().count("downloading"));

  request.set_reference(addr + "/tools/busybox:nope");
  auto missing = service_->pull(request, againWriter);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, pb::NOT_FOUND) << missing.error().message;
  EXPECT_NE(missing.error().message.find("nope"), std::string::npos) << missing.error().message;
}

}  // namespace
}  // namespace berth::agent::images
