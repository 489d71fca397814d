// A container's cgroups, behind one interface for cgroup v1, hybrid and v2.
//
// openManager() picks the implementation from the host layout; callers never
// ask which one they got. The same (cgroupsPath, container id) always opens
// the same directories, so `kill`, `delete`, `update` and `pause` in a later
// process reopen what `create` made.
//
// Typical start: create() -> apply(resources) -> setDevices(rules) ->
// clone3 with CLONE_INTO_CGROUP on cloneIntoFd(), or addProcess(pid) when it
// is -1. Every method returns an error naming the file and errno.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/cgroup/hierarchy.h"
#include "runtime/config/spec.h"
#include "runtime/sys/result.h"

namespace berth::runtime::cgroup {

struct Stats {
  uint64_t cpuUsageNs = 0;
  uint64_t memoryUsage = 0;
  std::optional<uint64_t> memoryLimit;  // nullopt: unlimited
  uint64_t memoryMaxUsage = 0;          // peak; 0 when the kernel does not report it
  uint64_t pidsCurrent = 0;
  std::optional<uint64_t> pidsLimit;  // nullopt: unlimited
};

// What a "cgroup" mount inside the container shows.
struct CgroupMount {
  // v1: the hierarchy's directory name under /sys/fs/cgroup ("cpu,cpuacct",
  // "systemd"); hybrid adds "unified" for the cgroup2 mount; v2: "".
  std::string name;
  std::string hostDir;  // this container's cgroup in that hierarchy, on the host
  bool cgroup2 = false;
};

class Manager {
 public:
  virtual ~Manager() = default;

  virtual Layout layout() const = 0;

  // Makes the container's directory in every hierarchy (existing is fine).
  virtual sys::Result<void> create() = 0;
  // cgroup v2: an O_DIRECTORY fd of the container's cgroup for clone3's
  // CLONE_INTO_CGROUP, opened by create(); -1 on v1 and hybrid hosts.
  virtual int cloneIntoFd() const = 0;
  // Moves a process into the container's cgroup in every hierarchy.
  virtual sys::Result<void> addProcess(pid_t pid) = 0;

  // Sets every limit `resources` asks for, before the container's process
  // starts. resources.devices is not used here: see setDevices().
  virtual sys::Result<void> apply(const config::Resources& resources) = 0;
  // The same on a running container: only the fields present change.
  virtual sys::Result<void> update(const config::Resources& resources) = 0;
  // Installs the final, ordered device rule list (defaults included by the
  // caller), replacing the previous one.
  virtual sys::Result<void> setDevices(const std::vector<config::DeviceCgroupRule>& rules) = 0;

  virtual sys::Result<void> freeze() = 0;
  virtual sys::Result<void> thaw() = 0;
  virtual sys::Result<bool> frozen() = 0;

  // Every process in the container's cgroup and its sub-cgroups.
  virtual sys::Result<std::vector<pid_t>> pids() = 0;
  // Sends `signal` to every process, with no window for a fork to escape.
  virtual sys::Result<void> killAll(int signal) = 0;
  // Kills what is left and removes the container's directory (and any
  // sub-cgroups the container made) in every hierarchy; shared parents such
  // as /berth stay. A missing directory is not an error.
  virtual sys::Result<void> destroy() = 0;

  virtual sys::Result<Stats> stats() = 0;
  virtual std::vector<CgroupMount> containerMounts() const = 0;

  // The container's directory in the hierarchy holding `controller`
  // ("memory", "pids"; "" for the cgroup2 one); empty when there is none.
  virtual std::string pathFor(std::string_view controller) const = 0;
};

// Opens (does not create) the container's cgroups. Deterministic in its
// arguments; fails on an invalid cgroupsPath before touching anything.
sys::Result<std::unique_ptr<Manager>> openManager(const Hierarchies& hierarchies,
                                                  const std::string& cgroupsPath,
                                                  const std::string& containerId);

// Same, for the host's hierarchies (detectHierarchies()).
sys::Result<std::unique_ptr<Manager>> openManager(const std::string& cgroupsPath,
                                                  const std::string& containerId);

}  // namespace berth::runtime::cgroup
