// Integration tests for runtime/cgroup on the real kernel (root): limits
// reach the kernel's files and take effect on real processes (OOM kill, fork
// limit, freezing), killAll + destroy leave nothing behind, and the cgroup v2
// eBPF device filter decides what a process may open.
//
// Cgroups are made relative to this process's own cgroup (runtime-spec
// "relative" cgroupsPath), so the test's children stay inside whatever limits
// the test itself runs under. Every cgroup and child is removed by RAII
// guards, also when an assertion fails.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <functional>
#include <vector>

#include "runtime/cgroup/devices.h"
#include "runtime/cgroup/hierarchy.h"
#include "runtime/cgroup/manager.h"
#include "runtime/sys/fs.h"

namespace berth::runtime::cgroup {
namespace {

#define SKIP_UNLESS_ROOT() \
  if (::geteuid() != 0) GTEST_SKIP() << "needs root: creates cgroups and moves processes"

std::string uniqueName(const char* what) {
  return "berth-it-" + std::to_string(::getpid()) + "-" + what;
}

void sleepMs(int ms) {
  timespec ts{ms / 1000, (ms % 1000) * 1000000L};
  ::nanosleep(&ts, nullptr);
}

std::string readTrimmed(const std::string& path) {
  auto text = sys::readFile(path);
  if (!text) return "<" + text.error().str() + ">";
  while (!text->empty() && text->back() == '\n') text->pop_back();
  return *text;
}

// A forked child that runs `body` only once released (so the test can move it
// into a cgroup first) and exits with its return value. Killed and reaped on
// scope exit unless waited for.
class Child {
 public:
  explicit Child(std::function<int()> body) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) < 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(fds[1]);
      char c;
      if (::read(fds[0], &c, 1) != 1) ::_exit(100);
      ::_exit(body());
    }
    ::close(fds[0]);
    gate_ = fds[1];
  }
  ~Child() {
    if (gate_ >= 0) ::close(gate_);
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  pid_t pid() const { return pid_; }
  void release() {
    char c = 'g';
    EXPECT_EQ(::write(gate_, &c, 1), 1);
  }
  // The wait status.
  int wait() {
    int status = 0;
    EXPECT_EQ(::waitpid(pid_, &status, 0), pid_);
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_ = -1;
  int gate_ = -1;
};

// Opens a manager on the host's hierarchies and destroys its cgroups on scope exit.
class CgroupGuard {
 public:
  CgroupGuard(const Hierarchies& h, const std::string& path) {
    auto m = openManager(h, path, "unused");
    EXPECT_TRUE(m) << m.error().str();
    if (m) manager_ = std::move(*m);
  }
  ~CgroupGuard() {
    if (!manager_) return;
    auto destroyed = manager_->destroy();
    EXPECT_TRUE(destroyed) << destroyed.error().str();
  }
  Manager* operator->() { return manager_.get(); }
  explicit operator bool() const { return manager_ != nullptr; }

 private:
  std::unique_ptr<Manager> manager_;
};

class CgroupIntegration : public ::testing::Test {
 protected:
  void SetUp() override {
    SKIP_UNLESS_ROOT();
    auto h = detectHierarchies();
    ASSERT_TRUE(h) << h.error().str();
    hierarchies_ = *h;
  }
  bool v2() const { return hierarchies_.layout == Layout::kV2; }
  Hierarchies hierarchies_;
};

TEST_F(CgroupIntegration, ApplyAndUpdateReachTheKernel) {
  CgroupGuard cg(hierarchies_, uniqueName("limits"));
  ASSERT_TRUE(cg);
  auto created = cg->create();
  ASSERT_TRUE(created) << created.error().str();
  config::Resources r;
  r.memory.emplace();
  r.memory->limit = 64 << 20;
  r.pids.emplace();
  r.pids->limit = 32;
  r.cpu.emplace();
  r.cpu->shares = 512;
  r.cpu->quota = 50000;
  r.cpu->period = 100000;
  r.cpu->cpus = "0";
  r.cpu->mems = "0";
  auto applied = cg->apply(r);
  ASSERT_TRUE(applied) << applied.error().str();

  auto file = [&](const char* controller, const char* name) {
    return readTrimmed(sys::joinPath(cg->pathFor(controller), name));
  };
  EXPECT_EQ(file("pids", "pids.max"), "32");
  EXPECT_EQ(file("cpuset", "cpuset.cpus"), "0");
  EXPECT_EQ(file("cpuset", "cpuset.mems"), "0");
  if (v2()) {
    EXPECT_EQ(file("memory", "memory.max"), "67108864");
    EXPECT_EQ(file("cpu", "cpu.max"), "50000 100000");
    EXPECT_EQ(file("cpu", "cpu.weight"), "20");
  } else {
    EXPECT_EQ(file("memory", "memory.limit_in_bytes"), "67108864");
    EXPECT_EQ(file("cpu", "cpu.shares"), "512");
    EXPECT_EQ(file("cpu", "cpu.cfs_quota_us"), "50000");
    EXPECT_EQ(file("cpu", "cpu.cfs_period_us"), "100000");
  }

  // Raising memory together with swap needs the right write order on v1.
  config::Resources more;
  more.memory.emplace();
  more.memory->limit = 128 << 20;
  bool swapAccounting =
      v2() || sys::pathExists(sys::joinPath(cg->pathFor("memory"), "memory.memsw.limit_in_bytes"));
  if (swapAccounting) more.memory->swap = 256 << 20;
  more.pids.emplace();
  more.pids->limit = -1;
  auto updated = cg->update(more);
  ASSERT_TRUE(updated) << updated.error().str();
  EXPECT_EQ(file("pids", "pids.max"), "max");
  EXPECT_EQ(file("memory", v2() ? "memory.max" : "memory.limit_in_bytes"), "134217728");
  if (swapAccounting && !v2()) {
    EXPECT_EQ(file("memory", "memory.memsw.limit_in_bytes"), "268435456");
  }
  EXPECT_EQ(file("cpuset", "cpuset.cpus"), "0");  // absent from the update: unchanged

  auto stats = cg->stats();
  ASSERT_TRUE(stats) << stats.error().str();
  EXPECT_EQ(stats->memoryLimit, std::optional<uint64_t>(128 << 20));
  EXPECT_FALSE(stats->pidsLimit);
}

TEST_F(CgroupIntegration, AddProcessJoinsEveryHierarchyEvenInNewNestedCgroups) {
  // Two new levels: on v1 each new cpuset level must get CPUs and memory
  // nodes from its parent, or joining fails with ENOSPC.
  std::string top = uniqueName("nested");
  std::string path = top + "/inner";
  {
    CgroupGuard cg(hierarchies_, path);
    ASSERT_TRUE(cg);
    ASSERT_TRUE(cg->create());
    Child child([] { return ::pause(); });
    auto added = cg->addProcess(child.pid());
    ASSERT_TRUE(added) << added.error().str();

    auto procCgroup = readTrimmed("/proc/" + std::to_string(child.pid()) + "/cgroup");
    size_t lines = 0, inside = 0;
    for (size_t at = 0; at < procCgroup.size();) {
      auto end = procCgroup.find('\n', at);
      auto line = procCgroup.substr(at, end == std::string::npos ? std::string::npos : end - at);
      ++lines;
      if (line.ends_with("/" + path)) ++inside;
      at = end == std::string::npos ? procCgroup.size() : end + 1;
    }
    // Every hierarchy the manager knows (v1 ones plus cgroup2 when present).
    EXPECT_EQ(inside, cg->containerMounts().size()) << procCgroup;
    EXPECT_LE(inside, lines);

    auto pids = cg->pids();
    ASSERT_TRUE(pids) << pids.error().str();
    EXPECT_EQ(*pids, std::vector<pid_t>{child.pid()});
    ASSERT_TRUE(cg->killAll(SIGKILL));
    int status = child.wait();
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  }
  // The guard removed `inner`; `top` is a shared parent, removed here.
  auto parent = openManager(hierarchies_, top, "unused");
  ASSERT_TRUE(parent);
  ASSERT_TRUE((*parent)->destroy());
  for (const auto& m : (*parent)->containerMounts()) EXPECT_FALSE(sys::pathExists(m.hostDir));
}

TEST_F(CgroupIntegration, ChildAboveTheMemoryLimitIsOomKilled) {
  CgroupGuard cg(hierarchies_, uniqueName("oom"));
  ASSERT_TRUE(cg->create());
  config::Resources r;
  r.memory.emplace();
  r.memory->limit = 16 << 20;
  // No swapping out instead of dying: memory+swap equals memory.
  if (v2() ||
      sys::pathExists(sys::joinPath(cg->pathFor("memory"), "memory.memsw.limit_in_bytes"))) {
    r.memory->swap = 16 << 20;
  }
  auto applied = cg->apply(r);
  ASSERT_TRUE(applied) << applied.error().str();
  Child child([] {
    const size_t size = 128 << 20;
    auto* p = static_cast<char*>(
        ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    if (p == MAP_FAILED) return 2;
    for (size_t i = 0; i < size; i += 4096) p[i] = 1;
    return 0;  // survived: the limit did not hold
  });
  ASSERT_TRUE(cg->addProcess(child.pid()));
  child.release();
  int status = child.wait();
  ASSERT_TRUE(WIFSIGNALED(status)) << "exit status " << WEXITSTATUS(status);
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
}

TEST_F(CgroupIntegration, PidsLimitStopsForks) {
  CgroupGuard cg(hierarchies_, uniqueName("pids"));
  ASSERT_TRUE(cg->create());
  config::Resources r;
  r.pids.emplace();
  r.pids->limit = 4;
  ASSERT_TRUE(cg->apply(r));
  Child child([] {
    int forked = 0;
    for (int i = 0; i < 10; ++i) {
      pid_t p = ::fork();
      if (p == 0) {
        ::pause();
        ::_exit(0);
      }
      if (p < 0) return errno == EAGAIN ? forked : 99;
      ++forked;
    }
    return forked;
  });
  ASSERT_TRUE(cg->addProcess(child.pid()));
  child.release();
  int status = child.wait();
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 3);  // the child itself plus three
  // The orphaned grandchildren are still in the cgroup until destroy().
  auto pids = cg->pids();
  ASSERT_TRUE(pids);
  EXPECT_EQ(pids->size(), 3u);
}

TEST_F(CgroupIntegration, FreezeStopsProgressAndThawResumes) {
  CgroupGuard cg(hierarchies_, uniqueName("freeze"));
  ASSERT_TRUE(cg->create());
  auto* counter = static_cast<std::atomic<uint64_t>*>(
      ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(counter, MAP_FAILED);
  Child child([counter] {
    for (;;) counter->fetch_add(1);
    return 0;
  });
  ASSERT_TRUE(cg->addProcess(child.pid()));
  child.release();
  sleepMs(20);
  EXPECT_GT(counter->load(), 0u);

  auto frozen = cg->freeze();
  ASSERT_TRUE(frozen) << frozen.error().str();
  EXPECT_TRUE(*cg->frozen());
  uint64_t before = counter->load();
  sleepMs(100);
  EXPECT_EQ(counter->load(), before);

  ASSERT_TRUE(cg->thaw());
  sleepMs(50);
  EXPECT_FALSE(*cg->frozen());
  EXPECT_GT(counter->load(), before);
  ::munmap(counter, 4096);
}

TEST_F(CgroupIntegration, KillAllAndDestroyLeaveNothingBehind) {
  std::vector<CgroupMount> dirs;
  {
    CgroupGuard cg(hierarchies_, uniqueName("kill"));
    ASSERT_TRUE(cg->create());
    dirs = cg->containerMounts();
    Child child([] {
      for (int i = 0; i < 5; ++i) {
        if (::fork() == 0) break;  // a small tree of processes, all paused
      }
      ::pause();
      return 0;
    });
    ASSERT_TRUE(cg->addProcess(child.pid()));
    child.release();
    for (int i = 0; i < 200 && cg->pids()->size() < 6; ++i) sleepMs(5);
    EXPECT_EQ(cg->pids()->size(), 6u);
    auto destroyed = cg->destroy();
    ASSERT_TRUE(destroyed) << destroyed.error().str();
    int status = child.wait();
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  }
  ASSERT_FALSE(dirs.empty());
  for (const auto& m : dirs) EXPECT_FALSE(sys::pathExists(m.hostDir)) << m.hostDir;
}

// Opens /dev/null and /dev/zero; the exit code says what worked:
// bit 0: /dev/null opened, bit 1: /dev/zero opened, bit 2: /dev/zero gave EPERM.
int probeDevices() {
  int result = 0;
  int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null >= 0) result |= 1;
  int zero = ::open("/dev/zero", O_RDONLY | O_CLOEXEC);
  if (zero >= 0) result |= 2;
  if (zero < 0 && errno == EPERM) result |= 4;
  return result;
}

TEST_F(CgroupIntegration, DeviceRulesDecideWhatOpens) {
  CgroupGuard cg(hierarchies_, uniqueName("devices"));
  ASSERT_TRUE(cg->create());
  std::vector<config::DeviceCgroupRule> rules = {{true, "c", 1, 3, "rwm"}};
  auto set = cg->setDevices(rules);
  ASSERT_TRUE(set) << set.error().str();
  Child child(probeDevices);
  ASSERT_TRUE(cg->addProcess(child.pid()));
  child.release();
  int status = child.wait();
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1 | 4);
}

// The eBPF filter on the real cgroup2 mount (on hybrid hosts, the unified one).
TEST_F(CgroupIntegration, V2DeviceFilterAllowsNullButNotZeroAndCanBeReplaced) {
  if (hierarchies_.unifiedMount.empty()) GTEST_SKIP() << "no cgroup2 mount on this host";
  Hierarchies unified = Hierarchies::v2At(hierarchies_.unifiedMount);
  unified.unifiedRoot = hierarchies_.unifiedRoot;
  unified.unifiedSelf = hierarchies_.unifiedSelf;
  CgroupGuard cg(unified, uniqueName("bpf"));
  ASSERT_TRUE(cg);
  auto created = cg->create();
  ASSERT_TRUE(created) << created.error().str();
  ASSERT_GE(cg->cloneIntoFd(), 0);

  auto denyZero =
      cg->setDevices({{false, "a", std::nullopt, std::nullopt, "rwm"}, {true, "c", 1, 3, "rwm"}});
  ASSERT_TRUE(denyZero) << denyZero.error().str();
  {
    Child child(probeDevices);
    auto added = cg->addProcess(child.pid());
    ASSERT_TRUE(added) << added.error().str();
    child.release();
    int status = child.wait();
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 1 | 4);
  }
  // Replacing the rules replaces the program: one attached, and it allows /dev/zero.
  ASSERT_TRUE(cg->setDevices({{true, "c", 1, 3, "rwm"}, {true, "c", 1, 5, "r"}}));
  auto attached = devices::attachedPrograms(cg->cloneIntoFd());
  ASSERT_TRUE(attached) << attached.error().str();
  EXPECT_EQ(attached->size(), 1u);
  {
    Child child(probeDevices);
    ASSERT_TRUE(cg->addProcess(child.pid()));
    child.release();
    int status = child.wait();
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 1 | 2);
  }
}

TEST_F(CgroupIntegration, OpenManagerRejectsBadPathsBeforeTouchingTheHost) {
  auto systemd = openManager(hierarchies_, "system.slice:berth:x", "x");
  ASSERT_FALSE(systemd);
  EXPECT_NE(systemd.error().what().find("use cgroupfs"), std::string::npos);
  EXPECT_FALSE(openManager(hierarchies_, "/../escape", "x"));
}

}  // namespace
}  // namespace berth::runtime::cgroup
