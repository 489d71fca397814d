// How a container's init ended, as the shim records it in <dir>/exit.json
// for berthd (restart policy, `berth ps`, `berth inspect`):
//
//   {"exitCode":3,"signal":0,"finishedAt":"2024-05-01T10:00:00.123456789Z"}
//
// exitCode is the shell's view (128 + signal when killed), so a script sees
// the same number `sh` would report; signal is 0 unless a signal killed it.
// The file replaces any old one by a rename (never torn), after every log
// record is written, so its presence means "logs are complete". No fsync:
// page-cache state survives any process's death, and a power cut leaves no
// container whose exit matters.
#pragma once

#include <cstdint>
#include <string>

#include "runtime/sys/result.h"

namespace berth::agent::shim {

inline constexpr const char* kExitFileName = "exit.json";

struct ExitStatus {
  int exitCode = 0;
  int signal = 0;
  int64_t finishedAtNs = 0;  // unix time, nanoseconds

  bool operator==(const ExitStatus&) const = default;
};

// From a waitpid() status word.
ExitStatus exitStatusFromWait(int waitStatus, int64_t finishedAtNs);

// RFC 3339 in UTC with nanoseconds: "2024-05-01T10:00:00.123456789Z".
std::string formatRfc3339Nanos(int64_t unixNs);
sys::Result<int64_t> parseRfc3339Nanos(const std::string& text);

std::string encodeExitJson(const ExitStatus& status);
sys::Result<ExitStatus> parseExitJson(const std::string& text);

// <dir>/exit.json, crash-safe; and reading it back.
sys::Result<void> writeExitFile(const std::string& dir, const ExitStatus& status);
sys::Result<ExitStatus> readExitFile(const std::string& dir);

int64_t realtimeNowNs();

}  // namespace berth::agent::shim
