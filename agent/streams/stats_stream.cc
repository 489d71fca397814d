// The stats call; see stats_stream.h.
#include "agent/streams/stats_stream.h"

#include <poll.h>
#include <time.h>

#include <map>
#include <string>
#include <vector>

#include "agent/shim/exit_status.h"

namespace berth::agent::streams {
namespace {

int64_t monotonicNowNs() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// A reading of the container's cgroup; nullopt when it is not running or
// its cgroup is gone (it stopped since the view was taken).
std::optional<StatsSample> sample(const engine::ContainerView& view) {
  if (view.state != pb::STATE_RUNNING && view.state != pb::STATE_PAUSED) return std::nullopt;
  auto manager = runtime::cgroup::openManager(view.cgroupsPath, view.runtimeId);
  if (!manager) return std::nullopt;
  auto stats = (*manager)->stats();
  if (!stats) return std::nullopt;
  return StatsSample{monotonicNowNs(), *stats};
}

class StatsStream {
 public:
  StatsStream(engine::ContainerAccess& access, const pb::StatsRequest& request)
      : access_(access), request_(request) {}

  // The containers to report now: those named (an unknown name is an error
  // on the first round only; later it is dropped), else every running one.
  api::CallResult<std::vector<engine::ContainerView>> containers(bool first);
  // Samples every container and returns the batch; CPU % is against the
  // previous round's samples (0 for a container new in this round).
  pb::StatsBatch round(const std::vector<engine::ContainerView>& views);

 private:
  engine::ContainerAccess& access_;
  const pb::StatsRequest& request_;
  std::map<std::string, StatsSample> previous_;
};

api::CallResult<std::vector<engine::ContainerView>> StatsStream::containers(bool first) {
  if (request_.ids().empty()) return access_.running();
  std::vector<engine::ContainerView> views;
  for (const auto& id : request_.ids()) {
    auto view = access_.find(id);
    if (view) {
      views.push_back(std::move(*view));
    } else if (first) {
      return std::move(view).error();
    }
  }
  return views;
}

pb::StatsBatch StatsStream::round(const std::vector<engine::ContainerView>& views) {
  pb::StatsBatch batch;
  std::map<std::string, StatsSample> current;
  int64_t unixNs = shim::realtimeNowNs();
  for (const auto& view : views) {
    std::optional<StatsSample> now = sample(view);
    std::optional<StatsSample> before;
    if (auto it = previous_.find(view.id); it != previous_.end()) before = it->second;
    if (now) {
      *batch.add_containers() = toContainerStats(view, *now, before, unixNs);
      current[view.id] = *now;
    } else {
      *batch.add_containers() = toContainerStats(view, StatsSample{}, std::nullopt, unixNs);
    }
  }
  previous_ = std::move(current);
  return batch;
}

// Sleeps `ms`; false when the client cancelled meanwhile.
bool pause(int cancelFd, int ms) {
  struct pollfd p {
    cancelFd, POLLIN, 0
  };
  return ::poll(&p, 1, ms) == 0;
}

}  // namespace

pb::ContainerStats toContainerStats(const engine::ContainerView& view, const StatsSample& now,
                                    const std::optional<StatsSample>& previous, int64_t unixNs) {
  pb::ContainerStats s;
  s.set_id(view.id);
  s.set_name(view.name);
  s.set_timestamp_ns(unixNs);
  if (previous && now.monotonicNs > previous->monotonicNs &&
      now.stats.cpuUsageNs >= previous->stats.cpuUsageNs) {
    double used = static_cast<double>(now.stats.cpuUsageNs - previous->stats.cpuUsageNs);
    double wall = static_cast<double>(now.monotonicNs - previous->monotonicNs);
    s.set_cpu_percent(used / wall * 100.0);
  }
  s.set_memory_usage(now.stats.memoryUsage);
  s.set_memory_limit(now.stats.memoryLimit.value_or(0));
  s.set_pids(now.stats.pidsCurrent);
  s.set_pids_limit(now.stats.pidsLimit.value_or(0));
  return s;
}

api::CallResult<pb::StreamEnd> streamStats(engine::ContainerAccess& access,
                                           const pb::StatsRequest& request,
                                           api::StreamWriter<pb::StatsBatch>& out) {
  StatsStream stats(access, request);
  auto views = stats.containers(true);
  if (!views) return std::move(views).error();
  // The first reading only sets the baseline for CPU %.
  (void)stats.round(*views);
  if (!pause(out.cancelFd(), kOneShotIntervalMs)) return api::CallError(pb::CANCELLED, "cancelled by the client");
  for (;;) {
    if (!out.send(stats.round(*views))) return api::CallError(pb::CANCELLED, "the client is gone");
    if (!request.stream()) return pb::StreamEnd{};
    if (!pause(out.cancelFd(), kStreamIntervalMs)) return api::CallError(pb::CANCELLED, "cancelled by the client");
    auto next = stats.containers(false);
    if (!next) return std::move(next).error();
    views = std::move(next);
  }
}

}  // namespace berth::agent::streams
