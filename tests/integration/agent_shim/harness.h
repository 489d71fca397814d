// Test harness for berth-shim: a busybox bundle per test, a unique container
// id, state root, container dir and cgroupsPath (/berth-test/<id>), and a
// teardown that kills what is left and deletes the container through the
// runtime library, then checks that nothing (process, cgroup, state) stays.
//
// The shim runs as the berth-shim binary when the build has one
// (BERTH_SHIM, <build>/agent/berth-shim or <build>/berth-shim), otherwise
// through its entry function in a forked child; both go through the same
// launchShim() berthd uses (BERTH_SHIM_INPROCESS=1 forces the entry function).
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "agent/logs/record.h"
#include "agent/shim/launch.h"
#include "agent/shim/options.h"
#include "tests/support/process_wait.h"

namespace berth::tests::shim {

using namespace std::chrono_literals;

struct LoggedLine {
  agent::logs::Stream stream;
  std::string text;
  int64_t timeNs;
};

class ShimTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Writes the bundle's config.json: `args` as process.args.
  void writeBundle(const std::vector<std::string>& args, bool terminal = false);
  agent::shim::ShimOptions shimOptions() const;
  agent::shim::LaunchOptions launchOptions() const;
  sys::Result<agent::shim::LaunchReport> launch(bool tty = false, bool openStdin = false);

  // The log's lines in order (agent/logs reader).
  std::vector<LoggedLine> logLines() const;
  bool waitForExitFile(std::chrono::milliseconds timeout = 15s) const;

  std::string id_, dir_, bundle_, stateRoot_, ctrDir_;
  pid_t shimPid_ = 0;
};

bool isRoot();
// Polls `done` every 20ms until it returns true or `timeout` passes.
// "VmRSS" / "VmHWM" of a process in KiB, -1 when unknown.
long statusKib(pid_t pid, const char* field);
// Host pids whose cwd is `dir`.
std::vector<pid_t> pidsWithCwd(const std::string& dir);

}  // namespace berth::tests::shim
