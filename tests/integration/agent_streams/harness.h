// A real container for the stream calls: a busybox bundle (hack/mkbundle)
// run by a real berth-shim with berth-runtime's library, under a unique
// state root, container dir and cgroupsPath (/berth-test/<id>), and a
// ContainerAccess that points at it. The whole test binary runs in a private
// mount namespace and a throwaway network namespace (the containers share
// it), so nothing it does reaches the host's. Teardown force-deletes the
// container, waits for the shim, and checks nothing is left.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "agent/shim/launch.h"
#include "tests/unit/agent_streams/fakes.h"
#include "tests/support/process_wait.h"

namespace berth::tests::streams {

using namespace std::chrono_literals;

// ContainerAccess over the one container of a test.
class RealAccess : public FakeAccess {
 public:
  std::function<CallResult<ContainerView>(const std::string&)> launcher;

  CallResult<ContainerView> start(const std::string& idOrName) override { return launcher(idOrName); }
  sys::UniqueFd shimPidfd(const std::string& id) override;
  CallResult<pb::ExitStatus> lastExit(const std::string& id) override;
};

class StreamsTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Writes the bundle with `args` as process.args, and the view (created).
  void writeBundle(const std::vector<std::string>& args, bool tty = false, bool openStdin = false);
  // Launches the shim (creates and starts the container); the view becomes running.
  CallResult<ContainerView> launch();
  void launchOrFail();
  bool waitForExit(std::chrono::milliseconds timeout = 15s) const;
  std::string runtimeBinary() const;

  std::string id_, dir_, bundle_, stateRoot_, ctrDir_, rootfs_;
  bool tty_ = false, openStdin_ = false;
  pid_t shimPid_ = 0;
  RealAccess access_;
};


}  // namespace berth::tests::streams
