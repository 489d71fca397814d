// Unit tests for cgroup layout detection and cgroupsPath resolution: sample
// mountinfo/cgroup texts of a v1, a hybrid and a pure v2 host.
#include "runtime/cgroup/hierarchy.h"

#include <gtest/gtest.h>

#include "runtime/cgroup/cgroup_path.h"

namespace berth::runtime::cgroup {
namespace {

// A classic v1 host: co-mounted cpu,cpuacct and net_cls,net_prio, a named
// systemd hierarchy, a bind mount of memory elsewhere (ignored: first wins).
constexpr const char* kV1Mountinfo =
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
    "25 22 0:21 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755\n"
    "26 25 0:22 / /sys/fs/cgroup/systemd rw,nosuid shared:10 - cgroup cgroup "
    "rw,xattr,release_agent=/lib/systemd/systemd-cgroups-agent,name=systemd\n"
    "29 25 0:25 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:13 - cgroup cgroup rw,cpu,cpuacct\n"
    "30 25 0:26 / /sys/fs/cgroup/memory rw,nosuid shared:14 - cgroup cgroup rw,memory\n"
    "31 25 0:27 / /sys/fs/cgroup/net_cls,net_prio rw shared:15 - cgroup cgroup "
    "rw,net_cls,net_prio\n"
    "32 25 0:28 / /sys/fs/cgroup/cpuset rw shared:16 - cgroup cgroup rw,cpuset,clone_children\n"
    "33 25 0:29 / /sys/fs/cgroup/pids rw shared:17 - cgroup cgroup rw,pids\n"
    "90 22 0:26 /docker /mnt/mem\\040cg rw - cgroup cgroup rw,memory\n";
constexpr const char* kV1ProcCgroup =
    "12:pids:/user.slice/user-0.slice\n"
    "11:cpuset:/\n"
    "10:net_cls,net_prio:/\n"
    "4:memory:/user.slice\n"
    "3:cpuacct,cpu:/user.slice\n"
    "1:name=systemd:/user.slice/user-0.slice/session-1.scope\n";

// This host: each v1 controller mounted alone, cgroup2 at .../unified.
constexpr const char* kHybridMountinfo =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n"
    "37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
    "38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
constexpr const char* kHybridProcCgroup =
    "9:name=systemd:/\n8:pids:/\n7:blkio:/\n6:freezer:/\n5:devices:/\n"
    "4:memory:/process_api/abc\n3:cpuset:/\n2:cpuacct:/\n1:cpu:/\n0::/\n";

constexpr const char* kV2Mountinfo =
    "24 1 0:22 / /sys rw,nosuid - sysfs sysfs rw\n"
    "28 24 0:25 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "
    "rw,nsdelegate,memory_recursiveprot\n";
constexpr const char* kV2ProcCgroup = "0::/user.slice/user-1000.slice/session-2.scope\n";

TEST(Hierarchies, DetectsV1WithCoMountedAndNamedHierarchies) {
  auto h = parseHierarchies(kV1Mountinfo, kV1ProcCgroup);
  ASSERT_TRUE(h) << h.error().str();
  EXPECT_EQ(h->layout, Layout::kV1);
  EXPECT_TRUE(h->unifiedMount.empty());
  ASSERT_EQ(h->v1.size(), 6u);  // the memory bind mount is not a second hierarchy

  const auto* cpu = h->findV1("cpuacct");
  ASSERT_NE(cpu, nullptr);
  EXPECT_EQ(cpu, h->findV1("cpu"));
  EXPECT_EQ(cpu->name, "cpu,cpuacct");
  EXPECT_EQ(cpu->mountName(), "cpu,cpuacct");
  EXPECT_EQ(cpu->mountpoint, "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(cpu->self, "/user.slice");  // "cpuacct,cpu" in /proc/self/cgroup: order does not matter

  const auto* systemd = h->findV1("name=systemd");
  ASSERT_NE(systemd, nullptr);
  EXPECT_EQ(systemd->name, "name=systemd");
  EXPECT_EQ(systemd->mountName(), "systemd");
  EXPECT_EQ(systemd->self, "/user.slice/user-0.slice/session-1.scope");

  EXPECT_EQ(h->findV1("net_prio")->mountpoint, "/sys/fs/cgroup/net_cls,net_prio");
  EXPECT_EQ(h->findV1("cpuset")->controllers, std::vector<std::string>{"cpuset"});
  EXPECT_EQ(h->findV1("memory")->mountpoint, "/sys/fs/cgroup/memory");
  EXPECT_EQ(h->findV1("hugetlb"), nullptr);
}

TEST(Hierarchies, DetectsHybridLikeThisHost) {
  auto h = parseHierarchies(kHybridMountinfo, kHybridProcCgroup);
  ASSERT_TRUE(h) << h.error().str();
  EXPECT_EQ(h->layout, Layout::kHybrid);
  EXPECT_EQ(layoutName(h->layout), "hybrid");
  EXPECT_EQ(h->unifiedMount, "/sys/fs/cgroup/unified");
  EXPECT_EQ(h->unifiedSelf, "/");
  EXPECT_EQ(h->v1.size(), 9u);
  EXPECT_EQ(h->findV1("memory")->self, "/process_api/abc");
  EXPECT_EQ(h->findV1("cpu")->mountpoint, "/sys/fs/cgroup/cpu");
  EXPECT_NE(h->findV1("cpu"), h->findV1("cpuacct"));
}

TEST(Hierarchies, DetectsPureV2) {
  auto h = parseHierarchies(kV2Mountinfo, kV2ProcCgroup);
  ASSERT_TRUE(h) << h.error().str();
  EXPECT_EQ(h->layout, Layout::kV2);
  EXPECT_EQ(h->unifiedMount, "/sys/fs/cgroup");
  EXPECT_EQ(h->unifiedSelf, "/user.slice/user-1000.slice/session-2.scope");
  EXPECT_TRUE(h->v1.empty());
}

TEST(Hierarchies, UnescapesMountpointsAndRejectsGarbage) {
  auto h = parseHierarchies("41 31 0:38 / /run/my\\040cgroups rw,relatime - cgroup2 cgroup2 rw\n",
                            "0::/\n");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->unifiedMount, "/run/my cgroups");

  EXPECT_FALSE(parseHierarchies("41 31 0:38 / /x rw\n", ""));
  auto none = parseHierarchies("22 1 8:1 / / rw - ext4 /dev/sda1 rw\n", "");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code(), ENOENT);
}

TEST(Hierarchies, DetectsTheRunningHost) {
  auto h = detectHierarchies();
  ASSERT_TRUE(h) << h.error().str();
  EXPECT_TRUE(!h->v1.empty() || !h->unifiedMount.empty());
}

TEST(CgroupsPath, EmptyMeansBerthSlashId) {
  auto p = parseCgroupsPath("", "web1");
  ASSERT_TRUE(p) << p.error().str();
  EXPECT_FALSE(p->relative);
  EXPECT_EQ(p->path, "/berth/web1");
  EXPECT_FALSE(parseCgroupsPath("", ""));
  EXPECT_FALSE(parseCgroupsPath("", "a/b"));
  EXPECT_FALSE(parseCgroupsPath("", ".."));
}

TEST(CgroupsPath, AbsoluteAndRelativeAreCleaned) {
  auto abs = parseCgroupsPath("//pods//web/./x/", "id");
  ASSERT_TRUE(abs) << abs.error().str();
  EXPECT_FALSE(abs->relative);
  EXPECT_EQ(abs->path, "/pods/web/x");

  auto rel = parseCgroupsPath("./pods/web", "id");
  ASSERT_TRUE(rel) << rel.error().str();
  EXPECT_TRUE(rel->relative);
  EXPECT_EQ(rel->path, "pods/web");
}

TEST(CgroupsPath, RejectsEscapesRootAndSystemdSyntax) {
  for (const char* bad : {"/a/../../etc", "../x", "a/..", "/..", "/", "//", ".", "./"}) {
    EXPECT_FALSE(parseCgroupsPath(bad, "id")) << bad;
  }
  auto systemd = parseCgroupsPath("system.slice:berth:abc", "abc");
  ASSERT_FALSE(systemd);
  EXPECT_NE(systemd.error().what().find("systemd cgroup driver is not supported; use cgroupfs"),
            std::string::npos);
}

TEST(CgroupsPath, ResolvesPerHierarchy) {
  CgroupPath abs{false, "/berth/c1"};
  CgroupPath rel{true, "berth/c1"};
  EXPECT_EQ(hierarchyDir("/sys/fs/cgroup/memory", "/", "/process_api/abc", abs),
            "/sys/fs/cgroup/memory/berth/c1");
  EXPECT_EQ(hierarchyDir("/sys/fs/cgroup/memory", "/", "/process_api/abc", rel),
            "/sys/fs/cgroup/memory/process_api/abc/berth/c1");
  EXPECT_EQ(hierarchyDir("/sys/fs/cgroup/cpu", "/", "/", rel), "/sys/fs/cgroup/cpu/berth/c1");
  // A mount showing only a subtree (/docker) is that subtree's top.
  EXPECT_EQ(hierarchyDir("/sys/fs/cgroup", "/docker", "/docker/x", rel),
            "/sys/fs/cgroup/x/berth/c1");
  EXPECT_EQ(hierarchyDir("/sys/fs/cgroup", "/docker", "/dockerish", rel),
            "/sys/fs/cgroup/dockerish/berth/c1");
}

}  // namespace
}  // namespace berth::runtime::cgroup
