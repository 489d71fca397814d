// The deploy executor: makes the host match a ProjectDeployRequest.
//
//   pin images (each reference's manifest digest becomes the
//   berth.image-digest label, the spec hash is stamped again, so a new image
//   behind the same tag recreates) -> read the project's containers ->
//   planDeploy (agent/project/plan.h) -> an unchanged project returns here,
//   touching nothing -> volumes -> remove what the file no longer names ->
//   per start level, in parallel within a level: wait for each dependency's
//   condition, then create / recreate / start the service and wait until it
//   is up.
//
// main's port: when the file gives none (port 0 in the request), the
// lowest TCP port its image exposes. When no other service is the public
// entrance, main is: it is published (the request's publish_port, else that
// port) before the spec hash is stamped, so an unchanged image keeps the
// container; an image exposing no TCP port is then an error naming the file
// and main, before anything changes.
//
// "Up": running, or exited 0 (a one-shot); whether each container started
// by the deploy is still running after a short settle time (so a process
// that dies at once is caught) is checked once, at the end, rather than at
// every start level. Health is waited for where it is asked
// (a dependent's service_healthy), as Compose does, and before a recreated
// container replaces its predecessor for good. A failure names the
// service, why, and its last log lines; the services of later levels are
// not touched.
//
// Recreate keeps what runs serving when the new version fails: the engine
// cannot rename a container, so the new one is created under another name
// ("<project>-<service>" and "<project>-<service>-<hash8>" alternate; users
// address it as PROJECT/SERVICE, which the CLI resolves by label). Create
// first (a bad image or mount fails here, the old one untouched), then stop
// the old one (both cannot hold the entrance's host port or the DNS names
// at once), start the new one and wait until it is up; on failure the new
// one is removed and the old one started again; on success the old one is
// removed. The service is down between the old one's stop and the new one's
// start.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "agent/deploy/deploy_target.h"
#include "agent/project/model.h"

namespace berth::agent::deploy {

struct DeployOptions {
  // A new container must stay running this long to count as started.
  std::chrono::milliseconds settle{250};
  std::chrono::milliseconds poll{50};
  // Bound on waiting for a dependency's condition or a health check.
  std::chrono::milliseconds waitTimeout{120000};
  size_t logLines = 10;
};

// Called from several threads (never at once): one progress line.
using ProgressFn = std::function<void(const std::string& service, const std::string& message)>;

// The project model the planner needs (names and depends_on) from a request.
project::Project projectOf(const pb::ProjectDeployRequest& request);

// Checks a request before anything happens: a name, unique service names,
// dependencies on services of the request, specs labelled for the project.
api::CallResult<void> validateRequest(const pb::ProjectDeployRequest& request);

api::CallResult<pb::ProjectDeployReply> runDeploy(DeployTarget& target,
                                                  const pb::ProjectDeployRequest& request,
                                                  const ProgressFn& progress,
                                                  const DeployOptions& options = {});

// The lowest TCP port of an image's ExposedPorts ("8080/tcp", "5000" — no
// protocol means tcp); nullopt when it exposes none.
std::optional<uint16_t> lowestTcpPort(const std::vector<std::string>& exposedPorts);

// The name of a recreated service's new container, given its old one's.
std::string replacementName(const std::string& canonical, const std::string& oldName,
                            const std::string& specHash);

}  // namespace berth::agent::deploy
