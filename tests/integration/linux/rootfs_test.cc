// The container's filesystem view, built for real (root only): a busybox bundle
// from hack/mkbundle, the mounts of its config.json, pivot_root, masked and
// read-only paths; checked from inside a child that is pid 1 of its namespaces.
// Hostile images: /proc as a symlink, a bind destination pointing at the host.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "runtime/linux/mount_plan.h"
#include "tests/integration/linux/container_harness.h"

namespace berth::runtime::linux {
namespace {

using testing::Checks;
using testing::isFsType;
using testing::readLink;
using testing::readSmall;

constexpr long kMqueueMagic = 0x19800202;  // not in <linux/magic.h>

config::Mount mountOf(std::string dest, std::string type, std::string source, std::vector<std::string> options) {
  config::Mount m;
  m.destination = std::move(dest);
  m.type = std::move(type);
  m.source = std::move(source);
  m.options = std::move(options);
  return m;
}

// The shape of hack/mkbundle's config.json (mounts, masked and read-only paths).
config::Spec mkbundleSpec() {
  config::Spec spec;
  spec.root = config::Root{"rootfs", true};
  spec.process.emplace();
  spec.mounts = {
      mountOf("/proc", "proc", "proc", {}),
      mountOf("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
      mountOf("/dev/pts", "devpts", "devpts", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}),
      mountOf("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}),
      mountOf("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
      mountOf("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}),
      mountOf("/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"}),
      mountOf("/tmp", "tmpfs", "tmpfs", {"nosuid", "nodev", "mode=1777"}),
  };
  spec.linux.emplace();
  spec.linux->maskedPaths = {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                             "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
                             "/proc/scsi"};
  spec.linux->readonlyPaths = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};
  return spec;
}

// This process's own v1 hierarchies stand in for the container's cgroup.
std::vector<CgroupMount> hostCgroupMounts() {
  std::vector<CgroupMount> out;
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    auto a = line.find(':'), b = line.find(':', a + 1);
    std::string name = line.substr(a + 1, b - a - 1);
    if (name.empty()) continue;
    std::string dir = "/sys/fs/cgroup/" + cgroupDirName(name) + line.substr(b + 1);
    if (sys::pathExists(dir)) out.push_back({name, dir});
  }
  return out;
}

class RootfsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (::geteuid() != 0) return;
    base_ = "/tmp/berth-it-mounts-" + std::to_string(::getpid());
    std::string cmd = std::string(BERTH_SOURCE_DIR) + "/hack/mkbundle " + base_ + "/bundle >/dev/null";
    bundleOk_ = std::system(cmd.c_str()) == 0;
  }
  static void TearDownTestSuite() {
    if (!base_.empty()) (void)sys::removeAll(base_);
  }

  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (mount namespaces, mknod, pivot_root)";
    ASSERT_TRUE(bundleOk_) << "hack/mkbundle failed";
    scratch_ = base_ + "/" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    ASSERT_TRUE(sys::mkdirAll(scratch_));
    hostBefore_ = testing::hostMountsOutsideScratch();
    ctx_.bundle = base_ + "/bundle";
    ctx_.rootfs = ctx_.bundle + "/rootfs";
  }
  void TearDown() override {
    if (::geteuid() != 0) return;
    EXPECT_EQ(testing::hostMountsOutsideScratch(), hostBefore_) << "the host mount table changed";
    EXPECT_EQ(testing::hostMountsUnder(base_), "") << "mounts left on the host";
    (void)sys::removeAll(scratch_);
  }

  // A rootfs of plain directories (enough for mounts; nothing is executed).
  std::string minimalRootfs() {
    std::string root = scratch_ + "/rootfs";
    for (const char* dir : {"", "/dev", "/etc", "/tmp"}) EXPECT_TRUE(sys::mkdirAll(root + dir));
    return root;
  }

  static inline std::string base_;
  static inline bool bundleOk_ = false;
  std::string scratch_;
  std::string hostBefore_;
  RootfsContext ctx_;
};

bool isReadonlyMount(const char* path) {
  struct statvfs st;
  return ::statvfs(path, &st) == 0 && (st.f_flag & ST_RDONLY) != 0;
}

// ".." at the root must stay there: a mount left stacked above the new root
// (the old root, or whatever covered it) would lead out to the host.
void checkRootIsClosed(Checks& c) {
  struct stat root {}, up {};
  c.expect(::stat("/", &root) == 0 && ::stat("/..", &up) == 0 && root.st_dev == up.st_dev &&
               root.st_ino == up.st_ino,
           "/.. is / (no way out of the root)");
}

void checkBasics(Checks& c, const std::string& marker) {
  checkRootIsClosed(c);
  c.expect(readSmall(marker.c_str()) == "berth-rootfs\n", "/ is the rootfs (marker " + marker + ")");
  c.expect(::getpid() == 1, "pid 1 in the new pid namespace");
  c.expect(readLink("/proc/self") == "1", "/proc is this pid namespace's (self -> " + readLink("/proc/self") + ")");
  struct stat st {};
  c.expect(::stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 && minor(st.st_rdev) == 3,
           "/dev/null is char 1:3");
  c.expect((st.st_mode & 0777) == 0666, "/dev/null mode 0666");
  sys::UniqueFd null(::open("/dev/null", O_WRONLY | O_CLOEXEC));
  c.expect(null.valid() && ::write(null.get(), "x", 1) == 1, "/dev/null is writable");
  c.expect(::stat("/dev/zero", &st) == 0 && S_ISCHR(st.st_mode) && minor(st.st_rdev) == 5, "/dev/zero");
  c.expect(::stat("/dev/tty", &st) == 0 && major(st.st_rdev) == 5, "/dev/tty");
}

TEST_F(RootfsTest, BusyboxBundleFromInside) {
  std::string marker = "/marker-" + std::to_string(::getpid());
  ASSERT_TRUE(sys::writeFileAtomic(ctx_.rootfs + marker, "berth-rootfs\n"));
  std::string data = scratch_ + "/data";
  ASSERT_TRUE(sys::mkdirAll(data));
  ASSERT_TRUE(sys::writeFileAtomic(data + "/hello", "hello from host"));
  std::string fakeCoMount = scratch_ + "/net_cls";
  ASSERT_TRUE(sys::mkdirAll(fakeCoMount));

  config::Spec spec = mkbundleSpec();
  spec.mounts.push_back(mountOf("/data", "bind", data, {"rbind", "ro", "nosuid"}));
  spec.linux->sysctl["kernel.shmmax"] = "123456789";
  ctx_.cgroupMounts = hostCgroupMounts();
  ASSERT_FALSE(ctx_.cgroupMounts.empty());
  ctx_.cgroupMounts.push_back({"net_cls,net_prio", fakeCoMount});

  auto report = testing::runContainer(spec, ctx_, [&](Checks& c) {
    checkBasics(c, marker);
    struct stat st {};
    c.expect(::stat("/dev/pts", &st) == 0 && S_ISDIR(st.st_mode) && isFsType("/dev/pts", DEVPTS_SUPER_MAGIC),
             "/dev/pts is a devpts");
    c.expect(::stat("/dev/pts/ptmx", &st) == 0, "/dev/pts/ptmx exists");
    c.expect(readLink("/dev/ptmx") == "pts/ptmx", "/dev/ptmx -> pts/ptmx");
    c.expect(readLink("/dev/fd") == "/proc/self/fd", "/dev/fd -> /proc/self/fd");
    c.expect(readLink("/dev/stderr") == "/proc/self/fd/2", "/dev/stderr");
    c.expect(readLink("/dev/core") == "/proc/kcore", "/dev/core");
    c.expect(isFsType("/dev/shm", TMPFS_MAGIC) && isFsType("/dev/mqueue", kMqueueMagic), "/dev/shm, /dev/mqueue");
    // Masked: a file is /dev/null, a directory an empty read-only tmpfs.
    // (this kernel has no /proc/kcore; /proc/timer_list and /proc/acpi are there)
    c.expect(readSmall("/proc/timer_list").empty(), "/proc/timer_list reads nothing");
    c.expect(::stat("/proc/timer_list", &st) == 0 && S_ISCHR(st.st_mode), "/proc/timer_list is /dev/null");
    c.expect(isFsType("/proc/acpi", TMPFS_MAGIC), "/proc/acpi is a tmpfs");
    c.expect(!sys::pathExists("/proc/kcore") || readSmall("/proc/kcore").empty(), "/proc/kcore masked if present");
    c.expect(isFsType("/sys/firmware", TMPFS_MAGIC), "/sys/firmware is a tmpfs");
    c.expectErrno(::mkdir("/sys/firmware/x", 0755), EROFS, "mkdir in masked /sys/firmware");
    // sysctl was written, then /proc/sys turned read-only.
    c.expect(readSmall("/proc/sys/kernel/shmmax") == "123456789\n", "sysctl kernel.shmmax applied");
    c.expectErrno(::open("/proc/sys/kernel/shmmax", O_WRONLY | O_CLOEXEC), EROFS, "write /proc/sys");
    c.expect(isReadonlyMount("/proc/fs") && isReadonlyMount("/proc/irq"), "/proc/fs and /proc/irq read-only");
    // root.readonly, while /tmp is a writable tmpfs.
    c.expectErrno(::open("/newfile", O_CREAT | O_WRONLY | O_CLOEXEC, 0644), EROFS, "create /newfile");
    c.expect(isFsType("/tmp", TMPFS_MAGIC) && sys::writeFileAtomic("/tmp/x", "y").ok(), "/tmp is writable tmpfs");
    // The read-only bind of a host directory.
    c.expect(readSmall("/data/hello") == "hello from host", "/data shows the host dir");
    c.expectErrno(::open("/data/new", O_CREAT | O_WRONLY | O_CLOEXEC, 0644), EROFS, "create in ro bind /data");
    // sysfs read-only; cgroup v1 tree read-only with co-mount symlinks.
    c.expect(isFsType("/sys", SYSFS_MAGIC), "/sys is sysfs");
    c.expectErrno(::mkdir("/sys/x", 0755), EROFS, "mkdir /sys/x");
    c.expect(sys::pathExists("/sys/fs/cgroup/memory/memory.limit_in_bytes"), "cgroup memory hierarchy bound");
    c.expect(readLink("/sys/fs/cgroup/net_prio") == "net_cls,net_prio", "net_prio -> net_cls,net_prio");
    c.expectErrno(::mkdir("/sys/fs/cgroup/x", 0755), EROFS, "mkdir in the cgroup tmpfs");
    c.expectErrno(::open("/sys/fs/cgroup/memory/cgroup.procs", O_WRONLY | O_CLOEXEC), EROFS, "write cgroup.procs");
  });
  EXPECT_EQ(report.output, "");
  EXPECT_EQ(report.exitCode, 0);
}

TEST_F(RootfsTest, NoPivotMovesTheRootAndChroots) {
  std::string marker = "/marker-nopivot-" + std::to_string(::getpid());
  ASSERT_TRUE(sys::writeFileAtomic(ctx_.rootfs + marker, "berth-rootfs\n"));
  config::Spec spec = mkbundleSpec();
  spec.mounts.resize(2);  // proc and /dev
  spec.linux->rootfsPropagation = "private";
  ctx_.noPivot = true;
  auto report = testing::runContainer(spec, ctx_, [&](Checks& c) {
    checkBasics(c, marker);
    c.expectErrno(::open("/newfile", O_CREAT | O_WRONLY | O_CLOEXEC, 0644), EROFS, "create /newfile");
    auto info = parseMountinfo(readSmall("/proc/self/mountinfo"));
    const MountInfo* root = mountContaining(info, "/");
    c.expect(root && root->optional.find("master:") == std::string::npos &&
                 root->optional.find("shared:") == std::string::npos,
             "rootfsPropagation private applied to /");
  });
  EXPECT_EQ(report.output, "");
  EXPECT_EQ(report.exitCode, 0);
}

TEST_F(RootfsTest, ProcDestinationThatIsASymlinkIsRefused) {
  ctx_.rootfs = minimalRootfs();
  ASSERT_EQ(::symlink("/etc", (ctx_.rootfs + "/proc").c_str()), 0);
  config::Spec spec = mkbundleSpec();
  spec.mounts.resize(1);
  auto report = testing::runContainer(spec, ctx_, {});
  EXPECT_EQ(report.output, "ERROR prepare: mounts[0] (proc on /proc): mount destination /proc is a symlink");
  EXPECT_NE(report.exitCode, 0);
}

TEST_F(RootfsTest, SysfsDestinationThatIsASymlinkIsRefused) {
  ctx_.rootfs = minimalRootfs();
  ASSERT_EQ(::symlink("/../../../sys", (ctx_.rootfs + "/sys").c_str()), 0);
  config::Spec spec;
  spec.mounts = {mountOf("/sys", "sysfs", "sysfs", {"ro"})};
  auto report = testing::runContainer(spec, ctx_, {});
  EXPECT_EQ(report.output, "ERROR prepare: mounts[0] (sysfs on /sys): mount destination /sys is a symlink");
}

TEST_F(RootfsTest, BindDestinationSymlinkToTheHostLandsInsideTheRootfs) {
  ctx_.rootfs = minimalRootfs();
  std::string victim = scratch_ + "/host-victim";  // must never be created or mounted on
  ASSERT_EQ(::symlink(("/../../.." + victim).c_str(), (ctx_.rootfs + "/srv").c_str()), 0);
  std::string source = scratch_ + "/src";
  ASSERT_TRUE(sys::mkdirAll(source));
  ASSERT_TRUE(sys::writeFileAtomic(source + "/content", "bound"));
  config::Spec spec;
  spec.mounts = {mountOf("/srv", "bind", source, {"bind", "ro"})};
  std::string inRootfs = ctx_.rootfs + victim;
  auto report = testing::runContainer(
      spec, ctx_,
      [&](Checks& c) {
        c.expect(readSmall("/srv/content") == "bound", "/srv shows the bind source");
        c.expect(readSmall((victim + "/content").c_str()) == "bound",
                 "the symlink target inside the rootfs holds the mount");
        checkRootIsClosed(c);
      },
      [&](Checks& c) {
        c.expect(!sys::pathExists(victim), "nothing created at the host path " + victim);
        c.expect(readSmall((inRootfs + "/content").c_str()) == "bound", "mounted at " + inRootfs);
      });
  EXPECT_EQ(report.output, "");
  EXPECT_FALSE(sys::pathExists(victim));
  EXPECT_TRUE(sys::pathExists(inRootfs)) << "the mount point was made inside the rootfs";
}

TEST_F(RootfsTest, MissingBindSourceNamesTheMount) {
  ctx_.rootfs = minimalRootfs();
  config::Spec spec;
  spec.mounts = {mountOf("/tmp", "tmpfs", "tmpfs", {}),
                 mountOf("/srv", "bind", "/nonexistent-" + std::to_string(::getpid()), {"rbind"})};
  auto report = testing::runContainer(spec, ctx_, {});
  EXPECT_EQ(report.output, "ERROR prepare: mounts[1] (bind /nonexistent-" + std::to_string(::getpid()) +
                               " on /srv): source /nonexistent-" + std::to_string(::getpid()) +
                               ": No such file or directory");
}

TEST_F(RootfsTest, MountsInsideProcAreRefused) {
  ctx_.rootfs = minimalRootfs();
  config::Spec spec;
  spec.mounts = {mountOf("/proc", "proc", "proc", {}), mountOf("/proc/sys", "tmpfs", "tmpfs", {})};
  auto report = testing::runContainer(spec, ctx_, {});
  EXPECT_EQ(report.output,
            "ERROR prepare: mounts[1] (tmpfs on /proc/sys): /proc/sys cannot be mounted because it is inside /proc: "
            "Operation not permitted");
}

TEST_F(RootfsTest, DevicesFromTheSpecAndAFileBind) {
  ctx_.rootfs = minimalRootfs();
  // An image shipping /dev/null as a regular file gets a real node.
  ASSERT_TRUE(sys::writeFileAtomic(ctx_.rootfs + "/dev/null", "not a device"));
  std::string hostsFile = scratch_ + "/hosts";
  ASSERT_TRUE(sys::writeFileAtomic(hostsFile, "10.0.0.1 db\n"));
  config::Spec spec;
  spec.process.emplace();
  spec.process->terminal = true;
  spec.linux.emplace();
  config::Device fuse;
  fuse.type = "c";
  fuse.path = "/dev/fuse";
  fuse.major = 10;
  fuse.minor = 229;
  fuse.fileMode = 0640;
  fuse.uid = 1000;
  fuse.gid = 1001;
  spec.linux->devices = {fuse};
  spec.mounts = {mountOf("/etc/hosts", "bind", hostsFile, {"bind", "ro"})};
  auto report = testing::runContainer(spec, ctx_, [&](Checks& c) {
    struct stat st {};
    c.expect(::stat("/dev/fuse", &st) == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == 10 &&
                 minor(st.st_rdev) == 229,
             "/dev/fuse is char 10:229");
    c.expect((st.st_mode & 0777) == 0640 && st.st_uid == 1000 && st.st_gid == 1001, "/dev/fuse mode and owner");
    c.expect(::stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode), "/dev/null replaced by a device");
    c.expect(::stat("/dev/console", &st) == 0 && S_ISREG(st.st_mode), "/dev/console placeholder");
    c.expect(readSmall("/etc/hosts") == "10.0.0.1 db\n", "file bind /etc/hosts");
    c.expectErrno(::open("/etc/hosts", O_WRONLY | O_CLOEXEC), EROFS, "write ro file bind");
  });
  EXPECT_EQ(report.output, "");
  EXPECT_EQ(report.exitCode, 0);
}

}  // namespace
}  // namespace berth::runtime::linux
