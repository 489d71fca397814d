// The rootfs stages the container init runs; see rootfs.h.
#include "runtime/linux/rootfs.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "runtime/linux/devices.h"
#include "runtime/linux/mount_entry.h"
#include "runtime/linux/mount_ops.h"
#include "runtime/linux/mount_plan.h"
#include "runtime/sys/fs.h"
#include "runtime/sys/syscall.h"

namespace berth::runtime::linux {
namespace {

std::string rootfsPropagationName(const config::Spec& spec) {
  return spec.linux ? spec.linux->rootfsPropagation : std::string();
}

sys::Result<void> mountPropagation(const char* path, unsigned long flags, const std::string& what) {
  if (::mount(nullptr, path, nullptr, flags, nullptr) < 0) return sys::Error::fromErrno(what);
  return sys::ok();
}

// pivot_root(2) fails with EINVAL when the parent mount of the new root is shared,
// which a "shared" rootfsPropagation makes it; only that one mount turns private.
sys::Result<void> makeRootfsParentPrivate(const std::string& rootfs) {
  std::string text = BERTH_TRY(sys::readFile("/proc/self/mountinfo"));
  auto mounts = parseMountinfo(text);
  const MountInfo* parent = mountContaining(mounts, rootfs);
  if (!parent || parent->optional.find("shared:") == std::string::npos) return sys::ok();
  return mountPropagation(parent->mountPoint.c_str(), MS_PRIVATE,
                          "make " + parent->mountPoint + " (parent mount of the rootfs) private");
}

// Every statement-level check that needs no system call, so bad input fails
// before the first mount.
sys::Result<void> validate(const config::Spec& spec) {
  for (size_t i = 0; i < spec.mounts.size(); ++i) {
    BERTH_TRY_CTX(parseMountOptions(spec.mounts[i].options), describeMount(spec.mounts[i], i));
  }
  if (!rootfsPropagationName(spec).empty()) BERTH_TRY(parsePropagation(rootfsPropagationName(spec)));
  (void)BERTH_TRY(plannedDevices(spec));
  if (spec.linux) {
    for (const auto& [key, value] : spec.linux->sysctl) (void)BERTH_TRY(sysctlPath(key));
  }
  return sys::ok();
}

// --no-pivot: the host's procfs and sysfs stay reachable in this mount namespace
// after chroot; a procfs there would let the container mount an unmasked one.
void detachHostProcMounts(const std::string& rootfs) {
  auto text = sys::readFile("/proc/self/mountinfo");
  if (!text) return;
  for (const auto& mountPoint : hostProcMountsToDetach(parseMountinfo(*text), rootfs)) {
    // Slave first, so the unmount is not propagated to the host.
    (void)::mount(nullptr, mountPoint.c_str(), nullptr, MS_SLAVE | MS_REC, nullptr);
    if (::umount2(mountPoint.c_str(), MNT_DETACH) == 0 || errno == EINVAL || errno == ENOENT) continue;
    // Locked in a user namespace: cover it instead.
    (void)::mount("tmpfs", mountPoint.c_str(), "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0");
  }
}

sys::Result<void> moveRootInChild(const std::string& rootfs) {
  detachHostProcMounts(rootfs);
  if (::chdir(rootfs.c_str()) < 0) return sys::Error::fromErrno("chdir " + rootfs);
  if (::mount(rootfs.c_str(), "/", nullptr, MS_MOVE, nullptr) < 0) {
    return sys::Error::fromErrno("move rootfs " + rootfs + " to /");
  }
  if (::chroot(".") < 0) return sys::Error::fromErrno("chroot " + rootfs);
  return sys::ok();
}

sys::Result<uint64_t> mountIdOf(int dirfd, const char* path, int flags) {
  struct statx stx {};
  if (::statx(dirfd, path, flags, STATX_MNT_ID, &stx) < 0) return sys::Error::fromErrno("statx " + std::string(path));
  return static_cast<uint64_t>(stx.stx_mnt_id);
}

// After pivot_root(".", ".") the old root is stacked on top of the new one, and
// so is anything that was stacked on the old root (a host may cover "/" with
// another mount). umount2(".") removes only one of them; any left over would let
// "/.." walk out to the host, because ".." at the root follows mounts on top of
// it. So detach the topmost mount over the root until the new root is on top,
// each one made rslave first so the unmount never propagates to the host.
sys::Result<void> detachMountsAboveRoot(uint64_t newRootId) {
  constexpr int kMaxStacked = 64;
  for (int i = 0; i < kMaxStacked; ++i) {
    uint64_t top = BERTH_TRY(mountIdOf(AT_FDCWD, "/..", 0));
    if (top == newRootId) return sys::ok();
    BERTH_TRY(mountPropagation("/..", MS_SLAVE | MS_REC, "make a mount above the new root rslave"));
    if (::umount2("/..", MNT_DETACH) < 0) return sys::Error::fromErrno("unmount a mount above the new root");
  }
  return sys::Error(ELOOP, "unmount the old root: too many stacked mounts");
}

sys::Result<void> pivotInChild(const std::string& rootfs) {
  sys::UniqueFd oldRoot(::open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  if (!oldRoot) return sys::Error::fromErrno("open /");
  sys::UniqueFd newRoot(::open(rootfs.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  if (!newRoot) return sys::Error::fromErrno("open rootfs " + rootfs);
  uint64_t newRootId = BERTH_TRY(mountIdOf(newRoot.get(), "", AT_EMPTY_PATH));
  // pivot_root(".", ".") stacks the old root on top of the new one, so no
  // put_old directory is needed inside the image; unmounting it then drops it.
  if (::fchdir(newRoot.get()) < 0) return sys::Error::fromErrno("chdir " + rootfs);
  if (sys::pivotRoot(".", ".") < 0) return sys::Error::fromErrno("pivot_root " + rootfs);
  // The kernel does not promise where cwd is after pivot_root: go to the old root explicitly.
  if (::fchdir(oldRoot.get()) < 0) return sys::Error::fromErrno("chdir to the old root");
  // The old root is still a slave or shared mount: make sure its unmount stays here.
  BERTH_TRY(mountPropagation(".", MS_SLAVE | MS_REC, "make the old root rslave"));
  if (::umount2(".", MNT_DETACH) < 0) return sys::Error::fromErrno("unmount the old root");
  if (::chdir("/") < 0) return sys::Error::fromErrno("chdir /");
  return detachMountsAboveRoot(newRootId);
}

sys::Result<void> writeSysctls(int rootfd, const config::Spec& spec) {
  if (!spec.linux) return sys::ok();
  for (const auto& [key, value] : spec.linux->sysctl) {
    std::string path = BERTH_TRY(sysctlPath(key));
    sys::UniqueFd fd = BERTH_TRY_CTX(sys::openInRoot(rootfd, path, O_WRONLY), "sysctl " + key);
    if (::write(fd.get(), value.data(), value.size()) < 0) {
      return sys::Error::fromErrno("sysctl " + key + "=" + value + ": write " + path);
    }
  }
  return sys::ok();
}

// After pivot_root "/" is the container's, so a mount target may also be named
// by its fd through the container's own /proc, when it has one.
std::string targetOf(int fd, const std::string& path, bool haveProc) {
  return haveProc ? fdPath(fd) : sys::cleanPath("/" + path);
}

sys::Result<void> makeReadonly(int rootfd, const std::string& path, bool haveProc) {
  auto fd = sys::openInRoot(rootfd, path, O_PATH);
  if (!fd && fd.error().code() == ENOENT) return sys::ok();
  if (!fd) return std::move(fd).error();
  std::string target = targetOf(fd->get(), path, haveProc);
  if (::mount(target.c_str(), target.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0) {
    return sys::Error::fromErrno("bind-mount " + path + " onto itself");
  }
  // mount_setattr sets only MOUNT_ATTR_RDONLY, on the whole subtree, leaving the
  // flags a user namespace locks untouched: no remount-with-statfs dance needed.
  sys::UniqueFd mnt = BERTH_TRY(sys::openInRoot(rootfd, path, O_PATH));
  MountOptions ro;
  ro.recursiveSet = MOUNT_ATTR_RDONLY;
  return applyRecursiveAttrs(mnt.get(), ro, path);
}

sys::Result<void> mask(int rootfd, const std::string& path, bool haveProc) {
  auto fd = sys::openInRoot(rootfd, path, O_PATH);
  if (!fd && fd.error().code() == ENOENT) return sys::ok();
  if (!fd) return std::move(fd).error();
  struct stat st;
  if (::fstat(fd->get(), &st) < 0) return sys::Error::fromErrno("stat " + path);
  std::string target = targetOf(fd->get(), path, haveProc);
  int rc = S_ISDIR(st.st_mode)
               ? ::mount("tmpfs", target.c_str(), "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0")
               : ::mount("/dev/null", target.c_str(), nullptr, MS_BIND, nullptr);
  if (rc < 0) return sys::Error::fromErrno("mask " + path);
  return sys::ok();
}

sys::Result<void> remountRootReadonly() {
  struct statfs st;
  if (::statfs("/", &st) < 0) return sys::Error::fromErrno("statfs /");
  MountOptions ro;
  ro.flags = MS_BIND | MS_RDONLY;
  unsigned long flags = bindRemountFlags(ro, statfsToMountFlags(static_cast<unsigned long>(st.f_flags)));
  if (::mount(nullptr, "/", nullptr, flags, nullptr) < 0) return sys::Error::fromErrno("remount / read-only");
  return sys::ok();
}

}  // namespace

sys::Result<void> prepareRootfsInChild(const config::Spec& spec, const RootfsContext& ctx) {
  BERTH_TRY(validate(spec));
  std::string rootfs = sys::cleanPath(ctx.rootfs);
  // Nothing done in this namespace may reach the host: slave by default, or
  // what linux.rootfsPropagation asks for, over the whole tree.
  unsigned long propagation = MS_SLAVE | MS_REC;
  if (auto name = rootfsPropagationName(spec); !name.empty()) propagation = BERTH_TRY(parsePropagation(name)) | MS_REC;
  BERTH_TRY(mountPropagation("/", propagation, "set propagation of /"));
  if (propagation & MS_SHARED) BERTH_TRY(makeRootfsParentPrivate(rootfs));
  // pivot_root needs the new root to be a mount point; the bind also gives the
  // spec's mounts a mount of their own to live under.
  if (::mount(rootfs.c_str(), rootfs.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0) {
    return sys::Error::fromErrno("bind-mount rootfs " + rootfs + " onto itself");
  }
  // Opened after the bind, so every target resolved under it is on the new mount.
  sys::UniqueFd rootfd(::open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!rootfd) return sys::Error::fromErrno("open rootfs " + rootfs);
  for (size_t i = 0; i < spec.mounts.size(); ++i) {
    BERTH_TRY(mountEntryInChild(rootfd.get(), spec.mounts[i], i, ctx));
  }
  return setupDevInChild(rootfd.get(), spec, ctx).context("set up /dev");
}

sys::Result<void> pivotRootInChild(const RootfsContext& ctx) {
  std::string rootfs = sys::cleanPath(ctx.rootfs);
  BERTH_TRY(ctx.noPivot ? moveRootInChild(rootfs) : pivotInChild(rootfs));
  if (::chdir("/") < 0) return sys::Error::fromErrno("chdir /");
  return sys::ok();
}

sys::Result<void> finishRootfsInChild(const config::Spec& spec, const RootfsContext& ctx) {
  (void)ctx;
  sys::UniqueFd rootfd(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!rootfd) return sys::Error::fromErrno("open /");
  bool haveProc = ::access("/proc/self/fd", F_OK) == 0;
  BERTH_TRY(writeSysctls(rootfd.get(), spec));
  if (spec.linux) {
    for (const auto& path : spec.linux->readonlyPaths) {
      BERTH_TRY_CTX(makeReadonly(rootfd.get(), path, haveProc), "readonly path " + path);
    }
    for (const auto& path : spec.linux->maskedPaths) {
      BERTH_TRY_CTX(mask(rootfd.get(), path, haveProc), "masked path " + path);
    }
  }
  if (spec.root && spec.root->readonly) BERTH_TRY(remountRootReadonly());
  if (auto name = rootfsPropagationName(spec); !name.empty()) {
    unsigned long flags = BERTH_TRY(parsePropagation(name));
    BERTH_TRY(mountPropagation("/", flags, "set rootfs propagation " + name));
  }
  return sys::ok();
}

}  // namespace berth::runtime::linux
