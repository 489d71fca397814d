// The decisions behind building a rootfs, kept free of system calls so they are
// unit-tested without root: how a mount is named in errors, where a bind source
// is, which destinations under /proc are allowed, which device nodes and /dev
// symlinks to create, where a sysctl lives, and reading /proc/self/mountinfo.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/config/spec.h"
#include "runtime/linux/rootfs.h"
#include "runtime/sys/result.h"

namespace berth::runtime::linux {

// "mounts[4] (bind /data on /srv)", "mounts[0] (proc on /proc)": the prefix of
// every error about one entry of config.json's mounts.
std::string describeMount(const config::Mount& mount, size_t index);

// A bind mount's source on the host: relative sources are relative to the bundle.
std::string bindSourcePath(const config::Mount& mount, const std::string& bundle);

// True when lexically `path` is `root` or below it.
bool isWithin(std::string_view root, std::string_view path);

// Mounts under /proc can hide what maskedPaths masks or open kernel knobs, so,
// like runc, only procfs on /proc itself, a bind of a procfs onto /proc, and
// binds onto the few files lxcfs emulates are allowed. `dest` is the resolved
// path inside the rootfs.
sys::Result<void> checkProcDestination(std::string_view dest, std::string_view type, bool isBind,
                                       bool sourceIsProcfs);

struct DeviceNode {
  std::string path;  // inside the container, cleaned
  char type = 'c';   // c b u p
  uint32_t major = 0;
  uint32_t minor = 0;
  mode_t mode = 0666;  // permission bits only
  uint32_t uid = 0;
  uint32_t gid = 0;
};

// /dev/null, zero, full, random, urandom, tty (what every runtime provides),
// then linux.devices; a configured device replaces a default on the same path.
sys::Result<std::vector<DeviceNode>> plannedDevices(const config::Spec& spec);

// The default devices are created unless /dev itself is bind-mounted from the host.
bool needsDevSetup(const config::Spec& spec);

// (link path, target) pairs under /dev; /dev/core only when /proc is mounted.
std::vector<std::pair<std::string, std::string>> devSymlinks(bool procMounted);

// True when the spec mounts procfs on /proc.
bool mountsProc(const config::Spec& spec);

// "net.ipv4.ip_forward" -> "/proc/sys/net/ipv4/ip_forward". A key that already
// uses '/' separators (sysctl(8) allows it, for names containing dots) is kept.
sys::Result<std::string> sysctlPath(std::string_view key);

// cgroup v1: the directory of a hierarchy under the cgroup mount ("name=systemd"
// -> "systemd") and, for co-mounted controllers, the symlinks that make each
// controller name reach the shared directory ("cpu" -> "cpu,cpuacct").
std::string cgroupDirName(std::string_view hierarchy);
std::vector<std::pair<std::string, std::string>> cgroupV1Symlinks(const std::vector<CgroupMount>& mounts);

struct MountInfo {
  int id = 0;
  int parent = 0;
  std::string root;        // path inside the source file system
  std::string mountPoint;  // unescaped
  std::string options;     // per-mount options
  std::string optional;    // "shared:1 master:2"
  std::string fsType;
  std::string source;
};

std::vector<MountInfo> parseMountinfo(std::string_view text);

// The mount `path` lives on: the last (topmost) one with the longest mount point
// that is a prefix of `path`, or nullptr.
const MountInfo* mountContaining(const std::vector<MountInfo>& mounts, std::string_view path);

// --no-pivot: procfs and sysfs mounts outside the rootfs stay reachable after
// chroot and would let the container mount an unmasked procfs; they are
// detached first, deepest first.
std::vector<std::string> hostProcMountsToDetach(const std::vector<MountInfo>& mounts,
                                                std::string_view rootfs);

}  // namespace berth::runtime::linux
