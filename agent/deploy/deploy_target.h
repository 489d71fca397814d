// What a deploy asks of the host, as an interface: the seam between the
// reconcile logic (deployer.h, unit-tested with a fake) and berthd's
// container engine and image service (engine_target.h). The deployer calls
// it from one thread per service of a start level at once: implementations
// must be thread-safe (the engine is; a test fake needs a lock).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "agent/api/berth.pb.h"
#include "agent/api/status.h"

namespace berth::agent::deploy {

namespace pb = ::berth::api;

// What a deploy needs of an image.
struct ImageFacts {
  std::string digest;                     // the manifest digest, "sha256:..."
  std::vector<std::string> exposedPorts;  // its config's ExposedPorts: "80/tcp", "53/udp"
};

class DeployTarget {
 public:
  virtual ~DeployTarget() = default;

  // The image `reference` names now. Never pulls what is present (an
  // unchanged redeploy must not touch a registry).
  virtual api::CallResult<ImageFacts> image(const std::string& reference) = 0;
  // Every container labelled berth.project=<project>, running or not.
  virtual api::CallResult<std::vector<pb::ContainerSummary>> projectContainers(
      const std::string& project) = 0;
  // Creates the volume unless it exists.
  virtual api::CallResult<void> ensureVolume(const pb::ProjectVolume& volume) = 0;

  virtual api::CallResult<std::string> create(const pb::ContainerSpec& spec) = 0;  // its id
  virtual api::CallResult<void> start(const std::string& id) = 0;
  virtual api::CallResult<void> stop(const std::string& id) = 0;
  virtual api::CallResult<void> remove(const std::string& id) = 0;  // forced
  virtual api::CallResult<pb::ContainerInfo> inspect(const std::string& id) = 0;
  // Its last `lines` log lines (stdout and stderr), oldest first; empty on error.
  virtual std::vector<std::string> lastLogLines(const std::string& id, size_t lines) = 0;

  // Waiting between polls (a fake clock in tests).
  virtual void sleepFor(std::chrono::milliseconds duration) = 0;
  virtual std::chrono::steady_clock::time_point now() = 0;
};

}  // namespace berth::agent::deploy
