// The cgroup v2 manager: one directory in the unified hierarchy.
//
// Controllers must be enabled in every ancestor's cgroup.subtree_control
// before their files appear in the container's directory. apply() enables
// exactly the controllers its plan writes to, so a container without limits
// changes nothing above its own directory.
#include <fcntl.h>
#include <signal.h>

#include "runtime/cgroup/cgroup_fs.h"
#include "runtime/cgroup/controller.h"
#include "runtime/cgroup/devices.h"
#include "runtime/cgroup/freezer.h"
#include "runtime/cgroup/managers.h"
#include "runtime/sys/fs.h"

namespace berth::runtime::cgroup {
namespace {

class V2Manager final : public Manager {
 public:
  V2Manager(const Hierarchies& h, const CgroupPath& path)
      : mount_(h.unifiedMount),
        dir_(hierarchyDir(h.unifiedMount, h.unifiedRoot, h.unifiedSelf, path)),
        parents_(path.parentCount()) {}

  Layout layout() const override { return Layout::kV2; }

  sys::Result<void> create() override {
    BERTH_TRY(makeCgroupDirs(dir_));
    dirFd_.reset(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dirFd_) return sys::Error::fromErrno("open " + dir_);
    return sys::ok();
  }

  int cloneIntoFd() const override { return dirFd_.get(); }

  sys::Result<void> addProcess(pid_t pid) override {
    auto text = std::to_string(pid);
    return sys::writeFile(sys::joinPath(dir_, "cgroup.procs"), text)
        .context("add process " + text + " to cgroup");
  }

  sys::Result<void> apply(const config::Resources& resources) override {
    return write(BERTH_TRY(planV2(resources)));
  }

  sys::Result<void> update(const config::Resources& resources) override {
    Current current;
    // A new swap total without a new limit is relative to the current limit.
    if (resources.memory && resources.memory->swap && !resources.memory->limit) {
      auto limit = BERTH_TRY(readCounter(sys::joinPath(dir_, "memory.max")));
      if (limit && *limit <= INT64_MAX) current.memoryLimit = static_cast<int64_t>(*limit);
    }
    return write(BERTH_TRY(planV2(resources, current)));
  }

  sys::Result<void> setDevices(const std::vector<config::DeviceCgroupRule>& rules) override {
    auto program = BERTH_TRY_CTX(devices::buildProgram(rules), "set device rules");
    sys::UniqueFd opened;
    int fd = dirFd_.get();
    if (fd < 0) {
      opened.reset(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (!opened) return sys::Error::fromErrno("set device rules: open " + dir_);
      fd = opened.get();
    }
    return devices::attachProgram(fd, program).context("set device rules on " + dir_);
  }

  sys::Result<void> freeze() override { return freezer::freezeV2(dir_); }
  sys::Result<void> thaw() override { return freezer::thawV2(dir_); }
  sys::Result<bool> frozen() override { return freezer::frozenV2(dir_); }

  sys::Result<std::vector<pid_t>> pids() override { return readProcs(dir_); }

  sys::Result<void> killAll(int signal) override {
    // cgroup.kill (5.14+) kills the whole subtree atomically, forks included.
    if (signal == SIGKILL) {
      auto killed = sys::writeFile(sys::joinPath(dir_, "cgroup.kill"), "1");
      if (killed || killed.error().code() != ENOENT) return killed;
    }
    bool froze = freezer::freezeV2(dir_).ok();
    auto members = pids();
    auto sent = members ? signalPids(*members, signal) : sys::Result<void>(members.error());
    if (froze) BERTH_TRY(freezer::thawV2(dir_));
    return sent;
  }

  sys::Result<void> destroy() override {
    auto members = BERTH_TRY_CTX(pids(), "destroy cgroup");
    if (!members.empty()) BERTH_TRY_CTX(killAll(SIGKILL), "destroy cgroup");
    dirFd_.reset();
    return removeCgroupDir(dir_, parents_).context("destroy cgroup");
  }

  sys::Result<Stats> stats() override {
    Stats s;
    s.cpuUsageNs = BERTH_TRY(readKeyed(sys::joinPath(dir_, "cpu.stat"), "usage_usec")) * 1000;
    // Controller files exist only where the controller is enabled.
    if (auto v = optionalCounter("memory.current")) s.memoryUsage = v->value_or(0);
    if (auto v = optionalCounter("memory.max")) s.memoryLimit = *v;
    if (auto v = optionalCounter("memory.peak")) s.memoryMaxUsage = v->value_or(0);
    if (auto v = optionalCounter("pids.current")) s.pidsCurrent = v->value_or(0);
    if (auto v = optionalCounter("pids.max")) s.pidsLimit = *v;
    return s;
  }

  std::vector<CgroupMount> containerMounts() const override { return {{"", dir_, true}}; }

  std::string pathFor(std::string_view) const override { return dir_; }

 private:
  std::optional<std::optional<uint64_t>> optionalCounter(const char* file) const {
    auto value = readCounter(sys::joinPath(dir_, file));
    if (!value) return std::nullopt;
    return *value;
  }

  sys::Result<void> write(const KnobList& knobs) {
    BERTH_TRY(enableControllers(v2ControllersFor(knobs)));
    return writeKnobs(knobs, [this](std::string_view) -> sys::Result<std::string> { return dir_; });
  }

  // Writes "+memory +pids" into the subtree_control of the mount's root and
  // of every cgroup between it and the container's directory.
  sys::Result<void> enableControllers(const std::vector<std::string>& controllers) {
    if (controllers.empty()) return sys::ok();
    std::string request;
    for (const auto& c : controllers) request += (request.empty() ? "+" : " +") + c;
    std::string level = mount_;
    std::string_view below = std::string_view(dir_).substr(mount_.size());
    for (;;) {
      auto written = sys::writeFile(sys::joinPath(level, "cgroup.subtree_control"), request);
      if (!written) {
        auto available = sys::readFile(sys::joinPath(level, "cgroup.controllers"));
        std::string list = available ? *available : std::string("?");
        while (!list.empty() && list.back() == '\n') list.pop_back();
        return std::move(written).error().context("enable cgroup v2 controllers \"" + request +
                                                  "\" (available in " + level + ": \"" + list +
                                                  "\")");
      }
      while (!below.empty() && below.front() == '/') below.remove_prefix(1);
      auto next = below.find('/');
      if (next == std::string_view::npos) return sys::ok();  // `level` is the parent
      level = sys::joinPath(level, below.substr(0, next));
      below.remove_prefix(next);
    }
  }

  std::string mount_;
  std::string dir_;
  int parents_;  // shared parents the cgroupsPath names
  sys::UniqueFd dirFd_;
};

}  // namespace

std::unique_ptr<Manager> makeV2Manager(const Hierarchies& hierarchies, const CgroupPath& path) {
  return std::make_unique<V2Manager>(hierarchies, path);
}

}  // namespace berth::runtime::cgroup
