// Shared cgroup directory handling: parents a cgroupsPath names are made on
// demand and removed with their last container, never before.
#include <gtest/gtest.h>
#include <stdlib.h>

#include "runtime/cgroup/cgroup_fs.h"
#include "runtime/cgroup/cgroup_path.h"
#include "runtime/sys/fs.h"

namespace berth::runtime::cgroup {
namespace {

class CgroupDirs : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-unit-cgroupfs-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override { (void)sys::removeAll(root_); }
  std::string root_;
};

TEST_F(CgroupDirs, SharedParentGoesWithItsLastContainer) {
  auto first = makeCgroupDirs(root_ + "/berth/c1");
  ASSERT_TRUE(first) << first.error().str();
  EXPECT_EQ(*first, (std::vector<std::string>{root_ + "/berth", root_ + "/berth/c1"}));
  auto second = makeCgroupDirs(root_ + "/berth/c2");
  ASSERT_TRUE(second);
  EXPECT_EQ(*second, (std::vector<std::string>{root_ + "/berth/c2"}));

  ASSERT_TRUE(removeCgroupDir(root_ + "/berth/c1", 1));
  EXPECT_FALSE(sys::pathExists(root_ + "/berth/c1"));
  EXPECT_TRUE(sys::pathExists(root_ + "/berth/c2"));  // still in use

  ASSERT_TRUE(removeCgroupDir(root_ + "/berth/c2", 1));
  EXPECT_FALSE(sys::pathExists(root_ + "/berth"));
  EXPECT_TRUE(sys::pathExists(root_));  // never above what the path names
}

TEST_F(CgroupDirs, RemovalOfAMissingDirIsFine) {
  EXPECT_TRUE(removeCgroupDir(root_ + "/berth/gone", 1));
}

TEST(CgroupPath, ParentCountIsTheComponentsAboveTheContainer) {
  EXPECT_EQ((CgroupPath{false, "/berth/web"}).parentCount(), 1);
  EXPECT_EQ((CgroupPath{false, "/web"}).parentCount(), 0);
  EXPECT_EQ((CgroupPath{true, "pod/x/web"}).parentCount(), 2);
  auto defaulted = parseCgroupsPath("", "c1");
  ASSERT_TRUE(defaulted);
  EXPECT_EQ(defaulted->parentCount(), 1);
}

}  // namespace
}  // namespace berth::runtime::cgroup
