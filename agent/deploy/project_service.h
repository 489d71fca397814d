// berthd's project calls: deploy (deployer.h over the container engine and
// the image service) and down. One deploy or down per project at a time: a
// per-project mutex, so two `berth deploy` of one project never interleave
// their creates and removes (a second one waits for the first).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "agent/api/connection.h"
#include "agent/deploy/deployer.h"
#include "agent/engine/container_engine.h"
#include "agent/images/image_service.h"

namespace berth::agent::deploy {

class ProjectService {
 public:
  // `networks` may be null (down then leaves networks alone).
  ProjectService(images::ImageService& images, engine::ContainerEngine& engine,
                 net::network::ProjectNetworks* networks, DeployOptions options = {})
      : images_(images), engine_(engine), networks_(networks), options_(options) {}

  api::CallResult<pb::ProjectDeployReply> deploy(const pb::ProjectDeployRequest& request,
                                                 api::StreamWriter<pb::DeployProgress>& progress);
  // Removes the project's containers and its network; with `volumes`, also
  // the volumes labelled berth.project=<name>. NOT_FOUND when nothing of it exists.
  api::CallResult<pb::ProjectDownReply> down(const pb::ProjectDownRequest& request);

 private:
  std::unique_lock<std::mutex> lockProject(const std::string& name);

  images::ImageService& images_;
  engine::ContainerEngine& engine_;
  net::network::ProjectNetworks* networks_;
  DeployOptions options_;
  std::mutex mu_;  // locks_
  std::map<std::string, std::shared_ptr<std::mutex>> locks_;
};

}  // namespace berth::agent::deploy
