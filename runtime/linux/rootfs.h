// The container's filesystem view, built in the child after clone, in its new
// mount namespace: mount propagation, the spec's mounts inside the rootfs,
// device nodes, pivot_root, then sysctls, masked and read-only paths.
//
// The container init calls, in this order:
//   prepareRootfsInChild -> (createContainer hooks) -> pivotRootInChild
//   -> finishRootfsInChild -> (console, cwd, credentials, seccomp, execve)
// Every path taken from config.json is resolved inside the rootfs, and every
// mount is made onto an fd of the resolved target ("/proc/self/fd/N"), so a
// symlink in the image, or one swapped in while we work, cannot send a mount
// onto the host (CVE-2019-19921, CVE-2021-30465).
#pragma once

#include <string>
#include <vector>

#include "runtime/config/spec.h"
#include "runtime/sys/result.h"

namespace berth::runtime::linux {

// One cgroup hierarchy the container's "cgroup" mount shows.
// v1: one per hierarchy ("cpu,cpuacct", "memory", "name=systemd"), hostPath is
// this container's cgroup directory in it. v2: a single entry with an empty name.
struct CgroupMount {
  std::string name;
  std::string hostPath;
};

struct RootfsContext {
  std::string rootfs;         // absolute host path of the container's root (already resolved)
  std::string bundle;         // relative bind-mount sources are relative to it
  bool noPivot = false;       // --no-pivot: MS_MOVE + chroot instead of pivot_root
  bool inNewUserns = false;   // mknod is not allowed: bind-mount host device nodes instead
  bool newNetns = false;      // sysfs can be mounted fresh only with an own netns
  bool newCgroupns = false;
  bool cgroupV2 = false;
  std::vector<CgroupMount> cgroupMounts;
};

// Propagation of "/", the rootfs bind mount, the spec's mounts, /dev.
[[nodiscard]] sys::Result<void> prepareRootfsInChild(const config::Spec& spec, const RootfsContext& ctx);
// Makes the rootfs "/" (pivot_root, or MS_MOVE + chroot with noPivot); cwd is "/" after.
[[nodiscard]] sys::Result<void> pivotRootInChild(const RootfsContext& ctx);
// sysctl, readonlyPaths, maskedPaths, root.readonly, final rootfsPropagation.
[[nodiscard]] sys::Result<void> finishRootfsInChild(const config::Spec& spec, const RootfsContext& ctx);

}  // namespace berth::runtime::linux
