// The Manager implementations, for openManager() only: everything else talks
// to the Manager interface.
#pragma once

#include <memory>

#include "runtime/cgroup/cgroup_path.h"
#include "runtime/cgroup/hierarchy.h"
#include "runtime/cgroup/manager.h"

namespace berth::runtime::cgroup {

// cgroup v1; on a hybrid host it also keeps a directory in the cgroup2 mount,
// so tools that look there (systemd, the v2 device filter) see the container.
std::unique_ptr<Manager> makeV1Manager(const Hierarchies& hierarchies, const CgroupPath& path);

std::unique_ptr<Manager> makeV2Manager(const Hierarchies& hierarchies, const CgroupPath& path);

}  // namespace berth::runtime::cgroup
