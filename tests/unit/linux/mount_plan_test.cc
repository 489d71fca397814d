// The pure rootfs decisions: error names, bind sources, /proc destinations,
// device and symlink plans, sysctl paths, cgroup v1 layout, mountinfo.
#include "runtime/linux/mount_plan.h"

#include <gtest/gtest.h>

namespace berth::runtime::linux {
namespace {

config::Mount mountOf(std::string type, std::string source, std::string dest, std::vector<std::string> options = {}) {
  config::Mount m;
  m.type = std::move(type);
  m.source = std::move(source);
  m.destination = std::move(dest);
  m.options = std::move(options);
  return m;
}

TEST(DescribeMount, NamesIndexTypeSourceAndDestination) {
  EXPECT_EQ(describeMount(mountOf("bind", "/data", "/srv", {"rbind"}), 4), "mounts[4] (bind /data on /srv)");
  EXPECT_EQ(describeMount(mountOf("", "/data", "/srv", {"bind", "ro"}), 1), "mounts[1] (bind /data on /srv)");
  EXPECT_EQ(describeMount(mountOf("proc", "proc", "/proc"), 0), "mounts[0] (proc on /proc)");
  EXPECT_EQ(describeMount(mountOf("tmpfs", "shm", "/dev/shm"), 3), "mounts[3] (tmpfs shm on /dev/shm)");
}

TEST(BindSourcePath, RelativeToTheBundle) {
  EXPECT_EQ(bindSourcePath(mountOf("bind", "data/x", "/x"), "/b/bundle"), "/b/bundle/data/x");
  EXPECT_EQ(bindSourcePath(mountOf("bind", "/abs", "/x"), "/b/bundle"), "/abs");
}

TEST(IsWithin, ComponentWise) {
  EXPECT_TRUE(isWithin("/a/b", "/a/b"));
  EXPECT_TRUE(isWithin("/a/b", "/a/b/c"));
  EXPECT_TRUE(isWithin("/a/b/", "/a/b/c"));
  EXPECT_FALSE(isWithin("/a/b", "/a/bc"));
  EXPECT_FALSE(isWithin("/a/b", "/a"));
  EXPECT_TRUE(isWithin("/", "/anything"));
}

TEST(CheckProcDestination, OnlyProcOnProcAndLxcfsFiles) {
  EXPECT_TRUE(checkProcDestination("/proc", "proc", false, false));
  EXPECT_TRUE(checkProcDestination("/srv", "tmpfs", false, false));
  EXPECT_TRUE(checkProcDestination("/procfoo", "tmpfs", false, false));
  EXPECT_TRUE(checkProcDestination("/proc", "bind", true, true));
  EXPECT_TRUE(checkProcDestination("/proc/cpuinfo", "bind", true, false));
  EXPECT_TRUE(checkProcDestination("/proc/sys/kernel/ns_last_pid", "bind", true, false));

  auto tmpfsOnProc = checkProcDestination("/proc", "tmpfs", false, false);
  ASSERT_FALSE(tmpfsOnProc);
  EXPECT_NE(tmpfsOnProc.error().str().find("not of type proc"), std::string::npos);
  EXPECT_FALSE(checkProcDestination("/proc", "bind", true, false));
  auto inside = checkProcDestination("/proc/sys", "bind", true, false);
  ASSERT_FALSE(inside);
  EXPECT_NE(inside.error().str().find("/proc/sys cannot be mounted because it is inside /proc"), std::string::npos);
  EXPECT_FALSE(checkProcDestination("/proc/self/attr/exec", "tmpfs", false, false));
}

TEST(PlannedDevices, DefaultsThenConfiguredOnesOverridingByPath) {
  config::Spec spec;
  auto defaults = plannedDevices(spec);
  ASSERT_TRUE(defaults);
  ASSERT_EQ(defaults->size(), 6u);
  EXPECT_EQ((*defaults)[0].path, "/dev/null");
  EXPECT_EQ((*defaults)[0].major, 1u);
  EXPECT_EQ((*defaults)[0].minor, 3u);
  EXPECT_EQ((*defaults)[0].mode, 0666u);

  spec.linux.emplace();
  config::Device fuse;
  fuse.type = "c";
  fuse.path = "/dev/fuse";
  fuse.major = 10;
  fuse.minor = 229;
  fuse.fileMode = 020600;  // S_IFCHR bits in fileMode are ignored
  fuse.uid = 7;
  spec.linux->devices.push_back(fuse);
  config::Device null;
  null.type = "c";
  null.path = "/dev//null";
  null.major = 1;
  null.minor = 3;
  null.fileMode = 0600;
  spec.linux->devices.push_back(null);
  auto devs = plannedDevices(spec);
  ASSERT_TRUE(devs);
  ASSERT_EQ(devs->size(), 7u);
  EXPECT_EQ((*devs)[0].path, "/dev/null");
  EXPECT_EQ((*devs)[0].mode, 0600u);
  EXPECT_EQ(devs->back().path, "/dev/fuse");
  EXPECT_EQ(devs->back().mode, 0600u);
  EXPECT_EQ(devs->back().uid, 7u);
}

TEST(PlannedDevices, RejectsBadEntries) {
  config::Spec spec;
  spec.linux.emplace();
  config::Device d;
  d.type = "x";
  d.path = "/dev/x";
  spec.linux->devices = {d};
  auto r = plannedDevices(spec);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().str(), "linux.devices /dev/x: unknown device type \"x\"");
  d.type = "c";
  d.path = "dev/x";
  spec.linux->devices = {d};
  EXPECT_FALSE(plannedDevices(spec));
  d.path = "/dev/x";
  d.major = -1;
  spec.linux->devices = {d};
  EXPECT_FALSE(plannedDevices(spec));
}

TEST(NeedsDevSetup, NotWhenDevIsBoundFromTheHost) {
  config::Spec spec;
  spec.mounts = {mountOf("tmpfs", "tmpfs", "/dev")};
  EXPECT_TRUE(needsDevSetup(spec));
  spec.mounts.push_back(mountOf("bind", "/dev", "/dev/", {"rbind"}));
  EXPECT_FALSE(needsDevSetup(spec));
}

TEST(DevSymlinks, CoreOnlyWithProc) {
  auto without = devSymlinks(false);
  EXPECT_EQ(without.size(), 4u);
  EXPECT_EQ(without[0], std::make_pair(std::string("/dev/fd"), std::string("/proc/self/fd")));
  EXPECT_EQ(without[3], std::make_pair(std::string("/dev/stderr"), std::string("/proc/self/fd/2")));
  auto with = devSymlinks(true);
  EXPECT_EQ(with.back(), std::make_pair(std::string("/dev/core"), std::string("/proc/kcore")));
  config::Spec spec;
  EXPECT_FALSE(mountsProc(spec));
  spec.mounts = {mountOf("proc", "proc", "/proc/")};
  EXPECT_TRUE(mountsProc(spec));
}

TEST(SysctlPath, DotsOrSlashes) {
  EXPECT_EQ(*sysctlPath("net.ipv4.ip_forward"), "/proc/sys/net/ipv4/ip_forward");
  EXPECT_EQ(*sysctlPath("kernel.shmmax"), "/proc/sys/kernel/shmmax");
  EXPECT_EQ(*sysctlPath("net/ipv4/conf/eth0.100/forwarding"), "/proc/sys/net/ipv4/conf/eth0.100/forwarding");
  EXPECT_FALSE(sysctlPath(""));
  EXPECT_FALSE(sysctlPath("kernel..x"));
  EXPECT_FALSE(sysctlPath("../../etc/passwd"));
  EXPECT_FALSE(sysctlPath("net/../../x"));
}

TEST(CgroupV1, DirectoriesAndCoMountSymlinks) {
  EXPECT_EQ(cgroupDirName("memory"), "memory");
  EXPECT_EQ(cgroupDirName("name=systemd"), "systemd");
  EXPECT_EQ(cgroupDirName("cpu,cpuacct"), "cpu,cpuacct");
  std::vector<CgroupMount> mounts = {{"cpu,cpuacct", "/x"}, {"memory", "/y"}, {"net_cls,net_prio", "/z"}};
  auto links = cgroupV1Symlinks(mounts);
  ASSERT_EQ(links.size(), 4u);
  EXPECT_EQ(links[0], std::make_pair(std::string("cpu"), std::string("cpu,cpuacct")));
  EXPECT_EQ(links[1], std::make_pair(std::string("cpuacct"), std::string("cpu,cpuacct")));
  EXPECT_EQ(links[3], std::make_pair(std::string("net_prio"), std::string("net_cls,net_prio")));
}

constexpr const char* kMountinfo =
    "22 1 0:21 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
    "23 22 0:5 / /proc rw,nosuid,nodev,noexec shared:12 - proc proc rw\n"
    "24 22 0:6 / /sys rw,nosuid shared:2 - sysfs sysfs rw\n"
    "25 24 0:7 / /sys/kernel/security rw - securityfs securityfs rw\n"
    "26 22 0:30 / /tmp rw master:3 - tmpfs tmpfs rw\n"
    "27 26 0:31 / /tmp/my\\040dir rw - tmpfs none rw\n"
    "28 26 0:21 /var/lib/x /tmp/b/rootfs rw shared:1 - ext4 /dev/vda rw\n"
    "29 28 0:32 / /tmp/b/rootfs/proc rw - proc proc rw\n"
    "30 23 0:33 / /proc/sys/fs/binfmt_misc rw - binfmt_misc binfmt_misc rw\n";

TEST(Mountinfo, ParsesFieldsAndEscapes) {
  auto mounts = parseMountinfo(kMountinfo);
  ASSERT_EQ(mounts.size(), 9u);
  EXPECT_EQ(mounts[0].id, 22);
  EXPECT_EQ(mounts[0].parent, 1);
  EXPECT_EQ(mounts[0].mountPoint, "/");
  EXPECT_EQ(mounts[0].optional, "shared:1");
  EXPECT_EQ(mounts[0].fsType, "ext4");
  EXPECT_EQ(mounts[0].source, "/dev/vda");
  EXPECT_EQ(mounts[3].optional, "");
  EXPECT_EQ(mounts[5].mountPoint, "/tmp/my dir");
  EXPECT_EQ(mounts[6].root, "/var/lib/x");
  EXPECT_TRUE(parseMountinfo("garbage\n\n").empty());
}

TEST(Mountinfo, MountContainingPicksTheDeepest) {
  auto mounts = parseMountinfo(kMountinfo);
  EXPECT_EQ(mountContaining(mounts, "/tmp/b/rootfs/etc")->id, 28);
  EXPECT_EQ(mountContaining(mounts, "/tmp/b")->id, 26);
  EXPECT_EQ(mountContaining(mounts, "/etc")->id, 22);
  EXPECT_EQ(mountContaining(mounts, "/tmp/my dir/x")->id, 27);
}

TEST(Mountinfo, HostProcMountsToDetachForNoPivot) {
  auto mounts = parseMountinfo(kMountinfo);
  auto detach = hostProcMountsToDetach(mounts, "/tmp/b/rootfs");
  // Host proc and sysfs only, not the container's /proc, deepest first.
  std::vector<std::string> want = {"/proc", "/sys"};
  EXPECT_EQ(detach, want);
}

}  // namespace
}  // namespace berth::runtime::linux
