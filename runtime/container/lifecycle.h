// The lifecycle commands on an existing container: state, kill, delete,
// pause/resume, ps, list, update.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "runtime/config/spec.h"
#include "runtime/container/state.h"
#include "runtime/sys/result.h"

namespace berth::runtime::container {

struct ContainerInfo {
  State state;
  Status status;
};

sys::Result<ContainerInfo> inspectContainer(const std::string& stateRoot, const std::string& id);
// Every container under the root; unreadable entries are skipped.
sys::Result<std::vector<ContainerInfo>> listContainers(const std::string& stateRoot);

sys::Result<void> killContainer(const std::string& stateRoot, const std::string& id, int signal, bool all);

// Removes a stopped (or just created) container: its cgroup, state and the
// poststop hooks. With force, a running one is killed first. A failing
// poststop hook is a warning, appended to *warnings.
sys::Result<void> deleteContainer(const std::string& stateRoot, const std::string& id, bool force,
                                  std::string* warnings);

sys::Result<void> pauseContainer(const std::string& stateRoot, const std::string& id);
sys::Result<void> resumeContainer(const std::string& stateRoot, const std::string& id);

sys::Result<std::vector<pid_t>> containerPids(const std::string& stateRoot, const std::string& id);

sys::Result<void> updateContainer(const std::string& stateRoot, const std::string& id,
                                  const config::Resources& resources);

}  // namespace berth::runtime::container
