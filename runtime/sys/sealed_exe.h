// Protection against CVE-2019-5736: a process inside a container that can
// reach a runtime process through /proc/<pid>/exe must not be able to
// overwrite the runtime binary on the host.
//
// A berth-runtime process is only visible from inside a container when it
// joins an existing pid namespace: `exec`, or `create` with a pid namespace
// given by path. Those re-execute themselves from a sealed, read-only memfd
// copy first, so /proc/<pid>/exe points at that copy, never at the host
// file. A plain `create`/`run` makes a new pid namespace in which nothing
// but our own init exists until it execs the user's program, so it skips
// the copy and its cost.
#pragma once

#include "runtime/sys/result.h"

namespace berth::sys {

// Remembers the command line for a later re-exec; call first in main().
void rememberCommandLine(int argc, char** argv);

// True when this process runs from a sealed memfd copy of itself.
bool runningFromSealedCopy();

// Re-executes this process from a sealed memfd copy of its binary with the
// same command line. Returns only on failure; a no-op when already sealed.
Result<void> reexecFromSealedCopy();

}  // namespace berth::sys
