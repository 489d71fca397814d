// The container's cgroup as the lifecycle commands see it: opened from the
// cgroupsPath (the spec's at create, the state's afterwards) and the id.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "runtime/cgroup/manager.h"
#include "runtime/config/spec.h"
#include "runtime/sys/fd.h"
#include "runtime/sys/result.h"

namespace berth::runtime::container {

sys::Result<std::unique_ptr<cgroup::Manager>> openContainerCgroup(const std::string& cgroupsPath,
                                                                  const std::string& id);

// The ordered device rules: the spec's own, then an allow for each
// linux.devices entry, then the devices every container may use (runc's
// default allow list), so a leading "deny all" in the spec still leaves
// /dev/null and friends usable.
std::vector<config::DeviceCgroupRule> deviceRules(const config::Spec& spec);

// Joining a container's cgroups without waiting for an RCU grace period.
// Writing another process's pid to cgroup.procs takes the write side of the
// kernel's cgroup_threadgroup_rwsem, whose first taker waits a whole grace
// period (~9 ms on this v1 host; crun pays it). A thread that writes "0" to
// a v1 hierarchy's `tasks` file moves itself, the one case that skips that
// lock; a freshly cloned, single-threaded child thereby moves its process.
// A cgroup2 directory (v2, or the hybrid "unified" one) is joined at clone
// time with CLONE_INTO_CGROUP, which takes the lock only to read.
struct TasksFile {
  sys::UniqueFd fd;  // <v1 hierarchy dir>/tasks, opened by the parent
  std::string path;
};

struct CgroupJoin {
  std::vector<TasksFile> tasks;
  sys::UniqueFd cgroup2;  // O_PATH dir for CLONE_INTO_CGROUP; invalid when there is none
};

// Opens what a child needs to join the cgroups `manager` made.
sys::Result<CgroupJoin> openCgroupJoin(const cgroup::Manager& manager);

// In the child, first thing: writes "0" to every tasks file.
sys::Result<void> joinCgroupsInChild(const std::vector<TasksFile>& tasks);

}  // namespace berth::runtime::container
