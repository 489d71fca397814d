// `berth stats`: CPU, memory and pids of running containers, from their
// cgroups through the runtime's cgroup manager (v1, hybrid and v2 alike).
//
// CPU % is the cgroup's CPU time used between two samples over the wall
// time between them (100 = one CPU busy). A one-shot call takes two samples
// kOneShotIntervalMs apart; a stream sends a batch every second until the
// client cancels. A container that stops meanwhile is reported with zeros.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "agent/api/connection.h"
#include "agent/engine/container_access.h"
#include "runtime/cgroup/manager.h"

namespace berth::agent::streams {

namespace pb = ::berth::api;

inline constexpr int kOneShotIntervalMs = 150;
inline constexpr int kStreamIntervalMs = 1000;

// One reading of a container's cgroup, at a monotonic time.
struct StatsSample {
  int64_t monotonicNs = 0;
  runtime::cgroup::Stats stats;
};

// The ContainerStats for `now`; cpu_percent needs `previous` (0 without).
pb::ContainerStats toContainerStats(const engine::ContainerView& view, const StatsSample& now,
                                    const std::optional<StatsSample>& previous, int64_t unixNs);

api::CallResult<pb::StreamEnd> streamStats(engine::ContainerAccess& access,
                                           const pb::StatsRequest& request,
                                           api::StreamWriter<pb::StatsBatch>& out);

}  // namespace berth::agent::streams
