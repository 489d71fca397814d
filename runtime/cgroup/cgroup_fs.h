// File system operations on a cgroup directory that both managers share:
// creating the path, listing member processes, signalling them, removing the
// directory while the kernel finishes tearing tasks down, reading counters.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "runtime/sys/result.h"

namespace berth::runtime::cgroup {

// mkdir -p that reports the directories it created, top-down (so a v1 cpuset
// can fill each new level from its parent). Existing directories are fine. A
// parent removed under us by another container's removeCgroupDir (it was
// empty for a moment) is made again.
sys::Result<std::vector<std::string>> makeCgroupDirs(const std::string& dir);

// The pids in `dir`/cgroup.procs and in every sub-cgroup; a missing `dir` has none.
sys::Result<std::vector<pid_t>> readProcs(const std::string& dir);

// Sends `signal` to each pid; ones that have exited already are fine.
sys::Result<void> signalPids(const std::vector<pid_t>& pids, int signal);

// Removes `dir` and its sub-cgroups, deepest first. rmdir fails with EBUSY
// until killed tasks have left, so it is retried for a bounded time. Then up
// to `emptyParents` ancestors are removed while they are empty: the shared
// parents a cgroupsPath names ("/berth") must not outlive their last container.
sys::Result<void> removeCgroupDir(const std::string& dir, int emptyParents = 0);

// A counter file holding one number, or "max" (returned as nullopt).
sys::Result<std::optional<uint64_t>> readCounter(const std::string& path);

// The value of `key` in a flat keyed file ("usage_usec 123\n...").
sys::Result<uint64_t> readKeyed(const std::string& path, std::string_view key);

}  // namespace berth::runtime::cgroup
