// linux.cgroupsPath as the runtime-spec defines it, resolved per hierarchy.
//
// An absolute path ("/a/b") is relative to each hierarchy's root, a relative
// one ("a/b") to the calling process's own cgroup in that hierarchy, and an
// empty one means "/berth/<container id>". The same (cgroupsPath, id) always
// resolves to the same directories, which is how `kill`, `delete` and
// `update` find a container's cgroups again in a later process.
#pragma once

#include <string>

#include "runtime/sys/result.h"

namespace berth::runtime::cgroup {

struct CgroupPath {
  bool relative = false;
  // Cleaned, never empty: "/berth/web" (absolute) or "pod/web" (relative).
  std::string path;

  // How many directories above the container's own the path names ("/berth/web": 1).
  // They are shared by containers: created on demand, removed once empty.
  int parentCount() const;
};

// Validates and normalises cgroupsPath. Rejects ".." components (a config
// must not reach outside the hierarchy or above its parent cgroup) and the
// systemd driver's "slice:prefix:name" form, which berth does not implement.
sys::Result<CgroupPath> parseCgroupsPath(const std::string& cgroupsPath,
                                         const std::string& containerId);

// The container's directory in one hierarchy mounted at `mountpoint`.
// `mountRoot` is the cgroup the mount shows as its top and `self` the calling
// process's cgroup there (both only matter for relative paths; inside a
// cgroup namespace, /proc/self/cgroup and the mount agree on "/").
std::string hierarchyDir(const std::string& mountpoint, const std::string& mountRoot,
                         const std::string& self, const CgroupPath& path);

}  // namespace berth::runtime::cgroup
