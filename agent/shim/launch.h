// Starting a berth-shim and learning whether its container started: the
// launcher side (berthd) and the one-line report the shim sends back.
//
// The launcher passes the write end of a pipe as --report-fd. The shim
// detaches (double fork, setsid), creates and starts the container, writes
// exactly one line and closes the pipe:
//
//   started <initPid> <shimPid>\n
//   error <errno> <message>\n        (errno 0: not a system error)
//
// EOF without a line means the shim died before it could report.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <string_view>

#include "agent/shim/options.h"
#include "runtime/sys/result.h"

namespace berth::agent::shim {

struct LaunchReport {
  pid_t initPid = 0;
  pid_t shimPid = 0;
};

std::string encodeStartedReport(const LaunchReport& report);
std::string encodeErrorReport(const sys::Error& error);
// A started report, or the error the shim reported (with its errno).
sys::Result<LaunchReport> parseLaunchReport(std::string_view line);

// Writes a report line to `fd` (best effort: the launcher may be gone).
void sendReport(int fd, std::string_view line);

struct LaunchOptions {
  // The berth-shim binary to exec. Empty: fork and call `entry` instead
  // (tests of the library, before the binary exists).
  std::string binary;
  int (*entry)(int argc, char** argv) = nullptr;
  std::chrono::milliseconds timeout{60000};
};

// Starts a shim for `options` (its reportFd is chosen here) and waits for
// its report. On success the shim runs detached: not our child, not in our
// session or process group.
sys::Result<LaunchReport> launchShim(const LaunchOptions& launch, ShimOptions options);

}  // namespace berth::agent::shim
