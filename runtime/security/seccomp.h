// Seccomp for the container process (linux.seccomp): the profile is compiled
// with libseccomp in the parent into a classic-BPF program, and the child
// loads that program with one raw seccomp(2) call, so the child needs no
// libseccomp state and does almost no work between clone and execve.
//
// Load order (runc's rule; see credentials.h for the full sequence): with
// noNewPrivileges=false the filter is loaded before the user switch, while the
// child still has CAP_SYS_ADMIN (which the kernel requires without NNP); with
// noNewPrivileges=true it is the very last step before execve, so the filter
// need not allow the syscalls the runtime itself makes while finishing setup.
#pragma once

#include <linux/filter.h>
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/config/spec.h"
#include "runtime/sys/fd.h"
#include "runtime/sys/result.h"

namespace berth::runtime::security {

struct SeccompProgram {
  std::vector<sock_filter> filter;  // the exported classic-BPF instructions
  unsigned flags = 0;               // SECCOMP_FILTER_FLAG_* from linux.seccomp.flags
  bool usesNotify = false;          // some rule is SCMP_ACT_NOTIFY: load with NEW_LISTENER
  std::string listenerPath;         // linux.seccomp.listenerPath (host path)
  std::string listenerMetadata;     // linux.seccomp.listenerMetadata
};

// Compiles a profile. Bad input is an error naming the field
// ("linux.seccomp.syscalls[3]: unknown action \"SCMP_ACT_FOO\""). Following
// runc and crun, syscall names unknown to this libseccomp are skipped (stock
// profiles name syscalls newer than the host's libseccomp), and a rule whose
// action equals the default action is skipped (libseccomp rejects it).
sys::Result<SeccompProgram> compileSeccomp(const config::Seccomp& profile);

// Loads the program into the calling thread with seccomp(SECCOMP_SET_MODE_FILTER).
// Needs no_new_privs or CAP_SYS_ADMIN. Returns the notification listener fd
// when the program uses SCMP_ACT_NOTIFY, an invalid UniqueFd otherwise.
sys::Result<sys::UniqueFd> loadSeccompInChild(const SeccompProgram& program);

// The runtime-spec "container process state" handed to a seccomp agent.
struct SeccompListenerMessage {
  std::string ociVersion;  // of the runtime-spec the runtime implements
  pid_t pid = 0;           // the container process, as the runtime sees it
  std::string metadata;    // linux.seccomp.listenerMetadata
  std::string stateJson;   // the container's state document (as `state` prints it)
};

// {"ociVersion":..,"fds":["seccompFd"],"pid":..,"metadata":..,"state":{..}}
std::string encodeSeccompListenerMessage(const SeccompListenerMessage& message);

// Connects to the agent's unix socket at listenerPath (a host path, hence
// the parent side) and sends the encoded message with the listener fd as
// SCM_RIGHTS in one sendmsg, as the runtime-spec and runc do.
sys::Result<void> sendSeccompListenerFromParent(const std::string& listenerPath, int listenerFd,
                                                const SeccompListenerMessage& message);

}  // namespace berth::runtime::security
