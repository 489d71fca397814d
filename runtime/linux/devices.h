// /dev inside the container: the default device nodes and linux.devices (mknod,
// or a bind mount of the host's node in a user namespace, where mknod is not
// allowed), the console placeholder, /dev/ptmx and the /proc/self/fd symlinks.
// Runs before pivot_root, with every path resolved inside the rootfs.
#pragma once

#include "runtime/config/spec.h"
#include "runtime/linux/rootfs.h"
#include "runtime/sys/result.h"

namespace berth::runtime::linux {

// Does nothing when /dev is bind-mounted from the host (the host's nodes are there).
[[nodiscard]] sys::Result<void> setupDevInChild(int rootfd, const config::Spec& spec, const RootfsContext& ctx);

}  // namespace berth::runtime::linux
