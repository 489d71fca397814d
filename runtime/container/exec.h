// `exec`: a new process inside a running container — its namespaces, its
// cgroup, its root — set up exactly like the container's own process
// (capabilities, rlimits, user, seccomp, no_new_privs).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "runtime/config/spec.h"
#include "runtime/sys/fd.h"
#include "runtime/sys/result.h"

namespace berth::runtime::container {

struct ExecOptions {
  std::string stateRoot;
  std::string id;
  config::Process process;
  std::string consoleSocket;
  int consoleSocketFd = -1;  // an already connected console socket (foreground tty)
  std::string pidFile;
  int preserveFds = 0;
  // The container's saved config when the caller already loaded it
  // (loadContainerSpec); read from the state dir otherwise.
  std::optional<config::Spec> spec;
};

struct ExecStarted {
  pid_t pid;
  sys::UniqueFd pidfd;
};

// The container's saved config (for `exec` to start from its process).
sys::Result<config::Spec> loadContainerSpec(const std::string& stateRoot, const std::string& id);

// Returns once the process has been exec'ed (or failed to be).
sys::Result<ExecStarted> execInContainer(const ExecOptions& options);

// A shell's exit codes for a command it could not run, which `exec` exits
// with as docker exec does: not found (no such file, nothing in $PATH), or
// found but not executable (permissions, not a regular file, bad format).
inline constexpr int kExitCommandNotFound = 127;
inline constexpr int kExitCommandNotExecutable = 126;

// kExitCommandNotFound or kExitCommandNotExecutable when execInContainer
// failed because the command could not be run; 0 for any other failure.
int commandFailureExitCode(const sys::Error& error);

}  // namespace berth::runtime::container
