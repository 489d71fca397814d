// The system calls behind building a rootfs, each confined to the rootfs: make a
// mount point inside it (following symlinks the way the kernel would with the
// rootfs as "/"), then mount, remount, change propagation or set recursive
// attributes through "/proc/self/fd/N" of an fd of the resolved target. The fd
// pins the target, so a path swapped after resolution cannot redirect the mount.
#pragma once

#include <string>

#include "runtime/linux/mount_options.h"
#include "runtime/sys/fd.h"
#include "runtime/sys/result.h"

namespace berth::runtime::linux {

enum class Leaf { kDirectory, kFile };

// "/proc/self/fd/N": the magic link the kernel resolves to exactly what fd N is.
std::string fdPath(int fd);

// Resolves `path` inside rootfd, creating missing directories (and, for kFile,
// an empty file as the last component), and returns an O_PATH fd of the target.
// Symlinks are followed inside the root: "/../../x" lands on <root>/x. With
// refuseSymlinkLeaf, a last component that is a symlink is an error
// ("mount destination /proc is a symlink").
sys::Result<sys::UniqueFd> makeMountpointInRoot(int rootfd, const std::string& path, Leaf leaf,
                                                bool refuseSymlinkLeaf = false);

// Like makeMountpointInRoot for the parent directory of `path`; returns its O_PATH
// fd and sets *name to the last component (for mknodat / symlinkat).
sys::Result<sys::UniqueFd> makeParentInRoot(int rootfd, const std::string& path, std::string* name);

// Where fd points, as the kernel sees it now (readlink of /proc/self/fd/N).
sys::Result<std::string> fdRealPath(int fd);

// mount(2) onto the target fd. `what` names the mount in errors
// ("mount proc on /proc").
sys::Result<void> mountOnFd(const std::string& source, int targetFd, const char* type, unsigned long flags,
                            const std::string& data, const std::string& what);

// The second pass of a bind mount: MS_REMOUNT|MS_BIND with the requested flags
// plus the flags the mount already has (statfs), which a user namespace locks.
// `mountFd` must be an fd of the mount's root (opened after mounting).
sys::Result<void> remountBind(int mountFd, const MountOptions& options, const std::string& what);

// Propagation changes in order; the recursive attributes with mount_setattr.
sys::Result<void> applyPropagation(int mountFd, const MountOptions& options, const std::string& what);
sys::Result<void> applyRecursiveAttrs(int mountFd, const MountOptions& options, const std::string& what);

}  // namespace berth::runtime::linux
