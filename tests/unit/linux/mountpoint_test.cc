// Mount point creation inside a root (no privileges needed): symlinks in the
// image are followed as if the root were "/", never out of it.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "runtime/linux/mount_ops.h"
#include "runtime/sys/fs.h"

namespace berth::runtime::linux {
namespace {

class MountpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = "/tmp/berth-unit-mountpoint-" + std::to_string(::getpid()) + "-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    base_ = tmpl;
    root_ = base_ + "/root";
    outside_ = base_ + "/outside";
    ASSERT_EQ(::mkdir(root_.c_str(), 0755), 0);
    ASSERT_EQ(::mkdir(outside_.c_str(), 0755), 0);
    rootfd_.reset(::open(root_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(rootfd_.valid());
  }
  void TearDown() override { (void)sys::removeAll(base_); }

  std::string realOf(int fd) {
    auto r = fdRealPath(fd);
    return r ? *r : "<" + r.error().str() + ">";
  }

  std::string base_, root_, outside_;
  sys::UniqueFd rootfd_;
};

TEST_F(MountpointTest, CreatesMissingDirectories) {
  auto fd = makeMountpointInRoot(rootfd_.get(), "/a/b/c", Leaf::kDirectory);
  ASSERT_TRUE(fd) << fd.error().str();
  EXPECT_EQ(realOf(fd->get()), root_ + "/a/b/c");
  struct stat st;
  ASSERT_EQ(::stat((root_ + "/a/b/c").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
}

TEST_F(MountpointTest, CreatesAnEmptyFileForFileBinds) {
  auto fd = makeMountpointInRoot(rootfd_.get(), "/etc/hosts", Leaf::kFile);
  ASSERT_TRUE(fd) << fd.error().str();
  struct stat st;
  ASSERT_EQ(::stat((root_ + "/etc/hosts").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_size, 0);
}

TEST_F(MountpointTest, AbsoluteSymlinkEscapingUpIsConfined) {
  // The image says /srv -> /../../<outside>; it must mean <root>/<outside>.
  std::string target = "/../.." + outside_ + "/victim";
  ASSERT_EQ(::symlink(target.c_str(), (root_ + "/srv").c_str()), 0);
  auto fd = makeMountpointInRoot(rootfd_.get(), "/srv", Leaf::kDirectory);
  ASSERT_TRUE(fd) << fd.error().str();
  EXPECT_EQ(realOf(fd->get()), root_ + outside_ + "/victim");
  EXPECT_FALSE(sys::pathExists(outside_ + "/victim"));
}

TEST_F(MountpointTest, RelativeSymlinkWithDotDotIsConfined) {
  ASSERT_EQ(::mkdir((root_ + "/d").c_str(), 0755), 0);
  ASSERT_EQ(::symlink("../../../../outside", (root_ + "/d/link").c_str()), 0);
  auto fd = makeMountpointInRoot(rootfd_.get(), "/d/link/file", Leaf::kFile);
  ASSERT_TRUE(fd) << fd.error().str();
  EXPECT_EQ(realOf(fd->get()), root_ + "/outside/file");
  EXPECT_FALSE(sys::pathExists(outside_ + "/file"));
}

TEST_F(MountpointTest, SymlinkLeafIsRefusedWhenAsked) {
  ASSERT_EQ(::symlink("/somewhere", (root_ + "/proc").c_str()), 0);
  auto fd = makeMountpointInRoot(rootfd_.get(), "/proc", Leaf::kDirectory, true);
  ASSERT_FALSE(fd);
  EXPECT_EQ(fd.error().str(), "mount destination /proc is a symlink");
}

TEST_F(MountpointTest, SymlinkLoopsFail) {
  ASSERT_EQ(::symlink("/b", (root_ + "/a").c_str()), 0);
  ASSERT_EQ(::symlink("/a", (root_ + "/b").c_str()), 0);
  auto fd = makeMountpointInRoot(rootfd_.get(), "/a/x", Leaf::kDirectory);
  ASSERT_FALSE(fd);
  EXPECT_EQ(fd.error().code(), ELOOP);
}

TEST_F(MountpointTest, ParentAndLeafName) {
  std::string name;
  auto dir = makeParentInRoot(rootfd_.get(), "/dev/net/tun", &name);
  ASSERT_TRUE(dir) << dir.error().str();
  EXPECT_EQ(name, "tun");
  EXPECT_EQ(realOf(dir->get()), root_ + "/dev/net");
  EXPECT_FALSE(makeParentInRoot(rootfd_.get(), "/", &name));
}

}  // namespace
}  // namespace berth::runtime::linux
