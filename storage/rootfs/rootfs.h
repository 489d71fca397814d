// Per-container root filesystems: an overlayfs whose lower layers are the
// image's unpacked layer directories (shared read-only by every container
// of the image, never written) and whose upper and work directories belong
// to the container:
//
//   <containerDir>/upper        the container's changes (mode of the image's root)
//   <containerDir>/work         overlay's scratch directory
//   <containerDir>/rootfs       the merged view: the OCI bundle's root.path
//   <containerDir>/empty-lower  the only lower layer of a scratch (0-layer) image
//
// With a disk limit (Options::diskLimitBytes), the writable layer lives in a
// size-limited ext4 image instead (storage/disk), so writes past the limit
// get ENOSPC and the host filesystem is unaffected:
//
//   <containerDir>/disk.img        the image (sparse, 0600)
//   <containerDir>/writable        its mount point
//   <containerDir>/writable/upper  the upper dir, and writable/work the work dir
//
// A container has a disk exactly when disk.img exists: unmount, remove,
// resizeDisk and diskUsage go by that, and prepare uses an existing disk
// even when called without a limit (the container's files are in it).
//
// storage/ knows directories, not images: the caller passes the ordered
// layer directories (lowest first), already in overlay form (whiteouts as
// 0:0 character devices, opaque directories marked with an xattr).
//
// The mount outlives the daemon. prepare() is idempotent so a restarted
// daemon re-attaches: an existing mount of the same layers is kept.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/sys/result.h"
#include "storage/disk/disk.h"
#include "storage/rootfs/overlay_options.h"

namespace berth::storage::rootfs {

struct Rootfs {
  std::string path;          // the merged view (<containerDir>/rootfs)
  std::string upperDir;      // <containerDir>/upper
  std::string workDir;       // <containerDir>/work
  bool reattached = false;   // an existing mount of these layers was kept
  bool legacyMount = false;  // mounted with mount(2) rather than fsconfig(2)
  std::string diskMount;     // <containerDir>/writable with a disk limit, else ""
};

// Creates <containerDir>/{upper,work,rootfs} (and containerDir itself) as
// needed and mounts the overlay on rootfs. An empty `lowerDirs` is a
// scratch image. When rootfs is already an overlay of the same upper and
// layers it is kept (reattached = true); any other mount there is EBUSY.
// With a disk limit, disk.img is made on the first call (the mkfs cost is
// paid then) and mounted whenever it is not (after a host reboot). On
// failure nothing this call created is left behind: no directory, mount,
// loop device or image.
[[nodiscard]] sys::Result<Rootfs> prepare(const std::string& containerDir,
                                          const std::vector<std::string>& lowerDirs,
                                          const Options& options = {});

// Unmounts <containerDir>/rootfs (every stacked mount there), then the
// container's disk if mounted. A busy mount is detached lazily
// (MNT_DETACH); nothing mounted is not an error.
[[nodiscard]] sys::Result<void> unmount(const std::string& containerDir);

// unmount(), then removes containerDir and everything in it without
// following symlinks or descending into other mounts.
[[nodiscard]] sys::Result<void> remove(const std::string& containerDir);

// Whether <containerDir>/rootfs is a mount point (false if it is missing).
[[nodiscard]] sys::Result<bool> isMounted(const std::string& containerDir);

// Raises the container's disk limit to `bytes`, mounted or not (grow only:
// smaller is EINVAL). A container without a disk limit: EINVAL.
[[nodiscard]] sys::Result<void> resizeDisk(const std::string& containerDir, uint64_t bytes);

// Used and total bytes of the container's disk; nullopt without a disk limit.
[[nodiscard]] sys::Result<std::optional<disk::Usage>> diskUsage(const std::string& containerDir);

}  // namespace berth::storage::rootfs
