// A cache of compiled seccomp programs, so a container start does not pay
// libseccomp's compile cost for a profile it has compiled before: podman's
// default profile for x86_64+x86+x32 costs ~9 ms of CPU to compile and well
// under 0.1 ms to read back (crun caches for the same reason).
//
// An entry is named by a hash of its key but stores the whole key, which is
// compared byte for byte on every hit: a hash collision or a stale, torn or
// foreign file can only cause a recompile, never a wrong filter. The key is
// the profile's full content plus the libseccomp version and API level and
// the kernel release, since libseccomp's output depends on all of them.
// The directory must be writable by the runtime only (e.g. under /run/berth):
// whoever can write it chooses the filters of future containers.
#pragma once

#include <string>

#include "runtime/security/seccomp.h"

namespace berth::runtime::security {

// compileSeccomp, served from `cacheDir` when an entry for the same key
// exists. A cache that cannot be read or written is not an error: the
// profile is compiled as if there were no cache.
sys::Result<SeccompProgram> compileSeccompCached(const config::Seccomp& profile,
                                                 const std::string& cacheDir);

// The cache that prepareProcess (runtime/container/process.h) compiles a
// container's profile through: none by default (compileSeccomp every time).
// A program that owns such a directory sets it once, before it creates a
// container (berth-shim: berthd's <run>/seccomp-cache).
void setProcessSeccompCacheDir(std::string cacheDir);
// compileSeccompCached with that directory; compileSeccomp when none is set.
sys::Result<SeccompProgram> compileSeccompForProcess(const config::Seccomp& profile);

// The exact bytes an entry is keyed by (exposed for tests).
std::string seccompCacheKey(const config::Seccomp& profile);

}  // namespace berth::runtime::security
