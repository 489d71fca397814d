// PROJECT/SERVICE addressing: `berth stop shop/redis` names the container of
// service redis in project shop. A recreate gives the new container another
// name (agent/deploy/deployer.h), so the CLI finds it by its labels
// (berth.project, berth.service), never by a guessed name. Container names
// never hold '/', so anything else is passed on as an id or name.
#pragma once

#include <string>
#include <vector>

#include "agent/api/client.h"

namespace berth::agent::cli {

namespace pb = ::berth::api;
namespace api = ::berth::agent::api;

// ("shop", "redis") for "shop/redis"; nullopt-like empty pair when `ref` has no '/'.
std::pair<std::string, std::string> splitProjectRef(const std::string& ref);

// The container id for "PROJECT/SERVICE" (the running one first); `ref`
// itself otherwise. NOT_FOUND names the project and service.
api::CallResult<std::string> resolveContainerRef(api::Client& client, const std::string& ref);

// Every container of `project` (all states), ordered by service name.
api::CallResult<std::vector<pb::ContainerSummary>> projectContainers(api::Client& client,
                                                                     const std::string& project);

}  // namespace berth::agent::cli
