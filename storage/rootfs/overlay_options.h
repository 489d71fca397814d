// The decisions behind a container's overlay mount, kept apart from the
// system calls that make it so they can be unit-tested without root: where
// the upper/work/rootfs directories live, which paths are acceptable, and
// the exact fsconfig(2) calls or mount(2) option string that will be used.
//
// Order matters and is easy to get backwards: callers hand layers lowest
// first (the order of an image manifest), overlayfs wants the TOP layer
// first, both in "lowerdir=top:...:bottom" and in the sequence of
// "lowerdir+" parameters (each one appends a layer below the previous ones).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/sys/result.h"

namespace berth::storage::rootfs {

// Which kernel interface mounts the overlay.
enum class MountApi {
  kAuto,      // fsconfig when the kernel has "lowerdir+" (6.8+), else mount(2)
  kFsconfig,  // fsopen/fsconfig/fsmount/move_mount only
  kLegacy,    // mount(2) only (one option string of at most a page)
};

struct Options {
  // Keep overlay metadata in user.overlay.* xattrs instead of
  // trusted.overlay.*, as needed to mount inside a user namespace. The
  // layers must then have been unpacked with user.overlay.* opaque markers.
  bool userXattr = false;
  MountApi api = MountApi::kAuto;
  // Size limit of the container's writable layer; 0: no limit. When set,
  // upper/ and work/ live in an ext4 disk image of this size (storage/disk)
  // mounted at <containerDir>/writable. Used when the image is first made;
  // rootfs::resizeDisk changes it later.
  uint64_t diskLimitBytes = 0;
};

// Where a container's rootfs pieces live under its directory.
struct Layout {
  std::string containerDir;
  std::string upperDir;       // <containerDir>/upper: the container's writes
  std::string workDir;        // <containerDir>/work: overlay's scratch space (same fs as upper)
  std::string rootfs;         // <containerDir>/rootfs: the merged view
  std::string emptyLowerDir;  // <containerDir>/empty-lower: the one lower of a scratch image
  std::string diskImage;      // <containerDir>/disk.img: the size-limited disk, if any
  std::string writableDir;    // <containerDir>/writable: where that disk is mounted
};

// Overlayfs refuses more lower layers than this (OVL_MAX_STACK).
inline constexpr size_t kMaxLayers = 500;
// fsconfig(2) copies at most 256 bytes of a string value, NUL included.
inline constexpr size_t kMaxFsconfigValue = 255;
// mount(2) copies one page of option data; 4 KiB is the smallest page size.
inline constexpr size_t kMaxMountData = 4095;

// Checks that containerDir is absolute and clean (no "..", ".", "//", no
// trailing slash, not "/") and returns its layout.
sys::Result<Layout> layoutFor(const std::string& containerDir);

// Moves upper and work onto the container's disk: <writableDir>/upper and
// <writableDir>/work (overlay wants both on the same filesystem).
void placeWritableOnDisk(Layout& layout);

// Checks the lower layer paths (lowest first): absolute, clean, no
// duplicates, at most kMaxLayers, none inside the container directory.
sys::Result<void> validateLowerDirs(const std::vector<std::string>& lowerDirs,
                                    const Layout& layout);

// The paths handed to the kernel. A path may be replaced by an alias
// ("/proc/self/fd/N" of an O_PATH descriptor) when it is too long or holds
// characters the mount(2) option syntax cannot carry.
struct OverlayPaths {
  std::vector<std::string> lowerDirs;  // lowest first
  std::string upperDir;
  std::string workDir;
};

// One fsconfig(2) call: FSCONFIG_SET_FLAG when `flag`, else FSCONFIG_SET_STRING.
struct FsParam {
  std::string key;
  std::string value;
  bool flag = false;
  bool operator==(const FsParam&) const = default;
};

// The fsconfig calls, in order, that precede FSCONFIG_CMD_CREATE.
std::vector<FsParam> fsconfigParams(const OverlayPaths& paths, const Options& options);

// The mount(2) data string. EINVAL when a path contains ',', ':' or '\'
// (overlay's separators), E2BIG when the string exceeds kMaxMountData.
sys::Result<std::string> legacyMountData(const OverlayPaths& paths, const Options& options);

// True when `path` cannot be passed to mount(2) as is.
bool needsLegacyAlias(std::string_view path);

}  // namespace berth::storage::rootfs
