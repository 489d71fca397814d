// What `berth ps` and `berth inspect` show of a record: the API's
// ContainerSummary / ContainerInfo, with Docker's status texts
// ("Up 3 seconds", "Exited (1) 2 seconds ago", "Restarting (1) 1 second ago").
// Pure: the caller passes the clock, so the texts are unit-tested.
#pragma once

#include <cstdint>
#include <string>

#include "agent/api/berth.pb.h"
#include "agent/engine/container_record.h"

namespace berth::agent::engine {

// Docker's go-units HumanDuration: "Less than a second", "1 second",
// "37 seconds", "About a minute", "5 minutes", "About an hour", "3 hours",
// "2 days", "3 weeks", "4 months", "2 years".
std::string humanDuration(int64_t nanoseconds);

// The state shown to users: RESTARTING while a restart is pending.
pb::ContainerState displayedState(const ContainerRecord& record, bool restartPending);

std::string statusText(const ContainerRecord& record, bool restartPending, int64_t nowNs);

pb::ContainerSummary summarize(const ContainerRecord& record, bool restartPending, int64_t nowNs);

// Paths come from the engine (they depend on the daemon's roots).
struct InfoPaths {
  std::string rootfs;
  std::string logPath;
  std::string cgroupPath;
};

pb::ContainerInfo describe(const ContainerRecord& record, bool restartPending, int64_t nowNs,
                           const InfoPaths& paths);

// Whether a record carries every label of the filter ("k" = "" matches any value).
bool matchesLabels(const ContainerRecord& record,
                   const google::protobuf::Map<std::string, std::string>& filter);

}  // namespace berth::agent::engine
