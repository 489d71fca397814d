// Filesystem helpers shared by every layer: whole-file reads, crash-safe
// writes, directory creation, and path resolution confined to a root.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <string>
#include <string_view>
#include <utility>

#include "runtime/sys/fd.h"
#include "runtime/sys/result.h"

namespace berth::sys {

Result<std::string> readFile(const std::string& path);
Result<std::string> readFileAt(int dirfd, const std::string& path);

// Writes `data` to `path` crash-safely: temp file in the same directory,
// fsync, rename over the target, fsync the directory. Readers see the old
// or the new content, never a torn one.
Result<void> writeFileAtomic(const std::string& path, std::string_view data, mode_t mode = 0644);

// Like writeFileAtomic but without the fsyncs: readers never see a torn
// file, yet a power cut may lose the write. For volatile runtime state
// (/run), which does not outlive a reboot anyway.
Result<void> writeFileReplace(const std::string& path, std::string_view data, mode_t mode = 0644);

// Writes `data` into an existing file (cgroup and proc knobs) with a single write().
Result<void> writeFile(const std::string& path, std::string_view data);
Result<void> writeFileAt(int dirfd, const std::string& path, std::string_view data);

// mkdir -p. Existing directories are fine; an existing non-directory is an error.
Result<void> mkdirAll(const std::string& path, mode_t mode = 0755);

// Removes a directory tree (rm -rf); missing paths are not an error.
Result<void> removeAll(const std::string& path);

// Writes all of `data` to `fd` (retrying short writes and EINTR); errors
// name `what` ("write <what>: ...").
Result<void> writeAll(int fd, std::string_view data, const std::string& what);

// A pipe: {read end, write end}, close-on-exec unless `flags` says otherwise.
Result<std::pair<UniqueFd, UniqueFd>> makePipe(int flags = O_CLOEXEC);

// Whether `path` is the root of a mount (statx STATX_ATTR_MOUNT_ROOT, not
// following a final symlink); false when it does not exist. ENOTSUP on a
// kernel too old to say (< 5.8).
Result<bool> isMountRoot(const std::string& path);

bool pathExists(const std::string& path);

// Opens `path` inside the directory `rootfd` as if `rootfd` were "/":
// symlinks and ".." can never lead outside it (openat2 RESOLVE_IN_ROOT).
// This is how every path that comes from outside (config, image, user) is
// opened; see CVE-2024-21626 and friends.
Result<UniqueFd> openInRoot(int rootfd, const std::string& path, int flags, mode_t mode = 0);

// Like mkdirAll, but every component is created and resolved inside rootfd.
// Returns an O_PATH|O_DIRECTORY fd of the final directory.
Result<UniqueFd> mkdirAllInRoot(int rootfd, const std::string& path, mode_t mode = 0755);

// Lexically cleans a path: collapses "//", removes "." and resolves ".."
// without ever going above "/" (or the start of a relative path).
std::string cleanPath(std::string_view path);

// Undoes /proc/self/mountinfo's escaping of space, tab, newline and backslash
// (as \ooo octal); anything that is not a full octal escape stays as it is.
std::string unescapeMountinfoField(std::string_view field);

// Joins two paths with exactly one '/' between them.
std::string joinPath(std::string_view a, std::string_view b);

}  // namespace berth::sys
