// The CLI's values in and out: sizes ("512m"), CPU counts ("1.5"), durations
// ("1h30m"), points in time for logs --since/--until, restart policies, and
// the human forms of sizes and ages shown in tables ("74.8MB", "3 minutes").
//
// Pure functions of their input (the current time is a parameter), so the
// parsing rules are unit-tested exactly.
#pragma once

#include <cstdint>
#include <string>

#include "agent/api/status.h"
#include "runtime/sys/result.h"

namespace berth::agent::cli {

namespace pb = ::berth::api;

// docker's RAMInBytes: "1024", "100k", "512m", "1.5G", "2gb", "1GiB"; binary
// units (1k = 1024). Negative, empty or unknown units are errors.
sys::Result<int64_t> parseSize(const std::string& text);

// "1.5" -> 1500000000 nano CPUs, exact (no floating point); at most 9 decimals.
sys::Result<uint64_t> parseNanoCpus(const std::string& text);

// Go's time.ParseDuration: "10m", "1h30m", "1.5s", "500ms", "2us", "7ns".
sys::Result<int64_t> parseDurationNs(const std::string& text);

// logs --since/--until: RFC 3339 ("2024-05-01T12:00:00Z", fraction and
// offset allowed, "2024-05-01" alone), unix seconds ("1700000000",
// "1700000000.5"), or a duration before `nowNs` ("10m").
sys::Result<int64_t> parseTimeArg(const std::string& text, int64_t nowNs);

// A non-negative integer that fits `max` ("--pids-limit" allows -1 apart).
sys::Result<int64_t> parseInteger(const std::string& text, int64_t min, int64_t max);

// "no", "always", "unless-stopped", "on-failure", "on-failure:N".
sys::Result<pb::RestartPolicy> parseRestartPolicy(const std::string& text);
std::string restartPolicyText(const pb::RestartPolicy& policy);

// docker's HumanSize (decimal units, 4 significant digits): "74.8MB", "0B".
std::string formatSizeDecimal(uint64_t bytes);
// docker's BytesSize (binary units): "1.5MiB", "512MiB".
std::string formatSizeBinary(uint64_t bytes);

// docker's HumanDuration: "Less than a second", "About a minute", "3 hours".
std::string humanDuration(int64_t ns);
// "3 hours ago"; "N/A" for an unknown (0) time.
std::string humanAgo(int64_t timeNs, int64_t nowNs);

// "sha256:0123456789abcdef..." -> "0123456789ab".
std::string shortId(const std::string& id);

// RFC 3339 with nanoseconds in UTC (logs/formatter.h), "" for 0.
std::string formatTime(int64_t timeNs);

}  // namespace berth::agent::cli
