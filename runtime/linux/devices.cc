// Device nodes and /dev symlinks; see devices.h.
#include "runtime/linux/devices.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "runtime/linux/mount_ops.h"
#include "runtime/linux/mount_plan.h"

namespace berth::runtime::linux {
namespace {

mode_t fileType(char type) {
  switch (type) {
    case 'b':
      return S_IFBLK;
    case 'p':
      return S_IFIFO;
    default:  // 'c' and 'u' (unbuffered character device) are both S_IFCHR
      return S_IFCHR;
  }
}

bool isSameNode(const struct stat& st, const DeviceNode& node) {
  if ((st.st_mode & S_IFMT) != fileType(node.type)) return false;
  return node.type == 'p' || st.st_rdev == makedev(node.major, node.minor);
}

// mknod, replacing whatever the image put at the path (a regular file, or a
// symlink that would make a later chmod or open land elsewhere).
sys::Result<void> makeNode(int dir, const std::string& name, const DeviceNode& node) {
  dev_t dev = node.type == 'p' ? 0 : makedev(node.major, node.minor);
  if (::mknodat(dir, name.c_str(), fileType(node.type) | node.mode, dev) == 0) return sys::ok();
  if (errno != EEXIST) return sys::Error::fromErrno("mknod " + node.path);
  struct stat st;
  if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) return sys::Error::fromErrno("stat " + node.path);
  if (isSameNode(st, node)) return sys::ok();
  if (::unlinkat(dir, name.c_str(), S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) < 0) {
    return sys::Error::fromErrno("remove " + node.path + " to create a device node");
  }
  if (::mknodat(dir, name.c_str(), fileType(node.type) | node.mode, dev) < 0) {
    return sys::Error::fromErrno("mknod " + node.path);
  }
  return sys::ok();
}

sys::Result<void> createDevice(int rootfd, const DeviceNode& node, bool inNewUserns) {
  if (inNewUserns) {
    // The host's node at the same path; its owner and mode are the host's.
    sys::UniqueFd target = BERTH_TRY(makeMountpointInRoot(rootfd, node.path, Leaf::kFile));
    return mountOnFd(node.path, target.get(), nullptr, MS_BIND, "", "bind-mount device " + node.path);
  }
  std::string name;
  sys::UniqueFd dir = BERTH_TRY(makeParentInRoot(rootfd, node.path, &name));
  BERTH_TRY(makeNode(dir.get(), name, node));
  // mknod's mode went through the umask; the spec's fileMode is exact.
  if (::fchownat(dir.get(), name.c_str(), node.uid, node.gid, AT_SYMLINK_NOFOLLOW) < 0) {
    return sys::Error::fromErrno("chown " + node.path);
  }
  if (::fchmodat(dir.get(), name.c_str(), node.mode, AT_SYMLINK_NOFOLLOW) < 0) {
    return sys::Error::fromErrno("chmod " + node.path);
  }
  return sys::ok();
}

sys::Result<void> symlinkInRoot(int rootfd, const std::string& target, const std::string& link, bool replace) {
  std::string name;
  sys::UniqueFd dir = BERTH_TRY(makeParentInRoot(rootfd, link, &name));
  if (replace && ::unlinkat(dir.get(), name.c_str(), 0) < 0 && errno != ENOENT) {
    return sys::Error::fromErrno("remove " + link);
  }
  if (::symlinkat(target.c_str(), dir.get(), name.c_str()) < 0 && errno != EEXIST) {
    return sys::Error::fromErrno("symlink " + link + " -> " + target);
  }
  return sys::ok();
}

}  // namespace

sys::Result<void> setupDevInChild(int rootfd, const config::Spec& spec, const RootfsContext& ctx) {
  if (!needsDevSetup(spec)) return sys::ok();
  auto devices = BERTH_TRY(plannedDevices(spec));
  for (const auto& node : devices) BERTH_TRY(createDevice(rootfd, node, ctx.inNewUserns));
  if (spec.process && spec.process->terminal) {
    // The console's pty is bind-mounted here later; a bind needs an existing file.
    (void)BERTH_TRY(makeMountpointInRoot(rootfd, "/dev/console", Leaf::kFile));
  }
  // Each devpts instance has its own ptmx; /dev/ptmx must lead to this one.
  BERTH_TRY(symlinkInRoot(rootfd, "pts/ptmx", "/dev/ptmx", true));
  for (const auto& [link, target] : devSymlinks(mountsProc(spec))) {
    BERTH_TRY(symlinkInRoot(rootfd, target, link, false));
  }
  return sys::ok();
}

}  // namespace berth::runtime::linux
