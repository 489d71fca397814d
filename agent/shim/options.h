// The command line of berth-shim, the per-container supervisor that berthd
// launches (posix_spawn) once per container start:
//
//   berth-shim --id ID --bundle DIR --state-root DIR --dir DIR
//              [--tty] [--stdin] [--seccomp-cache DIR] [--report-fd N]
//              [--log-max-size BYTES] [--log-max-files N]
//
//   --id          the container id (runtime library naming rules)
//   --bundle      the OCI bundle (config.json + rootfs)
//   --state-root  the runtime state root (berth-runtime --root)
//   --dir         the container's own directory: log files, exit.json,
//                 shim.pid, attach.sock live here
//   --tty         the container gets a pty (process.terminal must be true)
//   --stdin       keep the container's stdin open for attach clients
//   --seccomp-cache  a directory (root's only) of compiled seccomp filters
//                 (runtime/security/seccomp_cache.h): a start with a profile
//                 compiled before skips libseccomp (~7 ms of CPU)
//   --report-fd   inherited fd (pipe) on which the shim writes its launch
//                 report (launch_report.h) and then closes
//   --log-max-size/--log-max-files  log rotation (defaults below)
//
// Parsing is strict and pure (no system calls) so it is unit-tested; the
// launcher builds the same argv with toArgv().
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/sys/result.h"

namespace berth::agent::shim {

inline constexpr uint64_t kDefaultLogMaxSize = 10 * 1024 * 1024;
inline constexpr unsigned kDefaultLogMaxFiles = 5;

struct ShimOptions {
  std::string id;
  std::string bundle;
  std::string stateRoot;
  std::string dir;
  bool tty = false;
  bool openStdin = false;
  std::string seccompCacheDir;  // empty: compile every time
  int reportFd = -1;
  uint64_t logMaxSize = kDefaultLogMaxSize;
  unsigned logMaxFiles = kDefaultLogMaxFiles;
};

// args excludes argv[0]. Every option takes its value as the next argument
// or after '='; unknown options and missing required ones are errors.
sys::Result<ShimOptions> parseShimArgs(const std::vector<std::string>& args);

// The argument list (without argv[0]) that parseShimArgs() reads back into
// `options`.
std::vector<std::string> toArgv(const ShimOptions& options);

}  // namespace berth::agent::shim
