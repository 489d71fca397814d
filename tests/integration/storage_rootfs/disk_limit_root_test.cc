// Container root filesystems with a disk limit, as root on the real kernel:
// upper/work on the container's own ext4 disk, ENOSPC through the overlay
// past the limit, whiteouts and device nodes on a disk mounted nodev,
// re-attaching after a daemon restart and after a host reboot, resizing,
// failures that leave nothing, and removal of every trace (mount, loop
// device, image). Also measures prepare+unmount with and without a limit.
//
// The binary already runs in a private mount namespace (rootfs_root_test.cc).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>

#include "runtime/sys/fs.h"
#include "storage/rootfs/rootfs.h"
#include "tests/integration/storage_disk/disk_test_support.h"

namespace berth::storage::rootfs {
namespace {

using tests::disk::loopsUnder;
using tests::disk::loopsUnderAfterRelease;
using tests::disk::mountsUnder;

constexpr uint64_t kMiB = 1ull << 20;

class DiskLimitRoot : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (loop devices, mount, mknod)";
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    base_ = "/tmp/berth-rootfs-disk-it-" + std::to_string(::getpid()) + "-" + name;
    container_ = base_ + "/containers/c1";
    layer_ = base_ + "/layers/l0";
    ASSERT_TRUE(sys::mkdirAll(layer_ + "/etc").ok());
    ASSERT_TRUE(sys::writeFileReplace(layer_ + "/etc/motd", "from the image").ok());
  }
  void TearDown() override {
    if (!base_.empty()) tests::disk::cleanUpAndCheck(base_);
  }

  static Options limited(uint64_t bytes) {
    Options o;
    o.diskLimitBytes = bytes;
    return o;
  }
  static std::pair<uint64_t, int> fill(const std::string& path, uint64_t limit) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return {0, errno};
    std::string chunk(kMiB, 'x');
    uint64_t written = 0;
    int err = 0;
    while (written < limit) {
      ssize_t n = ::write(fd, chunk.data(), chunk.size());
      if (n < 0) {
        err = errno;
        break;
      }
      written += static_cast<uint64_t>(n);
    }
    if (err == 0 && ::fsync(fd) < 0) err = errno;
    ::close(fd);
    return {written, err};
  }
  static bool isExt4MountRoot(const std::string& path) {
    struct statfs sfs {};
    struct stat st {
    }, parent{};
    return ::statfs(path.c_str(), &sfs) == 0 && sfs.f_type == EXT4_SUPER_MAGIC &&
           ::stat(path.c_str(), &st) == 0 && ::stat((path + "/..").c_str(), &parent) == 0 &&
           st.st_dev != parent.st_dev;
  }

  std::string base_, container_, layer_;
};

TEST_F(DiskLimitRoot, WritableLayerOnTheDiskGetsEnospcPastTheLimit) {
  auto rootfs = prepare(container_, {layer_}, limited(64 * kMiB));
  ASSERT_TRUE(rootfs.ok()) << rootfs.error().str();
  EXPECT_EQ(rootfs->diskMount, container_ + "/writable");
  EXPECT_EQ(rootfs->upperDir, container_ + "/writable/upper");
  EXPECT_EQ(rootfs->workDir, container_ + "/writable/work");
  EXPECT_TRUE(isExt4MountRoot(container_ + "/writable"));
  EXPECT_FALSE(sys::pathExists(container_ + "/upper"));
  struct stat st {};
  ASSERT_EQ(::stat((container_ + "/disk.img").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, static_cast<off_t>(64 * kMiB));
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(loopsUnder(base_).size(), 1u);

  EXPECT_EQ(*sys::readFile(rootfs->path + "/etc/motd"), "from the image");
  ASSERT_TRUE(sys::writeFileReplace(rootfs->path + "/hello", "on the disk").ok());
  EXPECT_EQ(*sys::readFile(rootfs->upperDir + "/hello"), "on the disk");

  auto [written, err] = fill(rootfs->path + "/big", 256 * kMiB);
  EXPECT_EQ(err, ENOSPC) << "wrote " << written << " bytes through the overlay";
  EXPECT_LE(written, 64 * kMiB);
  EXPECT_GT(written, 40 * kMiB);
  auto used = diskUsage(container_);
  ASSERT_TRUE(used.ok()) << used.error().str();
  ASSERT_TRUE(used->has_value());
  EXPECT_GE((*used)->used, written);
  EXPECT_LE((*used)->total, 64 * kMiB);
  // The host beside it still takes writes.
  auto [hostWritten, hostErr] = fill(base_ + "/outside", 4 * kMiB);
  EXPECT_EQ(hostErr, 0);
  EXPECT_EQ(hostWritten, 4 * kMiB);

  ASSERT_TRUE(remove(container_).ok());
  EXPECT_FALSE(sys::pathExists(container_));
  EXPECT_TRUE(mountsUnder(base_).empty());
  EXPECT_TRUE(loopsUnderAfterRelease(base_).empty());
}

TEST_F(DiskLimitRoot, WhiteoutsAndDeviceNodesWorkOnTheNodevDisk) {
  auto rootfs = prepare(container_, {layer_}, limited(32 * kMiB));
  ASSERT_TRUE(rootfs.ok()) << rootfs.error().str();
  ASSERT_EQ(::unlink((rootfs->path + "/etc/motd").c_str()), 0);
  EXPECT_FALSE(sys::pathExists(rootfs->path + "/etc/motd"));
  struct stat st {};
  ASSERT_EQ(::lstat((rootfs->upperDir + "/etc/motd").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) << "no whiteout in the upper";

  // A device node made in the container opens through the overlay...
  std::string null = rootfs->path + "/null";
  ASSERT_EQ(::mknod(null.c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
  int fd = ::open(null.c_str(), O_WRONLY | O_CLOEXEC);
  EXPECT_GE(fd, 0) << "device node unusable through the overlay: " << std::strerror(errno);
  if (fd >= 0) ::close(fd);
  // ...but not through the disk's own (nodev) mount on the host side.
  fd = ::open((rootfs->upperDir + "/null").c_str(), O_WRONLY | O_CLOEXEC);
  EXPECT_LT(fd, 0) << "the disk is mounted without nodev";
  if (fd >= 0) ::close(fd);
  ASSERT_TRUE(remove(container_).ok());
}

TEST_F(DiskLimitRoot, ReattachesAfterDaemonRestartAndHostReboot) {
  auto first = prepare(container_, {layer_}, limited(64 * kMiB));
  ASSERT_TRUE(first.ok()) << first.error().str();
  ASSERT_TRUE(sys::writeFileReplace(first->path + "/state", "kept").ok());

  // Daemon restart: everything still mounted.
  auto again = prepare(container_, {layer_}, limited(64 * kMiB));
  ASSERT_TRUE(again.ok()) << again.error().str();
  EXPECT_TRUE(again->reattached);
  EXPECT_EQ(mountsUnder(base_).size(), 2u) << "disk or overlay mounted twice";
  EXPECT_EQ(loopsUnder(base_).size(), 1u);

  // Host reboot: nothing mounted, the image is still there. A restarted
  // daemon that lost the limit from its options still finds the disk.
  ASSERT_TRUE(unmount(container_).ok());
  EXPECT_TRUE(mountsUnder(base_).empty());
  EXPECT_TRUE(loopsUnderAfterRelease(base_).empty());
  auto rebooted = prepare(container_, {layer_}, Options{});
  ASSERT_TRUE(rebooted.ok()) << rebooted.error().str();
  EXPECT_FALSE(rebooted->reattached);
  EXPECT_EQ(rebooted->diskMount, container_ + "/writable");
  EXPECT_EQ(*sys::readFile(rebooted->path + "/state"), "kept");
  EXPECT_EQ(*sys::readFile(rebooted->path + "/etc/motd"), "from the image");
  ASSERT_TRUE(remove(container_).ok());
}

TEST_F(DiskLimitRoot, ResizeRaisesTheLimitOfAStoppedContainer) {
  auto rootfs = prepare(container_, {layer_}, limited(64 * kMiB));
  ASSERT_TRUE(rootfs.ok()) << rootfs.error().str();
  auto [written, err] = fill(rootfs->path + "/a", 256 * kMiB);
  ASSERT_EQ(err, ENOSPC);
  ASSERT_TRUE(unmount(container_).ok());

  auto shrink = resizeDisk(container_, 32 * kMiB);
  ASSERT_FALSE(shrink.ok());
  EXPECT_EQ(shrink.error().code(), EINVAL);
  auto resized = resizeDisk(container_, 128 * kMiB);
  ASSERT_TRUE(resized.ok()) << resized.error().str();
  auto offline = diskUsage(container_);
  ASSERT_TRUE(offline.ok() && offline->has_value());
  EXPECT_EQ((*offline)->total, 128 * kMiB);
  EXPECT_GE((*offline)->used, written);

  rootfs = prepare(container_, {layer_}, limited(64 * kMiB));
  ASSERT_TRUE(rootfs.ok()) << rootfs.error().str();
  auto [more, err2] = fill(rootfs->path + "/b", 256 * kMiB);
  EXPECT_EQ(err2, ENOSPC);
  EXPECT_GT(more, 50 * kMiB) << "the raised limit gave no room";
  ASSERT_TRUE(remove(container_).ok());
}

TEST_F(DiskLimitRoot, ContainersWithoutALimitHaveNoDisk) {
  auto rootfs = prepare(container_, {layer_});
  ASSERT_TRUE(rootfs.ok()) << rootfs.error().str();
  EXPECT_EQ(rootfs->diskMount, "");
  EXPECT_EQ(rootfs->upperDir, container_ + "/upper");
  auto used = diskUsage(container_);
  ASSERT_TRUE(used.ok());
  EXPECT_FALSE(used->has_value());
  auto resize = resizeDisk(container_, 128 * kMiB);
  ASSERT_FALSE(resize.ok());
  EXPECT_EQ(resize.error().code(), EINVAL);
  // Its files are in <containerDir>/upper: a limit added later would hide them.
  ASSERT_TRUE(unmount(container_).ok());
  auto added = prepare(container_, {layer_}, limited(64 * kMiB));
  ASSERT_FALSE(added.ok());
  EXPECT_EQ(added.error().code(), EEXIST);
  EXPECT_FALSE(sys::pathExists(container_ + "/disk.img"));
  EXPECT_FALSE(sys::pathExists(container_ + "/writable"));
  ASSERT_TRUE(remove(container_).ok());
}

TEST_F(DiskLimitRoot, FailedPrepareLeavesNothing) {
  // The overlay mount fails (a missing layer) after the disk was made and mounted.
  auto missing = prepare(container_, {base_ + "/layers/missing"}, limited(64 * kMiB));
  ASSERT_FALSE(missing.ok());
  EXPECT_FALSE(sys::pathExists(container_)) << "container directory left behind";
  EXPECT_TRUE(mountsUnder(base_).empty());
  EXPECT_TRUE(loopsUnderAfterRelease(base_).empty());

  auto tiny = prepare(container_, {layer_}, limited(1 * kMiB));
  ASSERT_FALSE(tiny.ok());
  EXPECT_EQ(tiny.error().code(), EINVAL);
  EXPECT_FALSE(sys::pathExists(container_));

  // An existing container (disk kept) whose restart fails keeps its disk
  // image and data but not the mount this call made.
  auto ok = prepare(container_, {layer_}, limited(64 * kMiB));
  ASSERT_TRUE(ok.ok()) << ok.error().str();
  ASSERT_TRUE(sys::writeFileReplace(ok->path + "/data", "precious").ok());
  ASSERT_TRUE(unmount(container_).ok());
  auto failed = prepare(container_, {base_ + "/layers/missing"}, limited(64 * kMiB));
  ASSERT_FALSE(failed.ok());
  EXPECT_TRUE(mountsUnder(base_).empty());
  EXPECT_TRUE(loopsUnderAfterRelease(base_).empty());
  EXPECT_TRUE(sys::pathExists(container_ + "/disk.img"));
  auto back = prepare(container_, {layer_}, limited(64 * kMiB));
  ASSERT_TRUE(back.ok()) << back.error().str();
  EXPECT_EQ(*sys::readFile(back->path + "/data"), "precious");
  ASSERT_TRUE(remove(container_).ok());
}

// Not a pass/fail figure: the container start path (prepare, then unmount at
// stop) with and without a 10G limit. The first prepare with a limit also
// makes the image (mkfs), which berthd can do at create time.
TEST_F(DiskLimitRoot, TimesPrepareWithAndWithoutALimit) {
  using Clock = std::chrono::steady_clock;
  auto ms = [](Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); };
  constexpr int kRounds = 10;
  double plain = 0, firstLimited = 0, limitedStart = 0, limitedStop = 0;
  for (int i = 0; i < kRounds; ++i) {
    std::string a = base_ + "/containers/plain" + std::to_string(i);
    std::string b = base_ + "/containers/limited" + std::to_string(i);
    auto t0 = Clock::now();
    ASSERT_TRUE(prepare(a, {layer_}).ok());
    auto t1 = Clock::now();
    ASSERT_TRUE(prepare(b, {layer_}, limited(10ull << 30)).ok());
    auto t2 = Clock::now();
    ASSERT_TRUE(unmount(b).ok());
    auto t3 = Clock::now();
    ASSERT_TRUE(prepare(b, {layer_}, limited(10ull << 30)).ok());
    auto t4 = Clock::now();
    ASSERT_TRUE(unmount(b).ok());
    auto t5 = Clock::now();
    plain += ms(t1 - t0);
    firstLimited += ms(t2 - t1);
    limitedStart += ms(t4 - t3);
    limitedStop += ms(t5 - t4);
    ASSERT_TRUE(remove(a).ok());
    ASSERT_TRUE(remove(b).ok());
  }
  std::printf(
      "[ timing ] prepare without limit %.2f ms; with a 10G limit: first (mkfs + mount) "
      "%.2f ms, later starts (mount only) %.2f ms, unmount %.2f ms (mean of %d)\n",
      plain / kRounds, firstLimited / kRounds, limitedStart / kRounds, limitedStop / kRounds,
      kRounds);
}

}  // namespace
}  // namespace berth::storage::rootfs
