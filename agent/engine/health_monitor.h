// Runs the health checks of every running container that has one, from one
// thread: each check is `berth-runtime --root <stateRoot> exec <id> ARGS`
// (the path `berth exec` takes, with the container's own env, user and
// working directory), started without waiting for it, then watched with
// poll() beside all the others: its output (stdout and stderr together,
// the first 4 KiB kept), the pid of the process it runs in the container
// (the runtime's --pid-file, a pipe) and the runtime's exit. A check still
// running at its timeout is killed, the process in the container first, and
// counts as a failure. The next check of a container is one interval after
// its last one ended, as Docker schedules them; while a container is still
// "starting", an early check also runs every kStartingProbeInterval in
// between (like Docker's start_interval): a pass makes it healthy at once,
// a failure is ignored (only the interval's checks count toward
// `retries`), so a deploy waiting for health waits ~0.5 s, not a whole
// interval, and an application that is slow to come up is not marked
// unhealthy any sooner.
//
// The monitor has its own mutex, never held while anything waits: the
// engine calls track/untrack/report with its own locks held, and the
// monitor never calls back into the engine.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "agent/engine/health_check.h"
#include "runtime/sys/fd.h"
#include "runtime/sys/result.h"

namespace berth::agent::engine {

struct HealthReport {
  HealthStatus status = HealthStatus::kStarting;
  uint32_t failingStreak = 0;
  std::string lastOutput;
};

// How often a "starting" container is also checked between intervals.
inline constexpr std::chrono::milliseconds kStartingProbeInterval{500};

class HealthMonitor {
 public:
  using Clock = std::chrono::steady_clock;

  struct Options {
    // Run as: <runtimeBinary> --root <stateRoot> exec <id> <args...>.
    std::string runtimeBinary;
    std::string stateRoot;
  };

  static sys::Result<std::unique_ptr<HealthMonitor>> start(Options options);
  ~HealthMonitor();
  HealthMonitor(const HealthMonitor&) = delete;
  HealthMonitor& operator=(const HealthMonitor&) = delete;

  // Kills the running checks and joins the thread.
  void stop();

  // Begins checking container `id` (its runtime id) for a new life: state
  // "starting", no streak; replaces an earlier tracking (a check of the old
  // life still running is killed). The start period counts from `startedAt`.
  void track(const std::string& id, const pb::HealthCheck& check, Clock::time_point startedAt);
  // Stops checking it (killing a running check) and forgets its state.
  void untrack(const std::string& id);
  // nullopt: not tracked (no check, or not running).
  std::optional<HealthReport> report(const std::string& id) const;

  struct Probe;  // a check that is running (health_monitor.cc)

 private:
  struct Tracked {
    pb::HealthCheck check;
    HealthState state;
    Clock::time_point startedAt;
    Clock::time_point nextProbe;    // the next check of any kind
    Clock::time_point nextRegular;  // the next check that counts (the interval)
    uint64_t life = 0;
    bool spawning = false;  // a check is being started outside the mutex
    bool early = false;     // the running check is an early one (see above)
    std::unique_ptr<Probe> probe;
  };

  HealthMonitor(Options options, sys::UniqueFd wake);
  void run();
  void wake();
  void startDueProbes();
  void recordResult(Tracked& t, ProbeResult result, Clock::time_point now);
  int pollTimeoutMs(Clock::time_point now) const;
  void serviceProbes(Clock::time_point now);
  void finishProbe(Tracked& tracked, Clock::time_point now);
  void reapOrphans();

  Options options_;
  sys::UniqueFd wake_;
  mutable std::mutex mu_;
  bool stopping_ = false;
  uint64_t nextLife_ = 1;
  std::map<std::string, Tracked> tracked_;
  // Checks of untracked containers, killed, waiting to be reaped.
  std::vector<std::unique_ptr<Probe>> orphans_;
  std::thread thread_;
};

}  // namespace berth::agent::engine
