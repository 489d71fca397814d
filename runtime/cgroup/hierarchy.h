// Which cgroup hierarchies this host has, and where the calling process sits
// in each of them.
//
// Detection is pure text parsing of /proc/self/mountinfo and /proc/self/cgroup
// so that every host layout (v1 with co-mounted and named hierarchies, hybrid
// with a cgroup2 mount beside them, pure v2) is unit-tested from sample text.
// The result is a plain struct: tests point its mountpoints at a fake tree in a
// temporary directory.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "runtime/sys/result.h"

namespace berth::runtime::cgroup {

enum class Layout { kV1, kHybrid, kV2 };

std::string_view layoutName(Layout layout);

// One mounted cgroup v1 hierarchy.
struct V1Hierarchy {
  // The hierarchy as mounted, e.g. "cpu,cpuacct", "memory" or "name=systemd".
  std::string name;
  // The controllers bound to it ({"cpu", "cpuacct"}; {"name=systemd"} for a named one).
  std::vector<std::string> controllers;
  std::string mountpoint;  // /sys/fs/cgroup/cpu,cpuacct
  std::string mountRoot;   // the cgroup the mount shows as its top (mountinfo field 4)
  std::string self = "/";  // the calling process's cgroup here (/proc/self/cgroup)

  bool has(std::string_view controller) const;
  // What a container's cgroup mount calls this hierarchy: "cpu,cpuacct", "systemd".
  std::string mountName() const;
};

struct Hierarchies {
  Layout layout = Layout::kV2;
  std::vector<V1Hierarchy> v1;
  std::string unifiedMount;       // cgroup2 mountpoint; empty when there is none
  std::string unifiedRoot = "/";  // mountinfo root of the cgroup2 mount
  std::string unifiedSelf = "/";  // the calling process's cgroup2 cgroup ("0::" line)

  // The v1 hierarchy a controller is bound to, or nullptr when it is not mounted.
  const V1Hierarchy* findV1(std::string_view controller) const;

  // A pure cgroup v2 layout rooted at `mountpoint` (tests: a fake tree).
  static Hierarchies v2At(std::string mountpoint);
};

// Parses the text of /proc/<pid>/mountinfo and /proc/<pid>/cgroup. The first
// mount of each hierarchy wins (later ones are bind mounts of it).
sys::Result<Hierarchies> parseHierarchies(std::string_view mountinfo, std::string_view procCgroup);

// Reads /proc/self/mountinfo and /proc/self/cgroup.
sys::Result<Hierarchies> detectHierarchies();

}  // namespace berth::runtime::cgroup
