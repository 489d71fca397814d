// DeployTarget over berthd's own services: the container engine (create,
// start, stop, rm, list by label, inspect, volumes), the image service
// (resolve: the digest, never a pull of what is present) and the
// containers' log files (agent/logs readLogs) for a failure's last lines.
#pragma once

#include "agent/deploy/deploy_target.h"
#include "agent/engine/container_engine.h"
#include "agent/images/image_service.h"

namespace berth::agent::deploy {

class EngineTarget final : public DeployTarget {
 public:
  EngineTarget(images::ImageService& images, engine::ContainerEngine& engine)
      : images_(images), engine_(engine) {}

  api::CallResult<ImageFacts> image(const std::string& reference) override;
  api::CallResult<std::vector<pb::ContainerSummary>> projectContainers(
      const std::string& project) override;
  api::CallResult<void> ensureVolume(const pb::ProjectVolume& volume) override;
  api::CallResult<std::string> create(const pb::ContainerSpec& spec) override;
  api::CallResult<void> start(const std::string& id) override;
  api::CallResult<void> stop(const std::string& id) override;
  api::CallResult<void> remove(const std::string& id) override;
  api::CallResult<pb::ContainerInfo> inspect(const std::string& id) override;
  std::vector<std::string> lastLogLines(const std::string& id, size_t lines) override;
  void sleepFor(std::chrono::milliseconds duration) override;
  std::chrono::steady_clock::time_point now() override;

 private:
  images::ImageService& images_;
  engine::ContainerEngine& engine_;
};

}  // namespace berth::agent::deploy
