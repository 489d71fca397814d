// Reconcile planning, pure: given the project as the file describes it and
// the containers the daemon has for it, which containers to keep, create,
// recreate or remove, and in which order services start. The deployer
// executes the plan; nothing here touches the host.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "agent/project/model.h"

namespace berth::agent::project {

enum class ContainerState { kRunning, kExited, kCreated };

// A container the daemon has with berth.project=<project>.
struct CurrentContainer {
  std::string service;   // its berth.service label
  std::string id;
  std::string specHash;  // its berth.spec-hash label
  ContainerState state = ContainerState::kCreated;
};

enum class Action {
  kKeep,      // the container matches its definition
  kCreate,    // the service has no container
  kRecreate,  // its definition changed (spec hash differs): replace it
  kRemove,    // the file no longer names its service, or it is a duplicate
};

struct Step {
  std::string service;
  Action action = Action::kKeep;
  std::string containerId;  // the existing container (keep, recreate, remove); "" for create
  std::string specHash;     // the desired hash (keep, create, recreate)
  // keep only: the container exists but does not run. Whether to start it is
  // the deployer's call (a restart: no one-shot that completed stays put).
  bool notRunning = false;
};

struct Plan {
  // The project's services in file order (main first), then removals.
  std::vector<Step> steps;
  // Every service of the project, grouped by start order: a service's
  // dependencies are all in earlier levels, and the services of one level
  // can start in parallel. What to wait for is each Dependency's condition.
  std::vector<std::vector<std::string>> levels;

  // True when every step is a keep (an unchanged redeploy).
  bool changesNothing() const;
};

// `current` may hold several containers of one service (a deploy that was
// interrupted): the best match is kept (the right hash, running first), the
// rest removed. The desired hashes are containerSpecOf's.
Plan planDeploy(const Project& project, const std::vector<CurrentContainer>& current);

// The same with the desired hash of each service given (service -> hash): a
// deployer that pins image digests (container_spec_of.h) hashes the pinned
// specs itself.
Plan planDeploy(const Project& project, const std::map<std::string, std::string>& desiredHashes,
                const std::vector<CurrentContainer>& current);

// Levels of start order from depends_on alone. A cycle (rejected by
// parseProject, so only for hand-built projects) ends up in one last level.
std::vector<std::vector<std::string>> startLevels(const Project& project);

}  // namespace berth::agent::project
