// Removing a container directory: symlinks are removed, never followed;
// trees deeper than PATH_MAX go; a missing path is fine.
#include "storage/rootfs/remove_tree.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/sys/fd.h"
#include "runtime/sys/fs.h"

namespace berth::storage::rootfs {
namespace {

class RemoveTree : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = "/tmp/berth-rootfs-rmtree-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    ASSERT_TRUE(sys::mkdirAll(base_ + "/victim").ok());
    ASSERT_TRUE(sys::mkdirAll(base_ + "/outside/keep").ok());
    ASSERT_TRUE(sys::writeFileAtomic(base_ + "/outside/keep/file", "precious").ok());
  }
  void TearDown() override { (void)sys::removeAll(base_); }
  std::string base_;
};

TEST_F(RemoveTree, SymlinksInsideAreRemovedNotFollowed) {
  std::string victim = base_ + "/victim";
  ASSERT_TRUE(sys::mkdirAll(victim + "/upper/etc").ok());
  ASSERT_TRUE(sys::writeFileAtomic(victim + "/upper/etc/passwd", "x").ok());
  ASSERT_EQ(::symlink((base_ + "/outside").c_str(), (victim + "/upper/escape").c_str()), 0);
  ASSERT_EQ(::symlink("../../outside/keep", (victim + "/upper/etc/rel").c_str()), 0);
  ASSERT_EQ(::mkfifo((victim + "/upper/fifo").c_str(), 0600), 0);

  auto removed = removeTree(victim);
  ASSERT_TRUE(removed.ok()) << removed.error().str();
  EXPECT_FALSE(sys::pathExists(victim));
  auto kept = sys::readFile(base_ + "/outside/keep/file");
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(*kept, "precious");
}

TEST_F(RemoveTree, SymlinkAtTheTopIsUnlinkedOnly) {
  std::string link = base_ + "/link";
  ASSERT_EQ(::symlink((base_ + "/outside").c_str(), link.c_str()), 0);
  ASSERT_TRUE(removeTree(link).ok());
  EXPECT_FALSE(sys::pathExists(link));
  EXPECT_TRUE(sys::pathExists(base_ + "/outside/keep/file"));
}

TEST_F(RemoveTree, DeeperThanPathMax) {
  // 500 levels of 10-character names: ~5.5 KiB of path, beyond PATH_MAX.
  sys::UniqueFd dir(::open((base_ + "/victim").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(dir);
  for (int i = 0; i < 500; ++i) {
    ASSERT_EQ(::mkdirat(dir.get(), "dddddddddd", 0755), 0) << "level " << i;
    dir.reset(::openat(dir.get(), "dddddddddd", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(dir);
    if (i % 100 == 0) {
      sys::UniqueFd f(::openat(dir.get(), "f", O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
      ASSERT_TRUE(f);
    }
  }
  dir.reset();
  auto removed = removeTree(base_ + "/victim");
  ASSERT_TRUE(removed.ok()) << removed.error().str();
  EXPECT_FALSE(sys::pathExists(base_ + "/victim"));
}

TEST_F(RemoveTree, MissingPathIsFineAndRootIsRefused) {
  EXPECT_TRUE(removeTree(base_ + "/does-not-exist").ok());
  EXPECT_TRUE(removeTree(base_ + "/no-parent/child").ok());
  EXPECT_FALSE(removeTree("/").ok());
}

}  // namespace
}  // namespace berth::storage::rootfs
