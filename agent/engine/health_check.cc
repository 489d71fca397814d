// Which health check a container runs and the states its results lead to;
// see health_check.h.
#include "agent/engine/health_check.h"

namespace berth::agent::engine {
namespace {

constexpr int64_t kNsPerMs = 1000000;

uint64_t pick(uint64_t spec, int64_t imageNs, uint64_t fallback) {
  if (spec != 0) return spec;
  if (imageNs > 0) return static_cast<uint64_t>(imageNs / kNsPerMs);
  return fallback;
}

}  // namespace

sys::Result<void> validateHealthCheck(const pb::HealthCheck& check) {
  const auto& test = check.test();
  if (test.empty()) return sys::ok();
  const std::string& kind = test[0];
  if (kind == "NONE") {
    if (test.size() != 1) return sys::Error::invalid("healthcheck: NONE takes no arguments");
    return sys::ok();
  }
  if (kind == "CMD") {
    if (test.size() < 2) return sys::Error::invalid("healthcheck: CMD needs a command");
    return sys::ok();
  }
  if (kind == "CMD-SHELL") {
    if (test.size() != 2 || test[1].empty()) {
      return sys::Error::invalid("healthcheck: CMD-SHELL needs exactly one command string");
    }
    return sys::ok();
  }
  return sys::Error::invalid("healthcheck: test must start with NONE, CMD or CMD-SHELL, not \"" +
                             kind + "\"");
}

sys::Result<std::optional<pb::HealthCheck>> effectiveHealthCheck(
    const pb::ContainerSpec& spec, const std::optional<image::oci::Healthcheck>& image) {
  const pb::HealthCheck& own = spec.healthcheck();
  BERTH_TRY(validateHealthCheck(own));
  image::oci::Healthcheck base = image.value_or(image::oci::Healthcheck{});
  pb::HealthCheck check;
  if (!own.test().empty()) {
    *check.mutable_test() = own.test();
  } else {
    for (const std::string& word : base.test) check.add_test(word);
  }
  if (check.test().empty() || check.test(0) == "NONE") return std::optional<pb::HealthCheck>();
  check.set_interval_ms(pick(own.interval_ms(), base.interval, kDefaultHealthIntervalMs));
  check.set_timeout_ms(pick(own.timeout_ms(), base.timeout, kDefaultHealthTimeoutMs));
  check.set_start_period_ms(
      pick(own.start_period_ms(), base.startPeriod, kDefaultHealthStartPeriodMs));
  uint32_t retries = own.retries();
  if (retries == 0 && base.retries > 0) retries = static_cast<uint32_t>(base.retries);
  check.set_retries(retries != 0 ? retries : kDefaultHealthRetries);
  // The image's check was validated with the image; a mixed one is checked here.
  BERTH_TRY(validateHealthCheck(check));
  return std::optional<pb::HealthCheck>(std::move(check));
}

std::vector<std::string> healthProbeArgs(const pb::HealthCheck& check) {
  const auto& test = check.test();
  if (test.size() < 2) return {};
  if (test[0] == "CMD-SHELL") return {"/bin/sh", "-c", test[1]};
  return {test.begin() + 1, test.end()};
}

const char* healthStatusName(HealthStatus status) {
  switch (status) {
    case HealthStatus::kStarting:
      return "starting";
    case HealthStatus::kHealthy:
      return "healthy";
    case HealthStatus::kUnhealthy:
      return "unhealthy";
  }
  return "";
}

std::string healthStatusSuffix(const std::string& health) {
  if (health.empty()) return "";
  if (health == "starting") return " (health: starting)";
  return " (" + health + ")";
}

std::string truncateHealthOutput(std::string output) {
  if (output.size() > kMaxHealthOutput) output.resize(kMaxHealthOutput);
  return output;
}

void HealthState::record(ProbeResult result, bool inStartPeriod) {
  lastOutput_ = truncateHealthOutput(std::move(result.output));
  if (result.passed) {
    status_ = HealthStatus::kHealthy;
    failingStreak_ = 0;
    return;
  }
  // While the application comes up a failure is expected: it neither
  // counts nor ends the "starting" state (a success does).
  if (inStartPeriod && status_ == HealthStatus::kStarting) return;
  ++failingStreak_;
  if (failingStreak_ >= retries_) status_ = HealthStatus::kUnhealthy;
}

}  // namespace berth::agent::engine
