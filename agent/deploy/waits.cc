// Polling a container's state and health; see waits.h.
#include "agent/deploy/waits.h"

namespace berth::agent::deploy {
namespace {

using Clock = std::chrono::steady_clock;

bool hasExited(const pb::ContainerSummary& s) {
  return s.state() == pb::STATE_EXITED || s.state() == pb::STATE_DEAD;
}

std::string exitText(const pb::ContainerInfo& info) {
  std::string text = "exited with code " + std::to_string(info.summary().exit_code());
  if (info.oom_killed()) text += " (out of memory)";
  return text;
}

std::string seconds(std::chrono::milliseconds ms) {
  return std::to_string((ms.count() + 999) / 1000) + " s";
}

std::string unhealthyText(const pb::ContainerInfo& info) {
  std::string output = info.health_last_output();
  while (!output.empty() && (output.back() == '\n' || output.back() == ' ')) output.pop_back();
  return output.empty() ? "unhealthy" : "unhealthy: " + output;
}

// One look at a new container: done (true), keep waiting (false), or why it failed.
api::CallResult<bool> upOnce(const pb::ContainerInfo& info, bool settled, bool awaitHealth) {
  const pb::ContainerSummary& s = info.summary();
  switch (s.state()) {
    case pb::STATE_EXITED:
    case pb::STATE_DEAD:
    case pb::STATE_RESTARTING:
      // A one-shot that did its work is up; anything else failed.
      if (s.exit_code() == 0 && !info.oom_killed()) return true;
      return api::CallError(pb::FAILED_PRECONDITION, exitText(info));
    case pb::STATE_RUNNING:
      if (info.health() == "unhealthy") return api::CallError(pb::FAILED_PRECONDITION, unhealthyText(info));
      if (info.health() == "starting" && awaitHealth) return false;
      return settled;
    default:
      return api::CallError(pb::FAILED_PRECONDITION, "is not running");
  }
}

}  // namespace

std::string conditionName(pb::DependCondition condition) {
  switch (condition) {
    case pb::DEPEND_HEALTHY:
      return "service_healthy";
    case pb::DEPEND_COMPLETED_SUCCESSFULLY:
      return "service_completed_successfully";
    default:
      return "service_started";
  }
}

api::CallResult<void> waitUp(DeployTarget& target, const std::string& id,
                             const DeployOptions& options, bool awaitHealth) {
  auto start = target.now();
  for (;;) {
    auto info = target.inspect(id);
    if (!info.ok()) return std::move(info).error();
    auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(target.now() - start);
    // Without health to wait for, running is enough here: the settle time
    // is checked once for the whole deploy (Deployer's settleCheck).
    auto done = upOnce(*info, !awaitHealth || elapsed >= options.settle, awaitHealth);
    if (!done.ok()) return std::move(done).error();
    if (*done) return {};
    if (elapsed >= options.waitTimeout) {
      return api::CallError(pb::DEADLINE_EXCEEDED, "not healthy after " + seconds(options.waitTimeout) +
                                                       " (health: " + info->health() + ")");
    }
    target.sleepFor(options.poll);
  }
}

namespace {

// One look at a dependency: met (true), not yet (false), or never will be.
api::CallResult<bool> conditionOnce(const pb::ContainerInfo& info, pb::DependCondition condition) {
  const pb::ContainerSummary& s = info.summary();
  if (condition == pb::DEPEND_COMPLETED_SUCCESSFULLY) {
    if (!hasExited(s) && s.state() != pb::STATE_RESTARTING) return false;
    if (s.exit_code() == 0) return true;
    return api::CallError(pb::FAILED_PRECONDITION, exitText(info));
  }
  if (s.state() == pb::STATE_CREATED) return api::CallError(pb::FAILED_PRECONDITION, "was never started");
  if (condition == pb::DEPEND_STARTED) return true;
  if (s.state() != pb::STATE_RUNNING) return api::CallError(pb::FAILED_PRECONDITION, exitText(info));
  if (info.health().empty()) return api::CallError(pb::FAILED_PRECONDITION, "has no health check");
  if (info.health() == "unhealthy") return api::CallError(pb::FAILED_PRECONDITION, unhealthyText(info));
  return info.health() == "healthy";
}

}  // namespace

api::CallResult<void> waitCondition(DeployTarget& target, const std::string& service,
                                    const std::string& id, pb::DependCondition condition,
                                    const DeployOptions& options) {
  auto start = target.now();
  for (;;) {
    auto info = target.inspect(id);
    if (!info.ok()) {
      return api::CallError(info.error().code, "dependency " + service + ": " + info.error().message);
    }
    auto met = conditionOnce(*info, condition);
    if (!met.ok()) {
      return api::CallError(met.error().code, "dependency " + service + " (" + conditionName(condition) +
                                                    ") " + met.error().message);
    }
    if (*met) return {};
    if (target.now() - start >= options.waitTimeout) {
      return api::CallError(pb::DEADLINE_EXCEEDED, "dependency " + service + " did not reach " +
                                                       conditionName(condition) + " within " +
                                                       seconds(options.waitTimeout));
    }
    target.sleepFor(options.poll);
  }
}

}  // namespace berth::agent::deploy
