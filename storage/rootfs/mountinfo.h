// Reading overlay mounts back from /proc/self/mountinfo, so that prepare()
// after a daemon restart can tell "this rootfs is already mounted with these
// layers, keep it" from "something else is mounted here". Only used off the
// hot path: a fresh container never reads mountinfo.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/sys/result.h"

namespace berth::storage::rootfs {

struct MountEntry {
  std::string mountPoint;
  std::string fsType;
  // Overlay only; paths are unescaped. Layers as the kernel shows them
  // ("lowerdir=a:b" or one "lowerdir+=" per layer), reordered lowest first.
  std::vector<std::string> lowerDirs;
  std::string upperDir;
  std::string workDir;
};

// Parses one mountinfo line (proc(5)); nullopt when malformed.
std::optional<MountEntry> parseMountInfoLine(std::string_view line);

// The topmost mount at `mountPoint` in this mount namespace, if any.
sys::Result<std::optional<MountEntry>> findMount(const std::string& mountPoint);

}  // namespace berth::storage::rootfs
