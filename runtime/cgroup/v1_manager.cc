// The cgroup v1 (and hybrid) manager: one directory per mounted hierarchy.
//
// Each knob goes to the hierarchy its controller is mounted in. On a hybrid
// host the container also gets a directory in the cgroup2 mount: no limits
// live there, but systemd and other v2-aware tools find the container in it.
#include <signal.h>

#include "runtime/cgroup/cgroup_fs.h"
#include "runtime/cgroup/controller.h"
#include "runtime/cgroup/devices.h"
#include "runtime/cgroup/freezer.h"
#include "runtime/cgroup/managers.h"
#include "runtime/sys/fs.h"

namespace berth::runtime::cgroup {
namespace {

class V1Manager final : public Manager {
 public:
  V1Manager(const Hierarchies& h, const CgroupPath& path)
      : layout_(h.layout), hierarchies_(h.v1), parents_(path.parentCount()) {
    for (const auto& v1 : hierarchies_) {
      dirs_.push_back(hierarchyDir(v1.mountpoint, v1.mountRoot, v1.self, path));
    }
    if (h.layout == Layout::kHybrid && !h.unifiedMount.empty()) {
      unifiedDir_ = hierarchyDir(h.unifiedMount, h.unifiedRoot, h.unifiedSelf, path);
    }
  }

  Layout layout() const override { return layout_; }

  sys::Result<void> create() override {
    for (size_t i = 0; i < hierarchies_.size(); ++i) {
      BERTH_TRY(makeCgroupDirs(dirs_[i]));
      if (hierarchies_[i].has("cpuset")) BERTH_TRY(fillEmptyCpusets(dirs_[i]));
    }
    if (!unifiedDir_.empty()) BERTH_TRY(makeCgroupDirs(unifiedDir_));
    return sys::ok();
  }

  int cloneIntoFd() const override { return -1; }

  sys::Result<void> addProcess(pid_t pid) override {
    auto text = std::to_string(pid);
    for (const auto& dir : allDirs()) {
      BERTH_TRY_CTX(sys::writeFile(sys::joinPath(dir, "cgroup.procs"), text),
                    "add process " + text + " to cgroup");
    }
    return sys::ok();
  }

  sys::Result<void> apply(const config::Resources& resources) override {
    auto knobs = BERTH_TRY(planV1(resources));
    return writeKnobs(knobs, dirFor());
  }

  sys::Result<void> update(const config::Resources& resources) override {
    Current current;
    if (resources.memory && resources.memory->limit && resources.memory->swap) {
      auto dir = BERTH_TRY(dirFor()("memory"));
      auto limit = BERTH_TRY(readCounter(sys::joinPath(dir, "memory.limit_in_bytes")));
      if (limit && *limit <= INT64_MAX) current.memoryLimit = static_cast<int64_t>(*limit);
    }
    auto knobs = BERTH_TRY(planV1(resources, current));
    return writeKnobs(knobs, dirFor());
  }

  sys::Result<void> setDevices(const std::vector<config::DeviceCgroupRule>& rules) override {
    auto knobs = BERTH_TRY(devices::planV1(rules));
    return writeKnobs(knobs, dirFor()).context("set device rules");
  }

  sys::Result<void> freeze() override {
    return freezer::freezeV1(BERTH_TRY_CTX(dirFor()("freezer"), "freeze"));
  }
  sys::Result<void> thaw() override {
    return freezer::thawV1(BERTH_TRY_CTX(dirFor()("freezer"), "thaw"));
  }
  sys::Result<bool> frozen() override {
    auto dir = pathFor("freezer");
    if (dir.empty()) return false;
    return freezer::frozenV1(dir);
  }

  sys::Result<std::vector<pid_t>> pids() override {
    // Every hierarchy holds the same processes; prefer the ones a container
    // cannot leave (pids, freezer) over the named ones.
    for (const char* controller : {"pids", "freezer", "memory", "devices"}) {
      auto dir = pathFor(controller);
      if (!dir.empty()) return readProcs(dir);
    }
    if (dirs_.empty()) return std::vector<pid_t>{};
    return readProcs(dirs_[0]);
  }

  sys::Result<void> killAll(int signal) override {
    auto freezerDir = pathFor("freezer");
    // Frozen, the set of processes cannot grow while it is being signalled.
    bool froze =
        !freezerDir.empty() && sys::pathExists(freezerDir) && freezer::freezeV1(freezerDir).ok();
    auto members = pids();
    auto sent = members ? signalPids(*members, signal) : sys::Result<void>(members.error());
    if (froze) BERTH_TRY(freezer::thawV1(freezerDir));
    return sent;
  }

  sys::Result<void> destroy() override {
    auto members = BERTH_TRY_CTX(pids(), "destroy cgroup");
    if (!members.empty()) BERTH_TRY_CTX(killAll(SIGKILL), "destroy cgroup");
    for (const auto& dir : allDirs()) BERTH_TRY_CTX(removeCgroupDir(dir, parents_), "destroy cgroup");
    return sys::ok();
  }

  sys::Result<Stats> stats() override {
    Stats s;
    if (auto dir = pathFor("cpuacct"); !dir.empty()) {
      s.cpuUsageNs = BERTH_TRY(readCounter(sys::joinPath(dir, "cpuacct.usage"))).value_or(0);
    }
    if (auto dir = pathFor("memory"); !dir.empty()) {
      s.memoryUsage =
          BERTH_TRY(readCounter(sys::joinPath(dir, "memory.usage_in_bytes"))).value_or(0);
      s.memoryMaxUsage =
          BERTH_TRY(readCounter(sys::joinPath(dir, "memory.max_usage_in_bytes"))).value_or(0);
      // "Unlimited" reads back as LONG_MAX rounded down to a page.
      auto limit = BERTH_TRY(readCounter(sys::joinPath(dir, "memory.limit_in_bytes")));
      if (limit && *limit < (uint64_t{1} << 62)) s.memoryLimit = limit;
    }
    if (auto dir = pathFor("pids"); !dir.empty()) {
      s.pidsCurrent = BERTH_TRY(readCounter(sys::joinPath(dir, "pids.current"))).value_or(0);
      s.pidsLimit = BERTH_TRY(readCounter(sys::joinPath(dir, "pids.max")));
    }
    return s;
  }

  std::vector<CgroupMount> containerMounts() const override {
    std::vector<CgroupMount> out;
    for (size_t i = 0; i < hierarchies_.size(); ++i) {
      out.push_back({hierarchies_[i].mountName(), dirs_[i], false});
    }
    if (!unifiedDir_.empty()) out.push_back({"unified", unifiedDir_, true});
    return out;
  }

  std::string pathFor(std::string_view controller) const override {
    if (controller.empty()) return unifiedDir_;
    for (size_t i = 0; i < hierarchies_.size(); ++i) {
      if (hierarchies_[i].has(controller)) return dirs_[i];
    }
    return {};
  }

 private:
  std::vector<std::string> allDirs() const {
    auto all = dirs_;
    if (!unifiedDir_.empty()) all.push_back(unifiedDir_);
    return all;
  }

  DirFor dirFor() const {
    return [this](std::string_view controller) -> sys::Result<std::string> {
      auto dir = pathFor(controller);
      if (dir.empty()) {
        return sys::Error(ENOENT, "cgroup v1 controller \"" + std::string(controller) +
                                      "\" is not mounted on this host");
      }
      return dir;
    };
  }

  // A new v1 cpuset starts with no CPUs and no memory nodes, and joining it
  // then fails with ENOSPC; each level the cgroupsPath names gets its
  // parent's until apply() narrows them. Every level is checked, not just the
  // ones we made: a shared parent another container has just created may not
  // be filled in yet.
  sys::Result<void> fillEmptyCpusets(const std::string& dir) const {
    std::vector<std::string> levels{dir};
    for (int i = 0; i < parents_; ++i) levels.push_back(levels.back().substr(0, levels.back().rfind('/')));
    for (auto level = levels.rbegin(); level != levels.rend(); ++level) {
      auto parent = level->substr(0, level->rfind('/'));
      for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
        auto current = BERTH_TRY(sys::readFile(sys::joinPath(*level, file)));
        if (current.find_first_not_of(" \n") != std::string::npos) continue;
        auto value = BERTH_TRY(sys::readFile(sys::joinPath(parent, file)));
        BERTH_TRY(sys::writeFile(sys::joinPath(*level, file), value));
      }
    }
    return sys::ok();
  }

  Layout layout_;
  std::vector<V1Hierarchy> hierarchies_;
  int parents_;                    // shared parents the cgroupsPath names
  std::vector<std::string> dirs_;  // parallel to hierarchies_
  std::string unifiedDir_;         // hybrid only
};

}  // namespace

std::unique_ptr<Manager> makeV1Manager(const Hierarchies& hierarchies, const CgroupPath& path) {
  return std::make_unique<V1Manager>(hierarchies, path);
}

}  // namespace berth::runtime::cgroup
