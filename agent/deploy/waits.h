// Waiting on containers during a deploy: a new container until it is up,
// a dependency until its depends_on condition holds. Polls inspect through
// the DeployTarget, bounded by DeployOptions::waitTimeout.
#pragma once

#include <string>

#include "agent/deploy/deployer.h"

namespace berth::agent::deploy {

// OK once `id` is up (deployer.h); else why not ("exited with code 1",
// "unhealthy: <last check output>", "not healthy after 120 s"). With
// `awaitHealth`, a container with a health check is up only once healthy
// (a recreate: the old container comes back if the new one never is);
// without, it is up once it has kept running for DeployOptions::settle —
// health is waited for where a dependent asks for it (waitCondition), as
// Compose does, not before every next start.
api::CallResult<void> waitUp(DeployTarget& target, const std::string& id,
                             const DeployOptions& options, bool awaitHealth);

// OK once the container `id` of service `service` meets `condition`.
api::CallResult<void> waitCondition(DeployTarget& target, const std::string& service,
                                    const std::string& id, pb::DependCondition condition,
                                    const DeployOptions& options);

// "service_healthy" ... as in the project file.
std::string conditionName(pb::DependCondition condition);

}  // namespace berth::agent::deploy
