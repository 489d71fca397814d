// `exec`: a new process inside a running container — its namespaces, its
// cgroup, its root — set up exactly like the container's own process
// (capabilities, rlimits, user, seccomp, no_new_privs).
#pragma once

#include <sys/types.h>

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
};

struct ExecStarted {
  pid_t pid;
  sys::UniqueFd pidfd;
};

// The container's saved config (for `exec` to start from its process).
sys::Result<config::Spec> loadContainerSpec(const std::string& stateRoot, const std::string& id);

// Returns once the process has been exec'ed (or failed to be).
sys::Result<ExecStarted> execInContainer(const ExecOptions& options);

}  // namespace berth::runtime::container
