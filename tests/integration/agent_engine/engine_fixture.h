// Test fixture for the container engine (root): a real ContainerEngine and
// ImageService on a temporary data root and run dir with a unique cgroup
// parent, the berth-shim of this build tree, and the busybox image of
// hack/mkimage imported (plus a derived image whose config sets Env,
// WorkingDir and User).
//
// The test process first moves into its own mount namespace (/ made
// private, so the overlay mounts never reach the host) and its own network
// namespace. TearDown removes every container (killing what runs), then
// sweeps the runtime state, mounts and cgroup parent a failed test may have
// left, and checks that nothing stays.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/engine/container_engine.h"
#include "agent/images/image_service.h"
#include "tests/support/process_wait.h"

namespace berth::tests::engine {

using namespace std::chrono_literals;
namespace pb = ::berth::api;
namespace eng = ::berth::agent::engine;

struct LoggedLine {
  int stream;  // 1 stdout, 2 stderr
  std::string text;
  int64_t timeNs;
};

class EngineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite();
  void SetUp() override;
  void TearDown() override;

  // A new engine on the same roots, as berthd restarted after a SIGKILL:
  // the old object is dropped without shutdown() first.
  void restartEngine();
  eng::EngineOptions engineOptions() const;

  pb::ContainerSpec spec(const std::vector<std::string>& cmd,
                         pb::RestartPolicyKind restart = pb::RESTART_NO) const;
  // Runs and returns the id; fails the test on error.
  std::string runContainer(const pb::ContainerSpec& spec);
  pb::ContainerInfo inspect(const std::string& id);
  std::vector<LoggedLine> logLines(const std::string& id) const;
  std::string logText(const std::string& id) const;  // stdout lines joined with '\n'
  // Waits until the container has exited (and no restart is pending).
  bool waitExited(const std::string& id, std::chrono::milliseconds timeout = 20s);
  std::string containerDir(const std::string& id) const;

  std::string tmp_, cgroupParent_;
  eng::DaemonPaths paths_;
  std::unique_ptr<agent::images::ImageService> images_;
  std::unique_ptr<eng::ContainerEngine> engine_;
  std::string image_ = "berth-busybox:latest";
  std::string derivedImage_ = "engine-test-derived:1";
  eng::EngineOptions options_;
};

// The value of a cgroup file of the container (v1 or v2 layout), trimmed.
std::string cgroupFile(const std::string& cgroupsPath, const std::string& id,
                       const std::string& controller, const std::string& file);

}  // namespace berth::tests::engine
