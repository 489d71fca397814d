// Restart decisions and backoff; see restart_policy.h.
#include "agent/engine/restart_policy.h"

#include <algorithm>

namespace berth::agent::engine {
namespace {

// Whether the policy asks for another run, ignoring backoff.
bool policyWantsRestart(const pb::RestartPolicy& policy, const ExitFacts& facts,
                        bool ignoreUserStop) {
  switch (policy.kind()) {
    case pb::RESTART_ALWAYS:
      return ignoreUserStop || !facts.stoppedByUser;
    case pb::RESTART_UNLESS_STOPPED:
      return !facts.stoppedByUser;
    case pb::RESTART_ON_FAILURE:
      if (facts.stoppedByUser || facts.exitCode == 0) return false;
      return policy.max_retries() == 0 || facts.restartCount < policy.max_retries();
    default:
      return false;
  }
}

}  // namespace

pb::RestartPolicy effectivePolicy(const pb::RestartPolicy& requested, bool autoRemove) {
  if (requested.kind() != pb::RESTART_UNSPECIFIED) return requested;
  pb::RestartPolicy policy;
  policy.set_kind(autoRemove ? pb::RESTART_NO : pb::RESTART_ON_FAILURE);
  return policy;
}

const char* policyKindName(pb::RestartPolicyKind kind) {
  switch (kind) {
    case pb::RESTART_NO:
      return "no";
    case pb::RESTART_ALWAYS:
      return "always";
    case pb::RESTART_ON_FAILURE:
      return "on-failure";
    case pb::RESTART_UNLESS_STOPPED:
      return "unless-stopped";
    default:
      return "";
  }
}

std::chrono::milliseconds backoffDelay(uint32_t step, const BackoffSettings& backoff) {
  if (step == 0) return std::chrono::milliseconds(0);
  // Doubling from `start` without overflowing: stop as soon as the cap is reached.
  std::chrono::milliseconds delay = backoff.start;
  for (uint32_t i = 1; i < step && delay < backoff.cap; ++i) delay *= 2;
  return std::min(delay, backoff.cap);
}

RestartDecision decideRestart(const pb::RestartPolicy& policy, const ExitFacts& facts,
                              const BackoffSettings& backoff) {
  RestartDecision decision;
  if (!policyWantsRestart(policy, facts, /*ignoreUserStop=*/false)) return decision;
  // A run long enough to count as healthy starts the sequence over.
  uint32_t step = facts.ranFor >= backoff.resetAfter ? 0 : facts.backoffStep;
  decision.restart = true;
  decision.delay = backoffDelay(step, backoff);
  decision.nextBackoffStep = step + 1;
  return decision;
}

bool restartAtDaemonStart(const pb::RestartPolicy& policy, const ExitFacts& facts,
                          bool everStarted) {
  // A container that was only created was never asked to run.
  if (!everStarted) return false;
  return policyWantsRestart(policy, facts, /*ignoreUserStop=*/true);
}

}  // namespace berth::agent::engine
