// Protection against CVE-2019-5736: a process inside a container that can
// reach a runtime process through /proc/<pid>/exe must not be able to
// overwrite the runtime binary on the host, neither while the runtime runs
// nor later through an O_PATH fd it kept.
//
// A berth-runtime process is only visible from inside a container when it
// joins an existing pid namespace: `exec`, or `create` with a pid namespace
// given by path. Those re-execute themselves first from a view of their
// binary that refuses writes, so /proc/<pid>/exe never leads to a writable
// host file:
//   1. a read-only bind mount of the binary that is attached to no mount
//      namespace (open_tree + mount_setattr, then the tree fd is closed so
//      the mount is dissolved): every write through it fails with EROFS, and
//      as no namespace holds it nobody can remount it writable. Costs a few
//      system calls, like runc >= 1.1.12's and crun's read-only bind mount,
//      but leaves no mount anywhere, even for an instant.
//   2. when that is refused (no CAP_SYS_ADMIN over our mount namespace, a
//      kernel without the new mount API): a sealed memfd copy of the binary
//      (F_SEAL_WRITE: writes fail with EPERM). Costs a copy of the binary.
// A plain `create`/`run` makes a new pid namespace in which nothing but our
// own init exists until it execs the user's program, so it skips this.
#pragma once

#include <string>

#include "runtime/sys/fd.h"
#include "runtime/sys/result.h"

namespace berth::sys {

// Remembers the command line for a later re-exec; call first in main().
void rememberCommandLine(int argc, char** argv);

// True when this process runs from a view of its binary that refuses
// writes: a sealed memfd, or a read-only mount attached to no namespace.
bool runningFromSealedCopy();

// Re-executes this process from such a view of its binary (see above) with
// the same command line. Returns only on failure; a no-op when already
// running from one. fds without close-on-exec survive, as with any execve.
Result<void> reexecFromSealedCopy();

// An O_PATH fd of the executable at `path` on a read-only mount attached to
// no namespace (way 1 above), for execveat(fd, "", ..., AT_EMPTY_PATH): a
// berth-runtime started from it runs protected from its first instruction
// and skips its own re-exec (what berthd does for every exec). Needs
// CAP_SYS_ADMIN over our mount namespace. Only for binaries: a script run
// this way would find its /dev/fd/N path closed.
Result<UniqueFd> openWriteProtectedExecutable(const std::string& path);

}  // namespace berth::sys
