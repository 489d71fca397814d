// A container process prepared in the runtime (parent) and finalized in the
// child just before execve. Shared by the container's init and by `exec`.
//
// Prepare (parent): parse capabilities and rlimits, compile seccomp to BPF —
// everything that allocates or can fail on bad input, before any clone.
// Finalize (child): apply them in the order the kernel requires.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "runtime/config/spec.h"
#include "runtime/security/capabilities.h"
#include "runtime/security/rlimits.h"
#include "runtime/security/seccomp.h"
#include "runtime/sys/result.h"

namespace berth::runtime::container {

struct PreparedProcess {
  config::Process process;
  security::CapabilitySets caps{};
  std::vector<security::PreparedRlimit> rlimits;
  std::optional<security::SeccompProgram> seccomp;
  bool setgroupsAllowed = true;  // false in a user namespace with setgroups "deny"
  // argv/envp as C arrays, built in the parent so the child allocates nothing.
  std::vector<char*> argv;
  std::vector<char*> envp;
};

sys::Result<PreparedProcess> prepareProcess(const config::Process& process,
                                            const std::optional<config::Seccomp>& seccomp);

// Child side, in this order:
//   resetSignalsInChild        dispositions and mask back to defaults (the
//                              runtime ignores SIGPIPE; a container must not)
//   findExecutableInChild      args[0] looked up in the container's PATH, so a
//                              missing binary fails `create`, not `start`
//   finalizeProcessInChild     rlimits -> seccomp (without NNP) -> user and
//                              capabilities -> no_new_privs
//   execProcessInChild         seccomp (with NNP, as the very last step) -> execve
void resetSignalsInChild();
sys::Result<std::string> findExecutableInChild(const PreparedProcess& p);
sys::Result<void> finalizeProcessInChild(const PreparedProcess& p);
sys::Result<void> execProcessInChild(const PreparedProcess& p, const std::string& path);

// Marks every fd >= `first` close-on-exec, except those in `keep`, so no
// runtime fd reaches the container's process (CVE-2024-21626).
void closeFdsOnExecInChild(int first, std::initializer_list<int> keep = {});

// chdir to the process cwd inside the (already pivoted) root, refusing a cwd
// that resolves outside it.
sys::Result<void> changeToCwdInChild(const std::string& cwd);

}  // namespace berth::runtime::container
