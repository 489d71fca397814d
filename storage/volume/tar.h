// Tar streams of a volume's data (backup and restore), through libarchive.
// Export writes a POSIX pax tar with numeric owners, modes, xattrs and mtimes;
// import extracts an untrusted tar into a staging directory with libarchive's
// secure extraction flags plus checks of our own, made on the directory as
// it is on disk (not on names): an entry whose parent is a symlink or not a
// directory, or which exists already, is refused with its name.
#pragma once

#include <sys/stat.h>

#include <string>
#include <string_view>

#include "runtime/sys/result.h"
#include "storage/volume/tree.h"

namespace berth::storage::volume {

// Writes the tree below the open directory `rootfd` to `outFd`: "./" for the
// root itself, then "./path" entries in sorted order. Symlinks are stored,
// never followed; mounts inside are not crossed.
[[nodiscard]] sys::Result<void> exportTree(int rootfd, int outFd, const std::string& where);

// The tar's own entry for its root ("./"), applied by the caller to the
// directory that finally holds the files.
struct TarRoot {
  bool present = false;
  struct stat st {};
  Xattrs xattrs;
};

// Extracts the tar read from `inFd` into the empty directory `stagingPath`
// (open as `stagingFd`, which must have no symlink in its path). On error,
// whatever was extracted stays in staging for the caller to remove.
[[nodiscard]] sys::Result<TarRoot> importTree(int stagingFd, const std::string& stagingPath, int inFd);

// An entry's name as a clean relative path ("" for the root, "./" or "."),
// or an error for an absolute path, a ".." component or a NUL-free empty name.
[[nodiscard]] sys::Result<std::string> cleanEntryPath(std::string_view raw);

}  // namespace berth::storage::volume
