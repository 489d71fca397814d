// When a container that stopped is started again, and after how long: the
// decision alone, without clocks or processes, so every rule is unit-tested.
//
// Docker's semantics:
//   no              never restarted.
//   always          restarted whatever the exit code. A container the user
//                   stopped stays stopped, until the daemon itself restarts:
//                   then it is started again.
//   unless-stopped  like always, except that a container the user stopped
//                   stays stopped across daemon restarts too.
//   on-failure[:N]  restarted when the exit code is not 0, at most N times
//                   (N = 0: no limit); never after a stop by the user.
// RESTART_UNSPECIFIED is berth's default: on-failure without a limit, and
// "no" for an auto-remove (--rm) container.
//
// Backoff: the first restart is immediate; each further one in a row waits
// twice as long as the previous one, from restartBackoffStart (100 ms) up to
// restartBackoffCap (30 s). A run that lasted restartResetAfter (10 s) or
// more resets the sequence, so a service that crashes once a day restarts
// at once each time while a crash loop does not eat the host.
#pragma once

#include <chrono>
#include <cstdint>

#include "agent/api/berth.pb.h"

namespace berth::agent::engine {

namespace pb = ::berth::api;

struct BackoffSettings {
  std::chrono::milliseconds start{100};
  std::chrono::milliseconds cap{30000};
  std::chrono::milliseconds resetAfter{10000};
};

// The policy with RESTART_UNSPECIFIED replaced by what it means.
pb::RestartPolicy effectivePolicy(const pb::RestartPolicy& requested, bool autoRemove);

// Docker's name: "no", "always", "on-failure:3", "unless-stopped".
const char* policyKindName(pb::RestartPolicyKind kind);

struct ExitFacts {
  int exitCode = 0;
  bool stoppedByUser = false;           // `berth stop` (or rm -f, restart) ended this run
  uint32_t restartCount = 0;            // automatic restarts since the user last started it
  uint32_t backoffStep = 0;             // restarts in a row of runs shorter than resetAfter
  std::chrono::milliseconds ranFor{0};  // how long this run lasted
};

struct RestartDecision {
  bool restart = false;
  std::chrono::milliseconds delay{0};
  uint32_t nextBackoffStep = 0;  // to remember for the next exit
};

// After a container's process exited while the daemon watched it.
RestartDecision decideRestart(const pb::RestartPolicy& policy, const ExitFacts& facts,
                              const BackoffSettings& backoff);

// At daemon start, for a container that is not running (it exited while the
// daemon was away, or before): whether it should be started again. Same rules,
// except that `always` ignores an earlier stop by the user (Docker's).
bool restartAtDaemonStart(const pb::RestartPolicy& policy, const ExitFacts& facts,
                          bool everStarted);

// The delay of the n-th restart in a row (0: immediate).
std::chrono::milliseconds backoffDelay(uint32_t step, const BackoffSettings& backoff);

}  // namespace berth::agent::engine
