// Size-limited filesystems for a container's writable layer (and volumes):
// an ext4 filesystem in a sparse image file, mounted through a loop device.
// A process that writes past the limit gets ENOSPC from that filesystem;
// the host's filesystem and other containers see nothing but the image's
// allocated blocks.
//
// Why this mechanism: it works on any host filesystem that has sparse files
// (the stock ext4 root included) without remounting it, needs no quota
// tooling, and the limit is exact. Project quotas would cost nothing at
// start, but need a filesystem mounted with prjquota (ext4 needs the
// "project" feature set at mkfs time, xfs a mount option), which a stock
// root does not have. What the loop image costs:
//   - start: one loop device and one ext4 mount (~ms); mkfs runs once, at
//     create, not at every start;
//   - space: the image is sparse, but blocks the container frees inside are
//     not returned to the host (no discard through the loop device); the
//     journal (capped, see mkfsArgv) fills in as it is used;
//   - resize: growing a mounted disk needs CAP_SYS_RESOURCE; a stopped
//     container's disk is grown offline (resize2fs) without it;
//   - I/O: writes go through ext4 twice (image fs, host fs) and the page cache
//     holds both copies (direct I/O would avoid the second, but needs aligned
//     block sizes and is slower for small writes on sparse files).
//
// mkfs options (measured on a 10G image: ~11 ms, ~4 MiB allocated):
//   -b 4096        the same block size for every size, so growing a 64M disk
//                  to terabytes stays within ext4's limits;
//   -m 0           no blocks reserved for root: the limit is what the
//                  container gets (its processes usually are root anyway);
//   -E nodiscard,lazy_itable_init=1,lazy_journal_init=1
//                  do not write the inode tables or the journal: a fresh
//                  sparse file already reads as zeros there. The mount then
//                  passes "noinit_itable" so the kernel's lazyinit thread does
//                  not zero them either (160 MiB of writes for a 10G image);
//   -J size=16     the default journal grows to 64 MiB at 10G, allocated on the
//                  host as it is used; 16 MiB keeps metadata-heavy workloads
//                  (package installs) fast while bounding that overhead. The
//                  journal stays: without it a host crash would need e2fsck
//                  before the container could start again.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/sys/result.h"

namespace berth::storage::disk {

// Smallest disk accepted: ext4 with a journal and 4k blocks needs room.
inline constexpr uint64_t kMinBytes = 16ull << 20;
// Block size of every disk (see -b above); sizes are rounded up to it.
inline constexpr uint64_t kBlockSize = 4096;

// "64M", "10G", "512k", "1T", "2P" (binary units, case-insensitive, an
// optional "B"/"iB" after the unit) or plain bytes. Error names the text.
[[nodiscard]] sys::Result<uint64_t> parseSize(std::string_view text);

// Creates a sparse image of `bytes` (rounded up to kBlockSize, at least
// kMinBytes) with mode 0600 and an ext4 filesystem in it. The image must not
// exist; on failure it is removed again.
[[nodiscard]] sys::Result<void> create(const std::string& imagePath, uint64_t bytes);

// Attaches the image to a free loop device (autoclear: freed as soon as the
// mount goes) and mounts its ext4 on mountPoint. Already mounted there from
// the same image: ok. Anything else mounted there: EBUSY.
[[nodiscard]] sys::Result<void> mount(const std::string& imagePath, const std::string& mountPoint);

// Unmounts mountPoint (lazily when busy); nothing mounted is not an error.
// The loop device is released by autoclear when the last user is gone.
[[nodiscard]] sys::Result<void> unmount(const std::string& mountPoint);

// Grows the image and its filesystem to `bytes` (rounded up to kBlockSize).
// Mounted at mountPoint: online (LOOP_SET_CAPACITY, EXT4_IOC_RESIZE_FS),
// which needs CAP_SYS_RESOURCE (EPERM otherwise, nothing changed). Not
// mounted anywhere: offline with resize2fs, no capability needed; attached
// elsewhere: EBUSY. Smaller than the current size: EINVAL naming both
// sizes; the same size: nothing to do.
[[nodiscard]] sys::Result<void> grow(const std::string& imagePath, const std::string& mountPoint,
                                     uint64_t bytes);

// The image's size in bytes (its limit), not what it allocates on the host.
[[nodiscard]] sys::Result<uint64_t> sizeOf(const std::string& imagePath);

struct Usage {
  uint64_t used = 0;
  uint64_t total = 0;
};

// statfs of the mounted disk: used and total bytes of the filesystem
// (total excludes ext4's own metadata). Not a mount point: ENOTCONN.
[[nodiscard]] sys::Result<Usage> usage(const std::string& mountPoint);

// The same figures read from an unmounted image's superblock (used then
// counts ext4's metadata too). For a stopped container's disk.
[[nodiscard]] sys::Result<Usage> usageOfImage(const std::string& imagePath);

// Whether mountPoint is a mount of imagePath's loop device.
[[nodiscard]] sys::Result<bool> isMountedFrom(const std::string& imagePath,
                                              const std::string& mountPoint);

// The mkfs.ext4 command line for an image of `bytes` (exposed for tests).
std::vector<std::string> mkfsArgv(const std::string& mkfsPath, const std::string& imagePath,
                                  uint64_t bytes);

}  // namespace berth::storage::disk
