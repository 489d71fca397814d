// Resolving a container's user ("uid[:gid]" or "name[:group]", Docker's
// --user and the image's USER) against the image's own /etc/passwd and
// /etc/group.
//
// The files are read inside the container's rootfs with openat2
// RESOLVE_IN_ROOT: an image whose /etc/passwd is a symlink to /etc/shadow (or
// to ../../../etc/shadow) gets the rootfs's file or nothing, never the
// host's. They must be regular files of bounded size, so a FIFO or a
// device planted in the image cannot block or flood the daemon.
//
// Semantics follow runc's libcontainer/user (which Docker and podman use):
// names are looked up in the files; numbers are used as they are, and matched
// in passwd for the primary group and home; supplementary groups come from
// the /etc/group entries that list the user by name.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/sys/result.h"

namespace berth::agent::engine {

struct PasswdEntry {
  std::string name;
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string home;
};

struct GroupEntry {
  std::string name;
  uint32_t gid = 0;
  std::vector<std::string> members;
};

struct ResolvedUser {
  uint32_t uid = 0;
  uint32_t gid = 0;
  // The primary gid first, then the groups listing the user, without duplicates
  // (what Docker puts in process.user.additionalGids).
  std::vector<uint32_t> additionalGids;
  std::string home = "/";  // from passwd, "/" when the user has no entry
};

// Lines that do not parse (comments, blanks, bad numbers, NIS "+" lines)
// are skipped, as libc does.
std::vector<PasswdEntry> parsePasswd(std::string_view text);
std::vector<GroupEntry> parseGroup(std::string_view text);

// Resolves `spec` with the files' contents (nullopt: the file does not
// exist). An empty spec means root. Errors name the user or group:
//   "unable to find user app: no matching entries in passwd file".
[[nodiscard]] sys::Result<ResolvedUser> resolveUser(std::string_view spec,
                                                    const std::optional<std::string>& passwd,
                                                    const std::optional<std::string>& group);

// Reads /etc/passwd and /etc/group inside `rootfsDir` and resolves `spec`.
[[nodiscard]] sys::Result<ResolvedUser> resolveUserInRootfs(std::string_view spec,
                                                            const std::string& rootfsDir);

// Reads `path` inside the root directory `rootfd` (RESOLVE_IN_ROOT); nullopt
// when it does not exist. Anything but a regular file of at most `maxBytes`
// is an error.
[[nodiscard]] sys::Result<std::optional<std::string>> readRegularFileInRoot(int rootfd,
                                                                            const std::string& path,
                                                                            size_t maxBytes);

}  // namespace berth::agent::engine
