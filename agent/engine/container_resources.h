// The kernel-side pieces of one container that outlive berthd, and how the
// engine finds or removes them: its shim process (found again after a
// daemon restart through <dir>/shim.pid, and only trusted when /proc says it
// really is that container's berth-shim), the runtime library's state, the
// cgroup, and the rootfs mount with the container directory.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>

#include "agent/engine/daemon_paths.h"
#include "runtime/sys/fd.h"
#include "runtime/sys/result.h"

namespace berth::agent::engine {

struct LiveShim {
  sys::UniqueFd pidfd;  // invalid when the shim is gone
  pid_t pid = 0;
};

// The container's shim when it is alive: shim.pid names a process whose
// command line is berth-shim with "--id <id>" (a recycled pid running
// something else is not mistaken for it).
LiveShim openLiveShim(const std::string& dir, const std::string& id);

// A pidfd of `pid`, checked the same way; invalid when it is not that shim.
sys::UniqueFd openShimPid(pid_t pid, const std::string& id);

// Whether /proc/<pid>/cmdline is a berth-shim for container `id`.
bool isShimCommandLine(const std::string& cmdline, const std::string& id);

// Waits until the process behind `pidfd` exited; false on timeout.
bool waitForExit(int pidfd, std::chrono::milliseconds timeout);

// Whether the kernel's OOM killer killed a process of the container's
// cgroup (v1 memory.oom_control, v2 memory.events: "oom_kill N"). Read after
// the exit and before the runtime state is deleted (the cgroup goes with it).
bool oomKilled(const std::string& cgroupsPath, const std::string& id);

// Deletes the runtime library's state of the container (killing whatever is
// left of it, and its cgroup): before every start (the shim never deletes
// it) and at removal. A container that has none is fine.
sys::Result<void> deleteRuntimeState(const std::string& stateRoot, const std::string& id);

// Everything of a container: runtime state, cgroup (also when the runtime
// state is gone), rootfs mount, and <dir> with its record, logs and upper
// layer. Each step runs even when an earlier one failed; the first error is
// returned.
sys::Result<void> removeContainerResources(const DaemonPaths& paths, const std::string& id,
                                           const std::string& cgroupsPath);
// The same with the container's directory at `dir` (see kRemovingPrefix).
sys::Result<void> removeContainerResources(const DaemonPaths& paths, const std::string& id,
                                           const std::string& cgroupsPath, const std::string& dir);

// An auto-removed container's directory is renamed to
// <containers>/.removing-<id> and the engine forgets it at once; the slow
// rest (runtime state, cgroup, unmount, files) follows in the background.
// A daemon that died meanwhile finishes it at its start.
inline constexpr const char* kRemovingPrefix = ".removing-";

}  // namespace berth::agent::engine
