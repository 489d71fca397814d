// berthd's command line:
//
//   berthd [--root DIR] [--run DIR] [--socket PATH] [--log-level LEVEL]
//          [--cgroup-parent NAME] [--socket-group NAME]
//          [--insecure-registry HOST[:PORT]]... [--registry-ca FILE]
//          [--auth-file FILE] [--restart-backoff-cap DURATION]
//          [--log-max-size SIZE] [--log-max-files N]
//
// Parsing is pure (no system calls) so it is unit-tested; main.cc turns the
// result into paths and services.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "agent/daemon/log.h"
#include "runtime/sys/result.h"

namespace berth::agent::daemon {

struct DaemonOptions {
  std::string dataRoot = "/var/lib/berth";
  std::string runRoot = "/run/berth";
  std::string socketPath;  // empty: <runRoot>/berthd.sock
  std::string socketGroup = "berth";
  LogLevel logLevel = LogLevel::kInfo;
  std::string cgroupParent = "berth";
  std::string networkPool = "10.89.0.0/16";  // project subnets are carved from it
  int networkPrefix = 23;                     // ... in pieces of this prefix length
  std::vector<std::string> insecureRegistries;
  std::string registryCa;
  std::string authFile;
  std::chrono::milliseconds restartBackoffCap{30000};
  uint64_t logMaxSize = 10 * 1024 * 1024;  // per file
  unsigned logMaxFiles = 5;
  bool help = false;
  bool version = false;
};

// args excludes argv[0]; "--flag VALUE" and "--flag=VALUE" both work.
[[nodiscard]] sys::Result<DaemonOptions> parseDaemonArgs(const std::vector<std::string>& args);

// "250ms", "30s", "2m", "1h", or a plain number of seconds.
[[nodiscard]] sys::Result<std::chrono::milliseconds> parseDuration(const std::string& text);

// "10m", "512k", "1g" (binary units) or a plain number of bytes.
[[nodiscard]] sys::Result<uint64_t> parseByteSize(const std::string& text);

const char* daemonUsage();

}  // namespace berth::agent::daemon
