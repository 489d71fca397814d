// Per-container overlay root filesystems: see rootfs.h.
//
// prepare() is on the container start path, so the common case (a fresh
// container) costs a handful of mkdirs, one statx, and the mount itself; the
// mountinfo scan only happens when rootfs is already a mount point.
#include "storage/rootfs/rootfs.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "runtime/sys/fd.h"
#include "runtime/sys/fs.h"
#include "storage/rootfs/mountinfo.h"
#include "storage/rootfs/remove_tree.h"

namespace berth::storage::rootfs {
namespace {

// A mount point can be stacked several times (a crash between mount and
// bookkeeping, twice); unmount peels at most this many.
constexpr int kMaxStackedMounts = 16;
constexpr std::string_view kFdAliasPrefix = "/proc/self/fd/";

// "lowerdir+" (one fsconfig call per layer, no length limit on the list)
// arrived in Linux 6.8; before that only the page-sized "lowerdir=" string.
bool kernelHasLowerdirPlus() {
  static const bool has = [] {
    struct utsname u {};
    if (::uname(&u) < 0) return false;
    int major = 0, minor = 0;
    if (std::sscanf(u.release, "%d.%d", &major, &minor) != 2) return false;
    return major > 6 || (major == 6 && minor >= 8);
  }();
  return has;
}

// Directories made by this prepare() call, removed again (rmdir only: they
// are still empty) unless the call succeeds.
class CreatedDirs {
 public:
  CreatedDirs() = default;
  CreatedDirs(const CreatedDirs&) = delete;
  CreatedDirs& operator=(const CreatedDirs&) = delete;
  ~CreatedDirs() {
    for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) ::rmdir(it->c_str());
  }
  void add(std::string dir) { dirs_.push_back(std::move(dir)); }
  void release() { dirs_.clear(); }

 private:
  std::vector<std::string> dirs_;
};

// mkdir that accepts an existing real directory (not a symlink to one).
// Returns whether it created the directory.
sys::Result<bool> makeDir(const std::string& path, mode_t mode, CreatedDirs& created) {
  if (::mkdir(path.c_str(), mode) == 0) {
    created.add(path);
    // mkdir applies the umask; the mode must be exactly the one asked for.
    if (::chmod(path.c_str(), mode) < 0) return sys::Error::fromErrno("chmod " + path);
    return true;
  }
  if (errno != EEXIST) return sys::Error::fromErrno("mkdir " + path);
  struct stat st {};
  if (::lstat(path.c_str(), &st) < 0) return sys::Error::fromErrno("stat " + path);
  if (!S_ISDIR(st.st_mode)) return sys::Error(ENOTDIR, path + " exists and is not a directory");
  return false;
}

// The mode of the upper dir's root: it is the merged rootfs's "/", so it
// takes the mode of the image's root (the top layer's root).
sys::Result<mode_t> imageRootMode(const std::vector<std::string>& lowerDirs) {
  if (lowerDirs.empty()) return mode_t{0755};
  struct stat st {};
  if (::stat(lowerDirs.back().c_str(), &st) < 0) {
    return sys::Error::fromErrno("stat top layer " + lowerDirs.back());
  }
  return mode_t{st.st_mode & 07777};
}

sys::Result<void> makeContainerDir(const Layout& layout, CreatedDirs& created) {
  if (!sys::pathExists(layout.containerDir)) {
    // 0711: other users may not list container directories, but a container
    // in a user namespace must still be able to walk to its rootfs.
    BERTH_TRY(sys::mkdirAll(layout.containerDir, 0711));
    created.add(layout.containerDir);
  }
  return sys::ok();
}

sys::Result<void> makeLayoutDirs(const Layout& layout, const std::vector<std::string>& lowerDirs,
                                 CreatedDirs& created) {
  // Only when new: a restarted container keeps a root mode its processes changed.
  mode_t rootMode = BERTH_TRY(imageRootMode(lowerDirs));
  BERTH_TRY(makeDir(layout.upperDir, rootMode, created));
  BERTH_TRY(makeDir(layout.workDir, 0700, created));
  BERTH_TRY(makeDir(layout.rootfs, 0755, created));
  if (lowerDirs.empty()) BERTH_TRY(makeDir(layout.emptyLowerDir, 0755, created));
  return sys::ok();
}

// The disk image and its mount made by this prepare() call, undone (after
// the directories inside it, before those around it) unless it succeeds.
class DiskSetup {
 public:
  DiskSetup() = default;
  DiskSetup(const DiskSetup&) = delete;
  DiskSetup& operator=(const DiskSetup&) = delete;
  ~DiskSetup() {
    if (!mounted_.empty()) (void)disk::unmount(mounted_);
    if (!createdImage_.empty()) ::unlink(createdImage_.c_str());
  }
  void createdImage(std::string path) { createdImage_ = std::move(path); }
  void mounted(std::string path) { mounted_ = std::move(path); }
  void release() {
    createdImage_.clear();
    mounted_.clear();
  }

 private:
  std::string createdImage_;
  std::string mounted_;
};

// Makes (first time) and mounts (when not mounted: first time, host reboot)
// the container's disk at layout.writableDir.
sys::Result<void> prepareDisk(const Layout& layout, const Options& options, CreatedDirs& outer,
                              DiskSetup& setup) {
  bool fresh = !sys::pathExists(layout.diskImage);
  if (fresh) {
    // An upper dir on the host means the container was made without a
    // limit: its files are there, and a new empty disk would hide them.
    std::string hostUpper = layout.containerDir + "/upper";
    if (sys::pathExists(hostUpper)) {
      return sys::Error(EEXIST, "cannot add a disk limit to a container made without one (" +
                                    hostUpper + " exists)");
    }
  }
  BERTH_TRY(makeDir(layout.writableDir, 0700, outer));
  if (fresh) {
    BERTH_TRY(disk::create(layout.diskImage, options.diskLimitBytes));
    setup.createdImage(layout.diskImage);
  }
  if (BERTH_TRY(disk::isMountedFrom(layout.diskImage, layout.writableDir))) return sys::ok();
  BERTH_TRY(disk::mount(layout.diskImage, layout.writableDir));
  setup.mounted(layout.writableDir);
  // mkfs makes the root 0755; like containerDir, no listing for other users.
  if (fresh && ::chmod(layout.writableDir.c_str(), 0711) < 0) {
    return sys::Error::fromErrno("chmod " + layout.writableDir);
  }
  return sys::ok();
}

// Short stand-ins for paths the kernel cannot take as given: O_PATH
// descriptors named "/proc/self/fd/N", open until the mount is made.
class PathAliases {
 public:
  sys::Result<std::string> alias(const std::string& path) {
    sys::UniqueFd fd(::open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!fd) return sys::Error::fromErrno("open " + path);
    std::string name = std::string(kFdAliasPrefix) + std::to_string(fd.get());
    fds_.push_back(std::move(fd));
    return name;
  }

 private:
  std::vector<sys::UniqueFd> fds_;
};

bool isAlias(const std::string& path) {
  return path.rfind(kFdAliasPrefix, 0) == 0;
}

// The fs_context keeps the kernel's own explanation ("overlayfs: failed to
// resolve '/x': -2"); it is worth far more than the bare errno.
sys::Error withKernelLog(int fsfd, sys::Error error) {
  char buf[512];
  std::string log;
  for (int i = 0; i < 8; ++i) {
    ssize_t n = ::read(fsfd, buf, sizeof(buf) - 1);
    if (n <= 0) break;
    if (!log.empty()) log += "; ";
    log.append(buf, static_cast<size_t>(n));
  }
  if (log.empty()) return error;
  return sys::Error(error.code(), error.what() + " (kernel: " + log + ")");
}

sys::Result<void> fsconfigOne(int fsfd, const FsParam& param) {
  int rc = param.flag
               ? ::fsconfig(fsfd, FSCONFIG_SET_FLAG, param.key.c_str(), nullptr, 0)
               : ::fsconfig(fsfd, FSCONFIG_SET_STRING, param.key.c_str(), param.value.c_str(), 0);
  if (rc == 0) return sys::ok();
  std::string what = "overlay option " + param.key;
  if (!param.flag) what += "=" + param.value;
  return withKernelLog(fsfd, sys::Error::fromErrno(what));
}

// The new mount API: one "lowerdir+" per layer, so the page limit of
// mount(2)'s option string does not cap the number of layers. A detached
// mount that fails to attach is freed when its descriptor closes.
sys::Result<void> mountWithFsconfig(int fsfd, OverlayPaths paths, const Options& options,
                                    const std::string& target) {
  PathAliases aliases;
  for (std::string* path : {&paths.upperDir, &paths.workDir}) {
    if (path->size() > kMaxFsconfigValue) *path = BERTH_TRY(aliases.alias(*path));
  }
  for (std::string& dir : paths.lowerDirs) {
    if (dir.size() > kMaxFsconfigValue) dir = BERTH_TRY(aliases.alias(dir));
  }
  for (const FsParam& param : fsconfigParams(paths, options)) BERTH_TRY(fsconfigOne(fsfd, param));
  if (::fsconfig(fsfd, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0) {
    return withKernelLog(fsfd, sys::Error::fromErrno("create overlay"));
  }
  sys::UniqueFd mnt(::fsmount(fsfd, FSMOUNT_CLOEXEC, 0));
  if (!mnt) return withKernelLog(fsfd, sys::Error::fromErrno("fsmount overlay"));
  // No MOVE_MOUNT_T_SYMLINKS: a symlink at the target is not followed.
  if (::move_mount(mnt.get(), "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH) < 0) {
    return sys::Error::fromErrno("move overlay onto " + target);
  }
  return sys::ok();
}

// mount(2) fallback for kernels without "lowerdir+". The option string is
// limited to a page: 128 layers at /var/lib/berth/layers/<64 hex> do not
// fit, so when it is too long (or a path holds ',' ':' '\') every layer is
// passed as a ~17-byte /proc/self/fd/N alias instead, which fits ~200.
sys::Result<void> mountWithLegacyApi(const OverlayPaths& paths, const Options& options,
                                     const std::string& target) {
  PathAliases aliases;
  auto data = legacyMountData(paths, options);
  if (!data && (data.error().code() == E2BIG || data.error().code() == EINVAL)) {
    OverlayPaths aliased = paths;
    for (std::string& dir : aliased.lowerDirs) dir = BERTH_TRY(aliases.alias(dir));
    for (std::string* path : {&aliased.upperDir, &aliased.workDir}) {
      if (needsLegacyAlias(*path) || path->size() > 1024) *path = BERTH_TRY(aliases.alias(*path));
    }
    data = legacyMountData(aliased, options);
  }
  if (!data) return std::move(data).error();
  if (::mount("overlay", target.c_str(), "overlay", 0, data->c_str()) == 0) return sys::ok();
  auto error = sys::Error::fromErrno("mount overlay on " + target);
  if (error.code() == ENOENT) {
    // mount(2) does not say which layer is missing; find it.
    for (const std::string& dir : paths.lowerDirs) {
      if (!sys::pathExists(dir)) return sys::Error(ENOENT, "mount overlay: missing layer " + dir);
    }
  }
  return error;
}

sys::Result<bool> mountOverlay(const OverlayPaths& paths, const Options& options,
                               const std::string& target) {
  bool useFsconfig = options.api == MountApi::kFsconfig ||
                     (options.api == MountApi::kAuto && kernelHasLowerdirPlus());
  if (useFsconfig) {
    sys::UniqueFd fsfd(::fsopen("overlay", FSOPEN_CLOEXEC));
    if (fsfd) {
      BERTH_TRY(mountWithFsconfig(fsfd.get(), paths, options, target));
      return false;
    }
    // ENOSYS: kernel before 5.2; EPERM: a seccomp filter that predates the
    // new mount API (common in nested containers). mount(2) may still work.
    bool fallback = options.api == MountApi::kAuto && (errno == ENOSYS || errno == EPERM);
    if (!fallback) return sys::Error::fromErrno("fsopen overlay");
  }
  BERTH_TRY(mountWithLegacyApi(paths, options, target));
  return true;
}

// rootfs is already a mount point: keep it if it is our overlay of the
// same layers (a daemon restart), refuse anything else.
sys::Result<void> checkExistingMount(const Layout& layout, const OverlayPaths& wanted) {
  auto entry = BERTH_TRY(findMount(layout.rootfs));
  if (!entry) return sys::Error(EBUSY, layout.rootfs + " is a mount point missing from mountinfo");
  if (entry->fsType != "overlay") {
    return sys::Error(EBUSY,
                      "a " + entry->fsType + " filesystem is already mounted on " + layout.rootfs);
  }
  if (entry->upperDir != wanted.upperDir && !isAlias(entry->upperDir)) {
    return sys::Error(EBUSY, layout.rootfs + " is already an overlay of another upper dir (" +
                                 entry->upperDir + ")");
  }
  bool comparable = true;
  for (const auto& dir : entry->lowerDirs) comparable = comparable && !isAlias(dir);
  if (comparable && entry->lowerDirs != wanted.lowerDirs) {
    return sys::Error(EBUSY, layout.rootfs + " is already mounted with other layers (" +
                                 std::to_string(entry->lowerDirs.size()) + " instead of " +
                                 std::to_string(wanted.lowerDirs.size()) + " or in another order)");
  }
  return sys::ok();
}

sys::Result<void> unmountOverlay(const std::string& target) {
  for (int i = 0; i < kMaxStackedMounts; ++i) {
    if (!BERTH_TRY(sys::isMountRoot(target))) return sys::ok();
    if (::umount2(target.c_str(), UMOUNT_NOFOLLOW) == 0) continue;
    if (errno == EINVAL || errno == ENOENT) {
      // Raced with another unmount (fine), or a mount we may not unmount
      // (locked in a user namespace): only the second is an error.
      auto error = sys::Error::fromErrno("unmount " + target);
      if (!BERTH_TRY(sys::isMountRoot(target))) return sys::ok();
      return error;
    }
    if (errno != EBUSY) return sys::Error::fromErrno("unmount " + target);
    // Still in use (a process has its cwd there, a container is still
    // running): detach it now, the kernel frees it when the last user goes.
    if (::umount2(target.c_str(), UMOUNT_NOFOLLOW | MNT_DETACH) < 0 && errno != EINVAL) {
      return sys::Error::fromErrno("detach " + target);
    }
  }
  return sys::Error(EBUSY, "unmount " + target + ": still mounted after " +
                               std::to_string(kMaxStackedMounts) + " unmounts");
}

}  // namespace

sys::Result<Rootfs> prepare(const std::string& containerDir,
                            const std::vector<std::string>& lowerDirs, const Options& options) {
  auto layout = BERTH_TRY_CTX(layoutFor(containerDir), "prepare rootfs");
  std::string context = "prepare rootfs in " + containerDir;
  BERTH_TRY_CTX(validateLowerDirs(lowerDirs, layout), context);
  // An existing disk is used even without a limit in `options`: the
  // container's files are in it.
  bool withDisk = options.diskLimitBytes > 0 || sys::pathExists(layout.diskImage);
  if (withDisk) placeWritableOnDisk(layout);

  // Undone in reverse order on failure: inner dirs, then the disk, then outer dirs.
  CreatedDirs outer;
  DiskSetup diskSetup;
  CreatedDirs inner;
  BERTH_TRY_CTX(makeContainerDir(layout, outer), context);
  if (withDisk) BERTH_TRY_CTX(prepareDisk(layout, options, outer, diskSetup), context);
  BERTH_TRY_CTX(makeLayoutDirs(layout, lowerDirs, inner), context);

  OverlayPaths paths;
  paths.lowerDirs = lowerDirs.empty() ? std::vector<std::string>{layout.emptyLowerDir} : lowerDirs;
  paths.upperDir = layout.upperDir;
  paths.workDir = layout.workDir;

  Rootfs rootfs{layout.rootfs, layout.upperDir, layout.workDir};
  if (withDisk) rootfs.diskMount = layout.writableDir;
  if (BERTH_TRY_CTX(sys::isMountRoot(layout.rootfs), context)) {
    BERTH_TRY_CTX(checkExistingMount(layout, paths), context);
    rootfs.reattached = true;
  } else {
    rootfs.legacyMount = BERTH_TRY_CTX(mountOverlay(paths, options, layout.rootfs), context);
  }
  inner.release();
  diskSetup.release();
  outer.release();
  return rootfs;
}

sys::Result<void> unmount(const std::string& containerDir) {
  auto layout = BERTH_TRY_CTX(layoutFor(containerDir), "unmount rootfs");
  BERTH_TRY(unmountOverlay(layout.rootfs));
  // After the overlay, which holds it. If the overlay was only detached
  // (busy), the disk is detached too and goes with it.
  return disk::unmount(layout.writableDir);
}

sys::Result<void> remove(const std::string& containerDir) {
  auto layout = BERTH_TRY_CTX(layoutFor(containerDir), "remove container directory");
  BERTH_TRY_CTX(unmount(containerDir), "remove " + containerDir);
  // removeTree also refuses to descend into a mount, so a rootfs that
  // reappears (or a volume left mounted inside) is never deleted through.
  return removeTree(layout.containerDir).context("remove " + containerDir);
}

sys::Result<bool> isMounted(const std::string& containerDir) {
  auto layout = BERTH_TRY_CTX(layoutFor(containerDir), "check rootfs mount");
  return sys::isMountRoot(layout.rootfs);
}

sys::Result<void> resizeDisk(const std::string& containerDir, uint64_t bytes) {
  auto layout = BERTH_TRY_CTX(layoutFor(containerDir), "resize disk");
  if (!sys::pathExists(layout.diskImage)) {
    return sys::Error(EINVAL, "resize disk of " + containerDir +
                                  ": the container was created without a disk limit");
  }
  return disk::grow(layout.diskImage, layout.writableDir, bytes)
      .context("resize disk of " + containerDir);
}

sys::Result<std::optional<disk::Usage>> diskUsage(const std::string& containerDir) {
  auto layout = BERTH_TRY_CTX(layoutFor(containerDir), "disk usage");
  if (!sys::pathExists(layout.diskImage)) return std::optional<disk::Usage>();
  // A stopped container's disk may be unmounted: read its superblock then.
  if (BERTH_TRY(disk::isMountedFrom(layout.diskImage, layout.writableDir))) {
    return std::optional<disk::Usage>(BERTH_TRY(disk::usage(layout.writableDir)));
  }
  return std::optional<disk::Usage>(BERTH_TRY(disk::usageOfImage(layout.diskImage)));
}

}  // namespace berth::storage::rootfs
