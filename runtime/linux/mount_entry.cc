// One spec mount inside the rootfs; see mount_entry.h.
#include "runtime/linux/mount_entry.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "runtime/linux/mount_ops.h"
#include "runtime/linux/mount_plan.h"
#include "runtime/sys/fs.h"

namespace berth::runtime::linux {
namespace {

// Where `fd` is, as a path inside the rootfs. The real path (not the configured
// one) is what the /proc checks must look at: "/x" may be a symlink to "/proc/sys".
sys::Result<std::string> pathInsideRootfs(int fd, const RootfsContext& ctx) {
  std::string real = BERTH_TRY(fdRealPath(fd));
  std::string root = sys::cleanPath(ctx.rootfs);
  if (!isWithin(root, real)) return sys::Error::invalid("mount target " + real + " is outside the rootfs");
  std::string inside = root == "/" ? real : real.substr(root.size());
  return inside.empty() ? std::string("/") : inside;
}

// After mount(2) the target fd still names the directory under the new mount;
// attributes and propagation need the new mount itself, so open it again.
sys::Result<void> configureNewMount(int rootfd, const std::string& inside, const MountOptions& opts,
                                    const std::string& what, bool remount) {
  if (!remount && opts.propagation.empty() && !opts.hasRecursiveAttrs()) return sys::ok();
  sys::UniqueFd mnt = BERTH_TRY(sys::openInRoot(rootfd, inside, O_PATH));
  if (remount) BERTH_TRY(remountBind(mnt.get(), opts, what));
  BERTH_TRY(applyRecursiveAttrs(mnt.get(), opts, what));
  return applyPropagation(mnt.get(), opts, what);
}

sys::Result<void> bindInto(int rootfd, const RootfsContext& ctx, const std::string& source,
                           const std::string& dest, const MountOptions& opts) {
  struct stat st;
  if (::stat(source.c_str(), &st) < 0) return sys::Error::fromErrno("source " + source);
  Leaf leaf = S_ISDIR(st.st_mode) ? Leaf::kDirectory : Leaf::kFile;
  sys::UniqueFd target = BERTH_TRY(makeMountpointInRoot(rootfd, dest, leaf));
  std::string inside = BERTH_TRY(pathInsideRootfs(target.get(), ctx));
  struct statfs sfs {};
  bool sourceIsProcfs = ::statfs(source.c_str(), &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC;
  BERTH_TRY(checkProcDestination(inside, "bind", true, sourceIsProcfs));
  std::string what = "bind-mount " + source + " on " + dest;
  BERTH_TRY(mountOnFd(source, target.get(), nullptr, opts.flags & (MS_BIND | MS_REC), "", what));
  return configureNewMount(rootfd, inside, opts, what, opts.needsRemount());
}

sys::Result<void> mountFresh(int rootfd, const RootfsContext& ctx, const std::string& type,
                             const std::string& source, const std::string& dest, const MountOptions& opts) {
  // procfs and sysfs through a symlink were the road to CVE-2019-19921: refuse.
  bool kernelFs = type == "proc" || type == "sysfs";
  sys::UniqueFd target = BERTH_TRY(makeMountpointInRoot(rootfd, dest, Leaf::kDirectory, kernelFs));
  std::string inside = BERTH_TRY(pathInsideRootfs(target.get(), ctx));
  BERTH_TRY(checkProcDestination(inside, type, false, false));
  std::string what = "mount " + type + " on " + dest;
  unsigned long flags = opts.flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
  BERTH_TRY(mountOnFd(source.empty() ? type : source, target.get(), type.c_str(), flags, opts.data, what));
  return configureNewMount(rootfd, inside, opts, what, false);
}

// Without its own network (sysfs) or IPC (mqueue) namespace, a user namespace may
// not mount these fresh; the host's are bound instead, with the per-mount flags
// made recursive so submounts such as /sys/fs/cgroup are read-only too.
sys::Result<void> mountOrBindHost(int rootfd, const RootfsContext& ctx, const config::Mount& m,
                                  const std::string& dest, const MountOptions& opts, const char* hostPath) {
  bool preferBind = m.type == "sysfs" && ctx.inNewUserns && !ctx.newNetns;
  if (!preferBind) {
    auto fresh = mountFresh(rootfd, ctx, m.type, m.source, dest, opts);
    if (fresh || fresh.error().code() != EPERM || (m.type == "sysfs" && ctx.newNetns)) return fresh;
  }
  MountOptions bind = opts;
  bind.flags |= MS_BIND | MS_REC;
  if (opts.flags & MS_RDONLY) bind.recursiveSet |= MOUNT_ATTR_RDONLY;
  if (opts.flags & MS_NOSUID) bind.recursiveSet |= MOUNT_ATTR_NOSUID;
  if (opts.flags & MS_NODEV) bind.recursiveSet |= MOUNT_ATTR_NODEV;
  if (opts.flags & MS_NOEXEC) bind.recursiveSet |= MOUNT_ATTR_NOEXEC;
  return bindInto(rootfd, ctx, hostPath, dest, bind);
}

sys::Result<void> mountCgroupV1(int rootfd, const RootfsContext& ctx, const std::string& dest,
                                const MountOptions& opts) {
  // A writable tmpfs holds one directory per hierarchy; it turns read-only last.
  MountOptions tmpfs;
  tmpfs.flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
  tmpfs.data = "mode=755";
  BERTH_TRY(mountFresh(rootfd, ctx, "tmpfs", "tmpfs", dest, tmpfs));
  MountOptions bind = opts;
  bind.flags |= MS_BIND | MS_REC;
  bind.propagation.clear();
  for (const auto& cg : ctx.cgroupMounts) {
    BERTH_TRY(bindInto(rootfd, ctx, cg.hostPath, sys::joinPath(dest, cgroupDirName(cg.name)), bind));
  }
  sys::UniqueFd dir = BERTH_TRY(sys::openInRoot(rootfd, dest, O_PATH | O_DIRECTORY));
  for (const auto& [link, target] : cgroupV1Symlinks(ctx.cgroupMounts)) {
    if (::symlinkat(target.c_str(), dir.get(), link.c_str()) < 0 && errno != EEXIST) {
      return sys::Error::fromErrno("symlink " + sys::joinPath(dest, link) + " -> " + target);
    }
  }
  MountOptions top;
  top.flags = MS_BIND | (opts.flags & MS_RDONLY);
  top.propagation = opts.propagation;
  std::string inside = BERTH_TRY(pathInsideRootfs(dir.get(), ctx));
  return configureNewMount(rootfd, inside, top, "cgroup tmpfs on " + dest, (opts.flags & MS_RDONLY) != 0);
}

sys::Result<void> mountCgroup(int rootfd, const RootfsContext& ctx, const std::string& dest,
                              const MountOptions& opts) {
  if (!ctx.cgroupV2) return mountCgroupV1(rootfd, ctx, dest, opts);
  if (ctx.newCgroupns) {
    // In its own cgroup namespace the container sees its cgroup as the root.
    auto fresh = mountFresh(rootfd, ctx, "cgroup2", "cgroup2", dest, opts);
    if (fresh || fresh.error().code() != EPERM || ctx.cgroupMounts.empty()) return fresh;
  }
  if (ctx.cgroupMounts.empty()) return sys::Error::invalid("no cgroup directory known for the container");
  MountOptions bind = opts;
  bind.flags |= MS_BIND | MS_REC;
  return bindInto(rootfd, ctx, ctx.cgroupMounts.front().hostPath, dest, bind);
}

sys::Result<void> mountEntry(int rootfd, const config::Mount& m, const RootfsContext& ctx) {
  if (!m.uidMappings.empty() || !m.gidMappings.empty()) {
    return sys::Error(ENOTSUP, "idmapped mounts are not supported");
  }
  MountOptions opts = BERTH_TRY(parseMountOptions(m.options));
  if (m.type == "bind") opts.flags |= MS_BIND;
  // Destinations are container paths; a relative one is taken from "/" (as runc does).
  std::string dest = sys::cleanPath("/" + m.destination);
  if (opts.isBind()) {
    if (m.source.empty()) return sys::Error::invalid("bind mount without a source");
    return bindInto(rootfd, ctx, bindSourcePath(m, ctx.bundle), dest, opts);
  }
  if (m.type == "cgroup") return mountCgroup(rootfd, ctx, dest, opts);
  if (m.type == "sysfs") return mountOrBindHost(rootfd, ctx, m, dest, opts, "/sys");
  if (m.type == "mqueue") return mountOrBindHost(rootfd, ctx, m, dest, opts, "/dev/mqueue");
  if (m.type.empty()) return sys::Error::invalid("mount without a type");
  return mountFresh(rootfd, ctx, m.type, m.source, dest, opts);
}

}  // namespace

sys::Result<void> mountEntryInChild(int rootfd, const config::Mount& mount, size_t index,
                                    const RootfsContext& ctx) {
  return mountEntry(rootfd, mount, ctx).context(describeMount(mount, index));
}

}  // namespace berth::runtime::linux
