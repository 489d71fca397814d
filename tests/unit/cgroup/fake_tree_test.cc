// Unit tests of the v1 and v2 managers on a fake cgroup tree in a temporary
// directory: the test pre-creates the files the kernel would have, runs the
// manager, and checks each file's content afterwards. (A regular file keeps
// only what the last write put there, so each file gets one write here; the
// order of repeated writes is covered by controller_test.cc.)
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "runtime/cgroup/hierarchy.h"
#include "runtime/cgroup/manager.h"
#include "runtime/sys/fs.h"

namespace berth::runtime::cgroup {
namespace {

class FakeTree : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-unit-cgroup-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override { (void)sys::removeAll(root_); }

  // Creates `rel` (and its directory) with `content`, as the kernel would.
  void put(const std::string& rel, const std::string& content = "") {
    auto path = root_ + "/" + rel;
    ASSERT_TRUE(sys::mkdirAll(path.substr(0, path.rfind('/'))));
    std::ofstream(path) << content;
  }
  std::string get(const std::string& rel) {
    std::ifstream in(root_ + "/" + rel);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  std::unique_ptr<Manager> open(const Hierarchies& h, const std::string& path,
                                const std::string& id) {
    auto m = openManager(h, path, id);
    EXPECT_TRUE(m) << m.error().str();
    return m ? std::move(*m) : nullptr;
  }

  std::string root_;
};

class FakeV2 : public FakeTree {
 protected:
  void SetUp() override {
    FakeTree::SetUp();
    put("cgroup.controllers", "cpuset cpu io memory hugetlb pids\n");
    put("cgroup.subtree_control");
    put("berth/cgroup.subtree_control");
    for (const char* f :
         {"cgroup.procs", "cgroup.freeze", "memory.max", "memory.swap.max", "memory.low",
          "cpu.weight", "cpu.max", "cpu.max.burst", "cpuset.cpus", "cpuset.mems", "pids.max",
          "io.max", "io.weight", "hugetlb.2MB.max", "memory.high"}) {
      put(std::string("berth/c1/") + f);
    }
  }
  const std::string dir() { return root_ + "/berth/c1"; }
};

config::Resources everything() {
  config::Resources r;
  r.memory.emplace();
  r.memory->limit = 100 << 20;
  r.memory->swap = 300 << 20;
  r.memory->reservation = 50 << 20;
  r.cpu.emplace();
  r.cpu->shares = 1024;
  r.cpu->quota = 50000;
  r.cpu->period = 100000;
  r.cpu->burst = 1000;
  r.cpu->cpus = "0-1";
  r.cpu->mems = "0";
  r.pids.emplace();
  r.pids->limit = 64;
  r.blockIO.emplace();
  r.blockIO->weight = 500;
  r.blockIO->throttleReadBpsDevice.push_back({8, 0, 1048576});
  r.hugepageLimits.push_back({"2MB", 4194304});
  return r;
}

TEST_F(FakeV2, ApplyWritesEveryFileAndEnablesControllers) {
  auto m = open(Hierarchies::v2At(root_), "", "c1");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->layout(), Layout::kV2);
  EXPECT_EQ(m->pathFor("memory"), dir());
  ASSERT_TRUE(m->create());
  EXPECT_GE(m->cloneIntoFd(), 0);
  int flags = ::fcntl(m->cloneIntoFd(), F_GETFD);
  EXPECT_TRUE(flags & FD_CLOEXEC);

  auto r = everything();
  r.unified = {{"memory.high", "90000000"}};
  auto applied = m->apply(r);
  ASSERT_TRUE(applied) << applied.error().str();
  EXPECT_EQ(get("berth/c1/memory.max"), "104857600");
  EXPECT_EQ(get("berth/c1/memory.swap.max"), "209715200");
  EXPECT_EQ(get("berth/c1/memory.low"), "52428800");
  EXPECT_EQ(get("berth/c1/memory.high"), "90000000");
  EXPECT_EQ(get("berth/c1/cpu.weight"), "39");
  EXPECT_EQ(get("berth/c1/cpu.max"), "50000 100000");
  EXPECT_EQ(get("berth/c1/cpu.max.burst"), "1000");
  EXPECT_EQ(get("berth/c1/cpuset.cpus"), "0-1");
  EXPECT_EQ(get("berth/c1/cpuset.mems"), "0");
  EXPECT_EQ(get("berth/c1/pids.max"), "64");
  EXPECT_EQ(get("berth/c1/io.weight"), "4950");  // no io.bfq.weight: converted fallback
  EXPECT_EQ(get("berth/c1/io.max"), "8:0 rbps=1048576");
  EXPECT_EQ(get("berth/c1/hugetlb.2MB.max"), "4194304");
  // Enabled from the root down to the container's parent, not in the container.
  for (const char* level : {"cgroup.subtree_control", "berth/cgroup.subtree_control"}) {
    EXPECT_EQ(get(level), "+memory +cpu +cpuset +pids +io +hugetlb") << level;
  }
  EXPECT_FALSE(sys::pathExists(dir() + "/cgroup.subtree_control"));
}

TEST_F(FakeV2, NoLimitsTouchNothingAbove) {
  auto m = open(Hierarchies::v2At(root_), "", "c1");
  ASSERT_TRUE(m->create());
  ASSERT_TRUE(m->apply({}));
  EXPECT_EQ(get("cgroup.subtree_control"), "");
}

TEST_F(FakeV2, MissingKnobNamesTheFile) {
  ::unlink((dir() + "/memory.swap.max").c_str());
  auto m = open(Hierarchies::v2At(root_), "", "c1");
  ASSERT_TRUE(m->create());
  config::Resources r;
  r.memory.emplace();
  r.memory->limit = 100;
  r.memory->swap = 300;
  auto applied = m->apply(r);
  ASSERT_FALSE(applied);
  EXPECT_EQ(applied.error().code(), ENOENT);
  EXPECT_NE(applied.error().what().find("memory.swap.max"), std::string::npos);
  // Disabling swap where there is no swap accounting is already true: fine.
  r.memory->swap = 100;
  EXPECT_TRUE(m->apply(r));
}

TEST_F(FakeV2, UpdateComputesSwapFromTheCurrentLimit) {
  put("berth/c1/memory.max", "104857600\n");
  auto m = open(Hierarchies::v2At(root_), "", "c1");
  config::Resources r;
  r.memory.emplace();
  r.memory->swap = 300 << 20;
  ASSERT_TRUE(m->update(r));  // a reopened manager, no create()
  EXPECT_EQ(get("berth/c1/memory.swap.max"), "209715200");
}

TEST_F(FakeV2, FreezeWaitsForTheKernelAndIsBounded) {
  put("berth/c1/cgroup.events", "populated 1\nfrozen 1\n");
  auto m = open(Hierarchies::v2At(root_), "", "c1");
  ASSERT_TRUE(m->freeze());
  EXPECT_EQ(get("berth/c1/cgroup.freeze"), "1");
  EXPECT_TRUE(*m->frozen());
  ASSERT_TRUE(m->thaw());
  EXPECT_EQ(get("berth/c1/cgroup.freeze"), "0");

  put("berth/c1/cgroup.events", "populated 1\nfrozen 0\n");
  auto stuck = m->freeze();
  ASSERT_FALSE(stuck);
  EXPECT_EQ(stuck.error().code(), EBUSY);
  EXPECT_EQ(get("berth/c1/cgroup.freeze"), "0");  // thawed again after giving up
  EXPECT_FALSE(*m->frozen());
}

TEST_F(FakeV2, PidsStatsAndMounts) {
  put("berth/c1/cgroup.procs", "12\n34\n");
  put("berth/c1/sub/cgroup.procs", "56\n");
  put("berth/c1/cpu.stat", "usage_usec 1500\nuser_usec 1000\n");
  put("berth/c1/memory.current", "4096\n");
  put("berth/c1/memory.max", "max\n");
  put("berth/c1/memory.peak", "8192\n");
  put("berth/c1/pids.current", "3\n");
  put("berth/c1/pids.max", "64\n");
  auto m = open(Hierarchies::v2At(root_), "", "c1");
  auto pids = m->pids();
  ASSERT_TRUE(pids) << pids.error().str();
  EXPECT_EQ(*pids, (std::vector<pid_t>{12, 34, 56}));
  auto s = m->stats();
  ASSERT_TRUE(s) << s.error().str();
  EXPECT_EQ(s->cpuUsageNs, 1500000u);
  EXPECT_EQ(s->memoryUsage, 4096u);
  EXPECT_FALSE(s->memoryLimit);
  EXPECT_EQ(s->memoryMaxUsage, 8192u);
  EXPECT_EQ(s->pidsCurrent, 3u);
  EXPECT_EQ(s->pidsLimit, std::optional<uint64_t>(64));
  auto mounts = m->containerMounts();
  ASSERT_EQ(mounts.size(), 1u);
  EXPECT_EQ(mounts[0].name, "");
  EXPECT_EQ(mounts[0].hostDir, dir());
  EXPECT_TRUE(mounts[0].cgroup2);
}

TEST_F(FakeTree, V2CreateMakesMissingLevelsAndDestroyRemovesEmptyParents) {
  put("cgroup.controllers", "memory\n");
  auto m = open(Hierarchies::v2At(root_), "/a/b/c", "x");
  ASSERT_TRUE(m->create());
  struct stat st;
  EXPECT_EQ(::stat((root_ + "/a/b/c").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  ASSERT_TRUE(m->create());  // existing: fine
  // (A fake directory holding files cannot be rmdir'ed as a real cgroup can;
  // destroy() of live cgroups is an integration test.)
  ASSERT_EQ(::rmdir((root_ + "/a/b/c").c_str()), 0);
  auto destroyed = m->destroy();
  EXPECT_TRUE(destroyed) << destroyed.error().str();
  // The parents the path named are left empty: they go with their last container.
  EXPECT_FALSE(sys::pathExists(root_ + "/a"));
  EXPECT_TRUE(sys::pathExists(root_ + "/cgroup.controllers"));
}

TEST_F(FakeTree, ReopeningIsDeterministic) {
  auto a = open(Hierarchies::v2At(root_), "", "web");
  auto b = open(Hierarchies::v2At(root_), "", "web");
  EXPECT_EQ(a->pathFor(""), b->pathFor(""));
  EXPECT_EQ(a->pathFor(""), root_ + "/berth/web");
  EXPECT_FALSE(openManager(Hierarchies::v2At(root_), "/../x", "web"));
}

// A v1 tree: the hierarchies come from a mountinfo text naming temp dirs.
class FakeV1 : public FakeTree {
 protected:
  void SetUp() override {
    FakeTree::SetUp();
    std::string mountinfo;
    int id = 30;
    for (const char* h : {"cpu,cpuacct", "cpuset", "memory", "pids", "blkio", "devices", "freezer",
                          "net_cls,net_prio", "name=systemd"}) {
      std::string name = h;
      std::string dirName = name.starts_with("name=") ? name.substr(5) : name;
      mountinfo += std::to_string(id++) + " 1 0:1 / " + root_ + "/" + dirName +
                   " rw - cgroup cgroup rw," + name + "\n";
    }
    mountinfo += "60 1 0:2 / " + root_ + "/unified rw - cgroup2 cgroup2 rw\n";
    auto h = parseHierarchies(mountinfo, "4:memory:/process_api/abc\n0::/\n");
    ASSERT_TRUE(h) << h.error().str();
    hierarchies_ = *h;
    for (const char* f :
         {"cpu,cpuacct/berth/c1/cpu.shares", "cpu,cpuacct/berth/c1/cpu.cfs_period_us",
          "cpu,cpuacct/berth/c1/cpu.cfs_quota_us", "cpuset/berth/c1/cpuset.cpus",
          "cpuset/berth/c1/cpuset.mems", "memory/berth/c1/memory.limit_in_bytes",
          "memory/berth/c1/memory.soft_limit_in_bytes", "memory/berth/c1/memory.swappiness",
          "pids/berth/c1/pids.max", "blkio/berth/c1/blkio.bfq.weight",
          "blkio/berth/c1/blkio.throttle.read_bps_device", "devices/berth/c1/devices.allow",
          "devices/berth/c1/devices.deny", "freezer/berth/c1/freezer.state",
          "net_cls,net_prio/berth/c1/net_cls.classid"}) {
      put(f);
    }
    // A fresh v1 cpuset level is empty; create() fills it from its parent.
    // (Fake files are overwritten in place, not truncated like kernel knobs:
    // the root's values match what apply() writes later.)
    put("cpuset/cpuset.cpus", "1");
    put("cpuset/cpuset.mems", "0");
    put("cpuset/berth/cpuset.cpus");
    put("cpuset/berth/cpuset.mems");
    for (const char* h : {"cpu,cpuacct", "cpuset", "memory", "pids", "blkio", "devices", "freezer",
                          "net_cls,net_prio", "systemd", "unified"}) {
      put(std::string(h) + "/berth/c1/cgroup.procs");
    }
  }
  Hierarchies hierarchies_;
};

TEST_F(FakeV1, ApplyRoutesEachKnobToItsHierarchy) {
  auto m = open(hierarchies_, "", "c1");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->layout(), Layout::kHybrid);
  ASSERT_TRUE(m->create());
  EXPECT_EQ(m->cloneIntoFd(), -1);
  config::Resources r;
  r.memory.emplace();
  r.memory->limit = 100 << 20;
  r.memory->reservation = 50 << 20;
  r.memory->swappiness = 0;
  r.cpu.emplace();
  r.cpu->shares = 512;
  r.cpu->quota = 50000;
  r.cpu->period = 100000;
  r.cpu->cpus = "1";
  r.cpu->mems = "0";
  r.pids.emplace();
  r.pids->limit = 0;
  r.blockIO.emplace();
  r.blockIO->weight = 300;
  r.blockIO->throttleReadBpsDevice.push_back({8, 0, 1048576});
  r.network.emplace();
  r.network->classID = 42;
  auto applied = m->apply(r);
  ASSERT_TRUE(applied) << applied.error().str();
  EXPECT_EQ(get("memory/berth/c1/memory.limit_in_bytes"), "104857600");
  EXPECT_EQ(get("memory/berth/c1/memory.soft_limit_in_bytes"), "52428800");
  EXPECT_EQ(get("memory/berth/c1/memory.swappiness"), "0");
  EXPECT_EQ(get("cpu,cpuacct/berth/c1/cpu.shares"), "512");
  EXPECT_EQ(get("cpu,cpuacct/berth/c1/cpu.cfs_period_us"), "100000");
  EXPECT_EQ(get("cpu,cpuacct/berth/c1/cpu.cfs_quota_us"), "50000");
  EXPECT_EQ(get("cpuset/berth/c1/cpuset.cpus"), "1");
  EXPECT_EQ(get("cpuset/berth/c1/cpuset.mems"), "0");
  EXPECT_EQ(get("pids/berth/c1/pids.max"), "max");
  EXPECT_EQ(get("blkio/berth/c1/blkio.bfq.weight"), "300");  // no CFQ blkio.weight here
  EXPECT_EQ(get("blkio/berth/c1/blkio.throttle.read_bps_device"), "8:0 1048576");
  EXPECT_EQ(get("net_cls,net_prio/berth/c1/net_cls.classid"), "42");
}

TEST_F(FakeV1, ErrorsNameTheMissingFileOrController) {
  auto m = open(hierarchies_, "", "c1");
  config::Resources swap;
  swap.memory.emplace();
  swap.memory->limit = 100;
  swap.memory->swap = 200;
  auto noMemsw = m->apply(swap);
  ASSERT_FALSE(noMemsw);
  EXPECT_NE(noMemsw.error().what().find("memory.memsw.limit_in_bytes"), std::string::npos);

  config::Resources huge;
  huge.hugepageLimits.push_back({"2MB", 1 << 21});
  auto noHugetlb = m->apply(huge);
  ASSERT_FALSE(noHugetlb);
  EXPECT_NE(noHugetlb.error().what().find("\"hugetlb\" is not mounted"), std::string::npos)
      << noHugetlb.error().str();

  config::Resources unified;
  unified.unified = {{"memory.high", "1"}};
  auto v1 = m->apply(unified);
  ASSERT_FALSE(v1);
  EXPECT_NE(v1.error().what().find("memory.high"), std::string::npos);
}

TEST_F(FakeV1, DevicesFreezerAndProcesses) {
  auto m = open(hierarchies_, "", "c1");
  ASSERT_TRUE(m->setDevices({{true, "c", 1, 3, "rwm"}}));
  EXPECT_EQ(get("devices/berth/c1/devices.deny"), "a");
  EXPECT_EQ(get("devices/berth/c1/devices.allow"), "c 1:3 rwm");

  put("freezer/berth/c1/freezer.state", "");
  // A fake file reads back what was written, so FROZEN is reached at once.
  ASSERT_TRUE(m->freeze());
  EXPECT_TRUE(*m->frozen());
  ASSERT_TRUE(m->thaw());
  EXPECT_EQ(get("freezer/berth/c1/freezer.state"), "THAWED");

  auto added = m->addProcess(4242);
  ASSERT_TRUE(added) << added.error().str();
  for (const char* h : {"memory", "cpuset", "systemd", "unified", "net_cls,net_prio"}) {
    EXPECT_EQ(get(std::string(h) + "/berth/c1/cgroup.procs"), "4242") << h;
  }
}

TEST_F(FakeV1, RelativePathsFollowTheCallersCgroupPerHierarchy) {
  auto m = open(hierarchies_, "pod/c2", "c2");
  EXPECT_EQ(m->pathFor("memory"), root_ + "/memory/process_api/abc/pod/c2");
  EXPECT_EQ(m->pathFor("cpuacct"), root_ + "/cpu,cpuacct/pod/c2");
  EXPECT_EQ(m->pathFor(""), root_ + "/unified/pod/c2");
  EXPECT_EQ(m->pathFor("hugetlb"), "");
  auto mounts = m->containerMounts();
  ASSERT_EQ(mounts.size(), 10u);
  EXPECT_EQ(mounts[0].name, "cpu,cpuacct");
  EXPECT_EQ(mounts[0].hostDir, root_ + "/cpu,cpuacct/pod/c2");
  EXPECT_EQ(mounts[8].name, "systemd");
  EXPECT_EQ(mounts[9].name, "unified");
  EXPECT_TRUE(mounts[9].cgroup2);
  EXPECT_FALSE(mounts[0].cgroup2);
}

}  // namespace
}  // namespace berth::runtime::cgroup
