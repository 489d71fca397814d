// Mounting one entry of config.json's "mounts" inside the rootfs: bind mounts
// (with their remount pass), fresh file systems (proc, sysfs, tmpfs, devpts,
// mqueue ...) and the "cgroup" type, which is built from the host's cgroup
// directories of this container.
#pragma once

#include <cstddef>

#include "runtime/config/spec.h"
#include "runtime/linux/rootfs.h"
#include "runtime/sys/result.h"

namespace berth::runtime::linux {

// `rootfd` is an O_PATH fd of the rootfs bind mount; `index` names the entry in
// errors: "mounts[4] (bind /data on /srv): source /data: No such file or directory".
[[nodiscard]] sys::Result<void> mountEntryInChild(int rootfd, const config::Mount& mount, size_t index,
                                                  const RootfsContext& ctx);

}  // namespace berth::runtime::linux
