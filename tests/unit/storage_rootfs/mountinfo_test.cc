// Reading overlay mounts back from mountinfo lines, as the kernel prints
// them for the new mount API ("lowerdir+=" per layer) and for mount(2).
#include "runtime/sys/fs.h"
#include "storage/rootfs/mountinfo.h"

#include <gtest/gtest.h>

namespace berth::storage::rootfs {
namespace {

TEST(MountInfo, LowerdirPlusEntriesLowestFirst) {
  auto entry = parseMountInfoLine(
      "71 45 0:40 / /var/lib/berth/containers/c/rootfs rw,relatime shared:7 - overlay overlay "
      "rw,lowerdir+=/l/top,lowerdir+=/l/a:b\\054c,lowerdir+=/l/bottom,"
      "upperdir=/var/lib/berth/containers/c/upper,workdir=/var/lib/berth/containers/c/work,"
      "redirect_dir=nofollow,uuid=on");
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->mountPoint, "/var/lib/berth/containers/c/rootfs");
  EXPECT_EQ(entry->fsType, "overlay");
  EXPECT_EQ(entry->lowerDirs, (std::vector<std::string>{"/l/bottom", "/l/a:b,c", "/l/top"}));
  EXPECT_EQ(entry->upperDir, "/var/lib/berth/containers/c/upper");
  EXPECT_EQ(entry->workDir, "/var/lib/berth/containers/c/work");
}

TEST(MountInfo, LegacyLowerdirSplitBeforeUnescaping) {
  auto entry = parseMountInfoLine(
      "70 45 0:40 / /m\\040x rw - overlay overlay "
      "rw,lowerdir=/l/top:/l/a\\072b:/l/bottom,upperdir=/u,workdir=/w");
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->mountPoint, "/m x");
  EXPECT_EQ(entry->lowerDirs, (std::vector<std::string>{"/l/bottom", "/l/a:b", "/l/top"}));
  EXPECT_EQ(entry->upperDir, "/u");
}

TEST(MountInfo, OtherFilesystemsAndMalformedLines) {
  auto tmpfs = parseMountInfoLine("43 27 0:39 / /tmp rw,relatime - tmpfs none rw");
  ASSERT_TRUE(tmpfs);
  EXPECT_EQ(tmpfs->fsType, "tmpfs");
  EXPECT_TRUE(tmpfs->lowerDirs.empty());
  EXPECT_FALSE(parseMountInfoLine(""));
  EXPECT_FALSE(parseMountInfoLine("1 2 3 4 5 6 7 8 9 10"));
  EXPECT_FALSE(parseMountInfoLine("43 27 0:39 / /tmp rw,relatime - tmpfs"));
}

TEST(MountInfo, Unescape) {
  EXPECT_EQ(sys::unescapeMountinfoField("a\\040b\\011c\\012d\\134e"), "a b\tc\nd\\e");
  EXPECT_EQ(sys::unescapeMountinfoField("trailing\\04"), "trailing\\04");
  EXPECT_EQ(sys::unescapeMountinfoField("\\999"), "\\999");
}

TEST(MountInfo, FindsRootOfThisNamespace) {
  auto root = findMount("/");
  ASSERT_TRUE(root.ok()) << root.error().str();
  ASSERT_TRUE(root->has_value());
  EXPECT_FALSE((*root)->fsType.empty());
  auto none = findMount("/no/such/mount/point/berth");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

}  // namespace
}  // namespace berth::storage::rootfs
