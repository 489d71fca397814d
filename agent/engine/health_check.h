// Container health checks as Docker has them, the pure part: which check a
// container gets (its spec's HEALTHCHECK over its image's, Docker's
// defaults for what neither sets), what runs in the container, and the
// state machine a series of check results drives (health_monitor.h runs
// the checks). No system calls, so every rule is unit-tested without root.
//
// The state machine (Docker's): a container with a check starts
// "starting"; a passing check makes it "healthy" and clears the failing
// streak; a failing one adds to the streak, except during the start period
// (the time an application needs to come up), and `retries` failures in a
// row make it "unhealthy". A restart begins a new state; a stop ends it.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "agent/api/berth.pb.h"
#include "image/oci/config.h"
#include "runtime/sys/result.h"

namespace berth::agent::engine {

namespace pb = ::berth::api;

// Docker's defaults for a check that leaves them unset (0).
inline constexpr uint64_t kDefaultHealthIntervalMs = 30000;
inline constexpr uint64_t kDefaultHealthTimeoutMs = 30000;
inline constexpr uint64_t kDefaultHealthStartPeriodMs = 0;
inline constexpr uint32_t kDefaultHealthRetries = 3;
// How much of a check's output is kept (Docker keeps 4096 bytes).
inline constexpr size_t kMaxHealthOutput = 4096;

// Checks a user's HEALTHCHECK: test empty (inherit), ["NONE"],
// ["CMD", arg, ...] with at least one arg, or ["CMD-SHELL", "command"].
[[nodiscard]] sys::Result<void> validateHealthCheck(const pb::HealthCheck& check);

// The check a container runs, every field filled in: the spec's test if it
// has one, else the image's; each duration and the retries the spec's when
// set, else the image's, else Docker's default. nullopt: no check (neither
// names a test, or the chosen test is ["NONE"]). Errors: an invalid spec check.
[[nodiscard]] sys::Result<std::optional<pb::HealthCheck>> effectiveHealthCheck(
    const pb::ContainerSpec& spec, const std::optional<image::oci::Healthcheck>& image);

// What runs in the container: CMD's arguments, or /bin/sh -c for CMD-SHELL.
std::vector<std::string> healthProbeArgs(const pb::HealthCheck& check);

enum class HealthStatus { kStarting, kHealthy, kUnhealthy };

// "starting", "healthy", "unhealthy" (the API's and Docker's words).
const char* healthStatusName(HealthStatus status);

// What `berth ps` appends to "Up 3 minutes": " (healthy)", " (unhealthy)",
// " (health: starting)"; empty for "" (no check).
std::string healthStatusSuffix(const std::string& health);

// Keeps at most kMaxHealthOutput bytes of `output` (the beginning, as Docker).
std::string truncateHealthOutput(std::string output);

struct ProbeResult {
  bool passed = false;
  std::string output;  // stdout and stderr together, or why it failed
};

class HealthState {
 public:
  explicit HealthState(uint32_t retries) : retries_(retries == 0 ? kDefaultHealthRetries : retries) {}

  // One finished check; `inStartPeriod`: it ended within the start period.
  void record(ProbeResult result, bool inStartPeriod);

  HealthStatus status() const { return status_; }
  uint32_t failingStreak() const { return failingStreak_; }
  const std::string& lastOutput() const { return lastOutput_; }

 private:
  uint32_t retries_;
  HealthStatus status_ = HealthStatus::kStarting;
  uint32_t failingStreak_ = 0;
  std::string lastOutput_;
};

}  // namespace berth::agent::engine
