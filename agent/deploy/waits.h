// Waiting on containers during a deploy: a new container until it is up,
// a dependency until its depends_on condition holds. Polls inspect through
// the DeployTarget, bounded by DeployOptions::waitTimeout.
#pragma once

#include <string>

#include "agent/deploy/deployer.h"

namespace berth::agent::deploy {

// OK once `id` is up (deployer.h); else why not ("exited with code 1",
// "unhealthy: <last check output>", "not healthy after 120 s").
api::CallResult<void> waitUp(DeployTarget& target, const std::string& id,
                             const DeployOptions& options);

// OK once the container `id` of service `service` meets `condition`.
api::CallResult<void> waitCondition(DeployTarget& target, const std::string& service,
                                    const std::string& id, pb::DependCondition condition,
                                    const DeployOptions& options);

// "service_healthy" ... as in the project file.
std::string conditionName(pb::DependCondition condition);

}  // namespace berth::agent::deploy
