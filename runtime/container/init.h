// The container's init: what the cloned child does between clone3 and the
// execve of the user's process. Everything it needs was prepared by the
// parent (create.cc) and is reached through InitContext; the child reports
// every failure through the handshake channel and never prints.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "runtime/config/spec.h"
#include "runtime/container/cgroups.h"
#include "runtime/container/handshake.h"
#include "runtime/container/process.h"
#include "runtime/linux/rootfs.h"

namespace berth::runtime::container {

struct NamespaceJoin {
  int nstype;  // CLONE_NEW* flag
  int fd;      // open fd of the namespace to join
};

struct InitContext {
  const config::Spec* spec = nullptr;
  PreparedProcess* process = nullptr;
  linux::RootfsContext rootfs;
  Channel* channel = nullptr;  // the child's end
  int execFifo = -1;           // opened O_RDWR: read() blocks until `start` writes
  int consoleSocket = -1;      // with process.terminal
  int preserveFds = 0;         // fds 3 .. 3+N-1 pass to the process
  std::vector<NamespaceJoin> joins;  // setns order: user first
  // v1 hierarchies the child joins itself, first thing (cgroups.h); the
  // cgroup2 dir, if any, was joined at clone time.
  const std::vector<TasksFile>* cgroupTasks = nullptr;
  bool unshareCgroupns = false;      // v1: after joining our cgroups
  bool newUserns = false;
  bool newUts = false;
  bool newKeyring = true;
  std::string hookStateJson;  // state for createContainer/startContainer hooks (pid filled by kGo)
};

// Never returns: ends in execve of the user's process or _exit.
[[noreturn]] void runContainerInit(InitContext& ctx);

}  // namespace berth::runtime::container
