// The default seccomp profile of berth containers, generated in code.
//
// Same shape and intent as Docker's default profile: deny by default with
// EPERM, allow the syscalls ordinary programs use, and keep out what is not
// namespaced or what the default capability set (no CAP_SYS_ADMIN, no
// CAP_SYS_PTRACE, ...) would not allow anyway (mount, unshare/setns, new
// namespaces through clone, kernel modules, kexec, bpf, perf, keyrings,
// io_uring, clock setting). It does not depend on a profile file on the host
// (containers-common's seccomp.json), so the container's filter does not
// change when a package is upgraded.
#pragma once

#include "runtime/config/spec.h"

namespace berth::agent::engine {

// Built once; the reference stays valid for the life of the process.
const runtime::config::Seccomp& defaultSeccompProfile();

}  // namespace berth::agent::engine
