// Descriptor-relative helpers shared by copy-up, tar export and usage: every
// walk goes down with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
// RESOLVE_NO_XDEV), so a symlink is never followed and a mount inside the
// tree is never crossed, whatever a container put there.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "runtime/sys/fd.h"
#include "runtime/sys/result.h"

namespace berth::storage::volume {

using Xattrs = std::vector<std::pair<std::string, std::string>>;

// Opens the directory `name` in `parent` (O_RDONLY, so xattr calls work on
// it). A symlink gives ELOOP; a mount point gives EXDEV.
[[nodiscard]] sys::Result<sys::UniqueFd> openChildDir(int parent, const std::string& name,
                                                      const std::string& where);

// Names in a directory (without "." and ".."), sorted so walks are deterministic.
[[nodiscard]] sys::Result<std::vector<std::string>> listNames(int dirfd, const std::string& where);

// Extended attributes of an open file or directory (not O_PATH).
[[nodiscard]] sys::Result<Xattrs> readXattrs(int fd, const std::string& where);
// ... of `name` in `dirfd`, not following it (symlinks, device nodes).
[[nodiscard]] sys::Result<Xattrs> readXattrsAt(int dirfd, const std::string& name,
                                               const std::string& where);

// Sets xattrs. security.* ones the kernel refuses (no LSM for it, IMA
// signatures, no privilege) are skipped: the copy must still work on a host
// without SELinux. Any other failure is an error.
[[nodiscard]] sys::Result<void> writeXattrs(int fd, const Xattrs& xattrs, const std::string& where);
[[nodiscard]] sys::Result<void> writeXattrsAt(int dirfd, const std::string& name, const Xattrs& xattrs,
                                              const std::string& where);

// Applies owner, mode, xattrs and mtime of `st` to an open directory or file,
// in the order that keeps them (chown clears setuid bits and file
// capabilities, so it goes first; times last).
[[nodiscard]] sys::Result<void> applyAttributes(int fd, const struct stat& st, const Xattrs& xattrs,
                                                const std::string& where);

// Bytes allocated below the directory `rootfd` (st_blocks * 512), each inode
// counted once, symlinks not followed, mounts not crossed.
[[nodiscard]] sys::Result<uint64_t> treeUsage(int rootfd, const std::string& where);

}  // namespace berth::storage::volume
