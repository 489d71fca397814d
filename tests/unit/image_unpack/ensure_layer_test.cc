// ensureLayer: once-only unpack into <root>/<chain id hex>, across processes,
// with DiffID verification before publishing and recovery from a crash.
#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "image/unpack/unpack.h"
#include "tests/unit/image_unpack/layer_builder.h"
#include "tests/unit/image_unpack/scratch.h"

namespace berth::image::unpack {
namespace {

using test::LayerBuilder;

const std::string kChain = "sha256:" + std::string(64, 'a');
const std::string kHex(64, 'a');

class Ensure : public test::UnpackScratch {
 protected:
  std::string root() const { return base_ + "/layers"; }
  std::string bigLayer() {
    LayerBuilder b;
    for (int i = 0; i < 400; ++i)
      b.file("d" + std::to_string(i % 20) + "/f" + std::to_string(i),
             std::string(3000, 'a' + i % 26));
    return test::gzip(b.tar());
  }
  std::vector<std::string> rootEntries() {
    std::vector<std::string> names;
    if (DIR* d = ::opendir(root().c_str())) {
      while (auto* e = ::readdir(d)) {
        if (e->d_name[0] != '.' || std::string(e->d_name).rfind(".tmp-", 0) == 0) {
          names.emplace_back(e->d_name);
        }
      }
      ::closedir(d);
    }
    return names;
  }
};

TEST_F(Ensure, UnpacksOnceThenReuses) {
  std::string tar = LayerBuilder().file("etc/os-release", "berth").tar();
  int fd = test::blobFd(test::gzip(tar));
  UnpackOptions o;
  o.expectedDiffId = test::sha256Digest(tar);
  auto first = ensureLayerReport(root(), kChain, fd, "", o);
  ASSERT_TRUE(first.ok()) << first.error().str();
  EXPECT_TRUE(first->unpacked);
  EXPECT_EQ(first->path, root() + "/" + kHex);
  EXPECT_EQ(first->result.diffId, o.expectedDiffId);
  EXPECT_EQ(test::readText(first->path + "/etc/os-release"), "berth");
  auto again = ensureLayer(root(), kHex, fd, "", o);  // bare hex works too
  ::close(fd);
  ASSERT_TRUE(again.ok()) << again.error().str();
  EXPECT_EQ(*again, first->path);
  EXPECT_EQ(rootEntries(), std::vector<std::string>{kHex}) << "no temp dir or lock left";
}

TEST_F(Ensure, InvalidChainIdIsRefused) {
  int fd = test::blobFd(LayerBuilder().file("a", "a").tar());
  for (const char* bad : {"../x", "sha256:abc", "", "sha256:../../../../etc"}) {
    auto r = ensureLayer(root(), bad, fd, "");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().what().find("invalid chain id"), std::string::npos);
  }
  ::close(fd);
}

TEST_F(Ensure, WrongDiffIdPublishesNothing) {
  int fd = test::blobFd(LayerBuilder().file("a", "a").tar());
  UnpackOptions o;
  o.expectedDiffId = test::sha256Digest("another layer");
  auto r = ensureLayer(root(), kChain, fd, "", o);
  ::close(fd);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().what().find("DiffID"), std::string::npos);
  EXPECT_TRUE(rootEntries().empty()) << "the temp dir is removed";
}

TEST_F(Ensure, HostileLayerPublishesNothing) {
  int fd = test::blobFd(LayerBuilder().symlink("a", outside()).file("a/x", "x").tar());
  auto r = ensureLayer(root(), kChain, fd, "");
  ::close(fd);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(rootEntries().empty());
  expectOutsideUntouched();
}

TEST_F(Ensure, LeftoversOfACrashAreNotALayer) {
  // A crashed unpack leaves a temp dir (and a lock file); neither counts.
  ASSERT_TRUE(sys::mkdirAll(root() + "/.tmp-" + kHex + "-999-1/half").ok());
  ASSERT_TRUE(sys::writeFileAtomic(root() + "/." + kHex + ".lock", "").ok());
  int fd = test::blobFd(LayerBuilder().file("complete", "yes").tar());
  auto r = ensureLayerReport(root(), kChain, fd, "");
  ::close(fd);
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_TRUE(r->unpacked);
  EXPECT_EQ(test::readText(r->path + "/complete"), "yes");
  EXPECT_EQ(rootEntries(), std::vector<std::string>{kHex});
}

TEST_F(Ensure, ProcessKilledMidUnpackThenAnotherFinishes) {
  std::string blob = bigLayer();
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  pid_t child = ::fork();
  if (child == 0) {
    ::close(p[1]);
    auto r = ensureLayer(root(), kChain, p[0], "");  // blocks on the half-fed pipe
    _exit(r.ok() ? 0 : 1);
  }
  ::close(p[0]);
  ASSERT_EQ(::write(p[1], blob.data(), blob.size() / 2), static_cast<ssize_t>(blob.size() / 2));
  // Wait until the child holds the lock and has started its temp dir.
  for (int i = 0; i < 500 && rootEntries().empty(); ++i) ::usleep(10000);
  ::usleep(50000);
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  ::close(p[1]);
  EXPECT_FALSE(sys::pathExists(root() + "/" + kHex)) << "a half unpack was published";
  int fd = test::blobFd(blob);
  auto r = ensureLayerReport(root(), kChain, fd, "");
  ::close(fd);
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_TRUE(r->unpacked);
  EXPECT_EQ(test::readText(r->path + "/d19/f399"), std::string(3000, 'a' + 399 % 26));
  EXPECT_EQ(rootEntries(), std::vector<std::string>{kHex});
}

TEST_F(Ensure, ConcurrentProcessesUnpackOnce) {
  std::string blob = bigLayer();
  constexpr int kProcs = 4;
  int go[2];
  ASSERT_EQ(::pipe(go), 0);
  std::vector<pid_t> kids;
  for (int i = 0; i < kProcs; ++i) {
    pid_t pid = ::fork();
    if (pid == 0) {
      ::close(go[1]);
      char c;
      if (::read(go[0], &c, 1) != 0) _exit(3);  // released together by EOF
      int fd = test::blobFd(blob);
      auto r = ensureLayerReport(root(), kChain, fd, "");
      if (!r.ok()) _exit(2);
      _exit(r->unpacked ? 10 : 11);
    }
    kids.push_back(pid);
  }
  ::close(go[0]);
  ::close(go[1]);
  int unpacked = 0, reused = 0;
  for (pid_t pid : kids) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status));
    if (WEXITSTATUS(status) == 10) ++unpacked;
    if (WEXITSTATUS(status) == 11) ++reused;
  }
  EXPECT_EQ(unpacked, 1);
  EXPECT_EQ(reused, kProcs - 1);
  EXPECT_EQ(rootEntries(), std::vector<std::string>{kHex});
}

}  // namespace
}  // namespace berth::image::unpack
