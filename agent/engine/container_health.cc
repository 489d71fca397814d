// The engine's side of health checks: the monitor (health_monitor.h) is
// told of each start and exit, and list/inspect show what it found.
#include "agent/engine/container_engine.h"
#include "agent/engine/health_check.h"
#include "agent/shim/exit_status.h"

namespace berth::agent::engine {

sys::Result<void> ContainerEngine::startHealthMonitor() {
  // Unit tests run an engine without the runtime binary: no checks then.
  if (options_.paths.runtimeBinary.empty()) return sys::ok();
  health_ = BERTH_TRY(HealthMonitor::start(
      HealthMonitor::Options{options_.paths.runtimeBinary, options_.paths.runtimeStateRoot()}));
  return sys::ok();
}

void ContainerEngine::trackHealthLocked(const Entry& entry) {
  const ContainerRecord& r = entry.record;
  if (!health_ || !r.healthcheck) return;
  // The start period counts from the container's start, which a daemon
  // that adopted a running container learns as a wall-clock time.
  int64_t agoNs = shim::realtimeNowNs() - r.startedNs;
  auto startedAt = HealthMonitor::Clock::now() - std::chrono::nanoseconds(agoNs > 0 ? agoNs : 0);
  health_->track(r.id, *r.healthcheck, startedAt);
}

void ContainerEngine::untrackHealth(const std::string& id) {
  if (health_) health_->untrack(id);
}

void ContainerEngine::addHealth(const std::string& id, pb::ContainerSummary& summary,
                                pb::ContainerInfo* info) const {
  if (!health_ || summary.state() != pb::STATE_RUNNING) return;
  std::optional<HealthReport> report = health_->report(id);
  if (!report) return;
  summary.set_health(healthStatusName(report->status));
  summary.set_status(summary.status() + healthStatusSuffix(summary.health()));
  if (info == nullptr) return;
  info->set_health(summary.health());
  info->set_health_failing_streak(report->failingStreak);
  info->set_health_last_output(report->lastOutput);
}

}  // namespace berth::agent::engine
