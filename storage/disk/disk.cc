// Size-limited ext4 disks in loop-mounted image files: see disk.h.
#include "storage/disk/disk.h"

#include <fcntl.h>
#include <linux/loop.h>
#include <linux/magic.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>

#include "runtime/sys/fd.h"
#include "runtime/sys/fs.h"
#include "storage/disk/e2fs_tools.h"
#include "storage/disk/loop_device.h"

// From fs/ext4/ext4.h; not in the uapi headers. Takes the new block count.
#ifndef EXT4_IOC_RESIZE_FS
#define EXT4_IOC_RESIZE_FS _IOW('f', 16, __u64)
#endif

namespace berth::storage::disk {
namespace {

constexpr int kMaxStackedMounts = 16;

// Mount flags of every disk. nodev and nosuid only apply to paths through
// THIS mount, i.e. the host's view of <containerDir>/writable/upper, not to
// the container: its overlay is a mount of its own whose inodes are opened
// and exec'd through the overlay's vfsmount (checked: whiteouts, copy-up of
// device nodes and opening them through the overlay all work with an upper
// on a nodev mount). So they are pure hardening: a host user who reaches
// the upper dir cannot run a setuid binary or open a device node that root
// in the container planted there (the reason Docker keeps its data root 0710).
constexpr unsigned long kMountFlags = MS_NODEV | MS_NOSUID;
// The inode tables of a fresh sparse image already read as zeros (mkfs's
// lazy_itable_init); the kernel's lazyinit thread would write them anyway.
constexpr const char* kMountData = "noinit_itable";

uint64_t roundUp(uint64_t bytes) {
  return (bytes + kBlockSize - 1) / kBlockSize * kBlockSize;
}

sys::Result<uint64_t> checkedSize(uint64_t bytes, const std::string& imagePath) {
  if (bytes < kMinBytes) {
    return sys::Error(EINVAL, "disk " + imagePath + ": " + std::to_string(bytes) +
                                  " bytes is too small (at least " +
                                  std::to_string(kMinBytes >> 20) + "M)");
  }
  if (bytes > (uint64_t{1} << 60)) {
    return sys::Error(EFBIG,
                      "disk " + imagePath + ": " + std::to_string(bytes) + " bytes is too large");
  }
  return roundUp(bytes);
}

sys::Result<sys::UniqueFd> openImage(const std::string& imagePath) {
  sys::UniqueFd fd(::open(imagePath.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return sys::Error::fromErrno("open disk image " + imagePath);
  struct stat st {};
  if (::fstat(fd.get(), &st) < 0) return sys::Error::fromErrno("stat " + imagePath);
  if (!S_ISREG(st.st_mode)) return sys::Error(EINVAL, imagePath + " is not a regular file");
  return fd;
}

// Removes a half-made image unless released.
class ImageGuard {
 public:
  explicit ImageGuard(std::string path) : path_(std::move(path)) {}
  ImageGuard(const ImageGuard&) = delete;
  ImageGuard& operator=(const ImageGuard&) = delete;
  ~ImageGuard() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  void release() { path_.clear(); }

 private:
  std::string path_;
};

std::string describeMount(const std::string& mountPoint, dev_t dev, const std::string& backing) {
  if (backing.empty()) {
    return "another filesystem (device " + std::to_string(::major(dev)) + ":" +
           std::to_string(::minor(dev)) + ") is mounted on " + mountPoint;
  }
  return "a disk of " + backing + " is mounted on " + mountPoint;
}

// Little-endian fields of the ext4 superblock (fs/ext4/ext4.h).
uint64_t le(const unsigned char* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

sys::Result<void> create(const std::string& imagePath, uint64_t bytes) {
  std::string context = "create disk " + imagePath;
  bytes = BERTH_TRY(checkedSize(bytes, imagePath));
  sys::UniqueFd fd(
      ::open(imagePath.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd) return sys::Error::fromErrno(context);
  ImageGuard guard(imagePath);
  // The container's files are in there: never readable by other users,
  // whatever the umask.
  if (::fchmod(fd.get(), 0600) < 0) return sys::Error::fromErrno(context + ": chmod");
  // Sparse: nothing is allocated until the filesystem writes it.
  if (::ftruncate(fd.get(), static_cast<off_t>(bytes)) < 0) {
    return sys::Error::fromErrno(context + ": truncate to " + std::to_string(bytes));
  }
  BERTH_TRY_CTX(runMkfs(imagePath, bytes), context);
  guard.release();
  return sys::ok();
}

sys::Result<bool> isMountedFrom(const std::string& imagePath, const std::string& mountPoint) {
  if (!BERTH_TRY(sys::isMountRoot(mountPoint))) return false;
  struct stat st {};
  if (::stat(mountPoint.c_str(), &st) < 0) return sys::Error::fromErrno("stat " + mountPoint);
  std::string backing = BERTH_TRY(loopBackingFile(st.st_dev));
  if (backing.empty()) return false;
  char resolved[PATH_MAX];
  if (::realpath(imagePath.c_str(), resolved) == nullptr) {
    if (errno == ENOENT) return false;
    return sys::Error::fromErrno("resolve " + imagePath);
  }
  return backing == resolved;
}

sys::Result<void> mount(const std::string& imagePath, const std::string& mountPoint) {
  std::string context = "mount disk " + imagePath + " on " + mountPoint;
  if (BERTH_TRY_CTX(sys::isMountRoot(mountPoint), context)) {
    if (BERTH_TRY_CTX(isMountedFrom(imagePath, mountPoint), context)) return sys::ok();
    struct stat st {};
    if (::stat(mountPoint.c_str(), &st) < 0) return sys::Error::fromErrno(context);
    std::string backing = BERTH_TRY_CTX(loopBackingFile(st.st_dev), context);
    return sys::Error(EBUSY, context + ": " + describeMount(mountPoint, st.st_dev, backing));
  }
  auto image = BERTH_TRY_CTX(openImage(imagePath), context);
  // The loop fd closes when this returns; from then on the mount alone keeps
  // the device, and autoclear frees it at unmount (or right away on failure).
  auto loop = BERTH_TRY_CTX(attachLoop(image.get(), imagePath), context);
  if (::mount(loop.path.c_str(), mountPoint.c_str(), "ext4", kMountFlags, kMountData) < 0) {
    auto error = sys::Error::fromErrno(context + " (" + loop.path + ")");
    if (error.code() == EINVAL) return std::move(error).context("not an ext4 image?");
    return error;
  }
  return sys::ok();
}

sys::Result<void> unmount(const std::string& mountPoint) {
  std::string context = "unmount disk " + mountPoint;
  for (int i = 0; i < kMaxStackedMounts; ++i) {
    if (!BERTH_TRY_CTX(sys::isMountRoot(mountPoint), context)) return sys::ok();
    if (::umount2(mountPoint.c_str(), UMOUNT_NOFOLLOW) == 0) continue;
    if (errno == EINVAL || errno == ENOENT) {
      auto error = sys::Error::fromErrno(context);
      if (!BERTH_TRY_CTX(sys::isMountRoot(mountPoint), context)) return sys::ok();  // raced
      return error;
    }
    if (errno != EBUSY) return sys::Error::fromErrno(context);
    // Still in use (an overlay detached lazily above it, a process's cwd):
    // detach now; the kernel unmounts and autoclear frees the loop device
    // when the last user is gone.
    if (::umount2(mountPoint.c_str(), UMOUNT_NOFOLLOW | MNT_DETACH) < 0 && errno != EINVAL) {
      return sys::Error::fromErrno(context + ": detach");
    }
  }
  return sys::Error(
      EBUSY, context + ": still mounted after " + std::to_string(kMaxStackedMounts) + " unmounts");
}

sys::Result<uint64_t> sizeOf(const std::string& imagePath) {
  struct stat st {};
  if (::stat(imagePath.c_str(), &st) < 0) return sys::Error::fromErrno("stat " + imagePath);
  if (!S_ISREG(st.st_mode)) return sys::Error(EINVAL, imagePath + " is not a regular file");
  return static_cast<uint64_t>(st.st_size);
}

sys::Result<Usage> usage(const std::string& mountPoint) {
  std::string context = "disk usage of " + mountPoint;
  if (!BERTH_TRY_CTX(sys::isMountRoot(mountPoint), context)) {
    return sys::Error(ENOTCONN, context + ": no disk is mounted there");
  }
  struct statfs sfs {};
  if (::statfs(mountPoint.c_str(), &sfs) < 0) return sys::Error::fromErrno(context);
  if (sfs.f_type != EXT4_SUPER_MAGIC) {
    return sys::Error(ENOTCONN, context + ": not an ext4 disk");
  }
  auto unit = static_cast<uint64_t>(sfs.f_frsize);
  Usage out;
  out.total = static_cast<uint64_t>(sfs.f_blocks) * unit;
  out.used = static_cast<uint64_t>(sfs.f_blocks - sfs.f_bfree) * unit;
  return out;
}

namespace {

// Online: file, then loop device, then filesystem, each only ever bigger
// than the one above it. Until the filesystem grows, a failure is undone by
// truncating the file back (the blocks past the old end were never used).
sys::Result<void> growMounted(const std::string& imagePath, const std::string& mountPoint,
                              uint64_t current, uint64_t bytes) {
  struct stat st {};
  if (::stat(mountPoint.c_str(), &st) < 0) return sys::Error::fromErrno("stat " + mountPoint);
  auto loop = BERTH_TRY(openLoop(st.st_dev));
  sys::UniqueFd dir(::open(mountPoint.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return sys::Error::fromErrno("open " + mountPoint);
  auto image = BERTH_TRY(openImage(imagePath));
  if (::ftruncate(image.get(), static_cast<off_t>(bytes)) < 0) {
    return sys::Error::fromErrno("truncate to " + std::to_string(bytes));
  }
  auto undo = [&](sys::Error error) {
    if (::ftruncate(image.get(), static_cast<off_t>(current)) == 0) {
      (void)::ioctl(loop.get(), LOOP_SET_CAPACITY, 0);
    }
    return error;
  };
  if (::ioctl(loop.get(), LOOP_SET_CAPACITY, 0) < 0) {
    return undo(sys::Error::fromErrno("update loop device capacity"));
  }
  __u64 blocks = bytes / kBlockSize;
  if (::ioctl(dir.get(), EXT4_IOC_RESIZE_FS, &blocks) < 0) {
    auto error =
        sys::Error::fromErrno("resize mounted ext4 to " + std::to_string(blocks) + " blocks");
    if (error.code() == EPERM) {
      // ext4 checks CAP_SYS_RESOURCE in the initial user namespace, which a
      // daemon in a restricted container may lack; offline resize does not.
      error = std::move(error).context(
          "online resize needs CAP_SYS_RESOURCE (unmount the disk, "
          "i.e. stop the container, and resize it then)");
    }
    return undo(std::move(error));
  }
  return sys::ok();
}

// Offline, for a stopped container: resize2fs on the image. It must not be
// attached anywhere (a disk mounted elsewhere would be corrupted).
sys::Result<void> growUnmounted(const std::string& imagePath, uint64_t current, uint64_t bytes) {
  char resolved[PATH_MAX];
  if (::realpath(imagePath.c_str(), resolved) == nullptr) {
    return sys::Error::fromErrno("resolve " + imagePath);
  }
  std::string loop = BERTH_TRY(findLoopBackedBy(resolved));
  if (!loop.empty()) {
    return sys::Error(EBUSY, "the image is attached to /dev/" + loop +
                                 " but not mounted on the given mount point");
  }
  auto image = BERTH_TRY(openImage(imagePath));
  if (::ftruncate(image.get(), static_cast<off_t>(bytes)) < 0) {
    return sys::Error::fromErrno("truncate to " + std::to_string(bytes));
  }
  auto resized = runResize2fs(imagePath, bytes);
  if (resized) return sys::ok();
  // resize2fs writes the superblock last: while it still shows the old size,
  // no block past the old end is in use and the file can be cut back.
  auto now = usageOfImage(imagePath);
  if (now && now->total <= current) (void)::ftruncate(image.get(), static_cast<off_t>(current));
  return resized;
}

}  // namespace

sys::Result<void> grow(const std::string& imagePath, const std::string& mountPoint,
                       uint64_t bytes) {
  std::string context = "grow disk " + imagePath;
  bytes = BERTH_TRY(checkedSize(bytes, imagePath));
  uint64_t current = BERTH_TRY_CTX(sizeOf(imagePath), context);
  if (bytes < current) {
    return sys::Error(EINVAL, context + " to " + std::to_string(bytes) + " bytes: it is " +
                                  std::to_string(current) +
                                  " bytes and a disk can only grow, not shrink");
  }
  if (bytes == current) return sys::ok();
  if (BERTH_TRY_CTX(isMountedFrom(imagePath, mountPoint), context)) {
    return growMounted(imagePath, mountPoint, current, bytes).context(context);
  }
  return growUnmounted(imagePath, current, bytes).context(context);
}

sys::Result<Usage> usageOfImage(const std::string& imagePath) {
  std::string context = "disk usage of " + imagePath;
  sys::UniqueFd fd(::open(imagePath.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return sys::Error::fromErrno(context);
  unsigned char sb[1024];
  // The primary superblock sits 1024 bytes into the filesystem.
  if (::pread(fd.get(), sb, sizeof(sb), 1024) != static_cast<ssize_t>(sizeof(sb))) {
    return sys::Error(EINVAL, context + ": cannot read the ext4 superblock");
  }
  if (le(sb + 0x38, 2) != EXT4_SUPER_MAGIC) {
    return sys::Error(EINVAL, context + ": not an ext4 image");
  }
  constexpr uint64_t kIncompat64Bit = 0x80;
  bool is64 = (le(sb + 0x60, 4) & kIncompat64Bit) != 0;
  uint64_t blocks = le(sb + 0x4, 4) | (is64 ? le(sb + 0x150, 4) << 32 : 0);
  uint64_t freeBlocks = le(sb + 0xC, 4) | (is64 ? le(sb + 0x158, 4) << 32 : 0);
  uint64_t logBlock = le(sb + 0x18, 4);
  if (logBlock > 6 || freeBlocks > blocks) {
    return sys::Error(EINVAL, context + ": corrupt ext4 superblock");
  }
  uint64_t blockSize = uint64_t{1024} << logBlock;
  return Usage{(blocks - freeBlocks) * blockSize, blocks * blockSize};
}

}  // namespace berth::storage::disk
