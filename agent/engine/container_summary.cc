// Records as API summaries and status texts; see container_summary.h.
#include "agent/engine/container_summary.h"

namespace berth::agent::engine {
namespace {

constexpr int64_t kSecond = 1000000000;
constexpr int64_t kMinute = 60 * kSecond;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;
constexpr int64_t kWeek = 7 * kDay;
constexpr int64_t kMonth = 30 * kDay;
constexpr int64_t kYear = 365 * kDay;

std::string plural(int64_t n, const char* unit) {
  return std::to_string(n) + " " + unit + (n == 1 ? "" : "s");
}

}  // namespace

std::string humanDuration(int64_t ns) {
  if (ns < kSecond) return "Less than a second";
  if (ns < kMinute) return plural(ns / kSecond, "second");
  if (ns < 2 * kMinute) return "About a minute";
  if (ns < kHour) return plural(ns / kMinute, "minute");
  if (ns < 2 * kHour) return "About an hour";
  if (ns < 2 * kDay) return plural(ns / kHour, "hour");
  if (ns < 2 * kWeek) return plural(ns / kDay, "day");
  if (ns < 3 * kMonth) return plural(ns / kWeek, "week");
  if (ns < 2 * kYear) return plural(ns / kMonth, "month");
  return plural(ns / kYear, "year");
}

pb::ContainerState displayedState(const ContainerRecord& record, bool restartPending) {
  switch (record.state) {
    case RecordState::kCreating:
    case RecordState::kCreated:
      return pb::STATE_CREATED;
    case RecordState::kRunning:
      return pb::STATE_RUNNING;
    case RecordState::kExited:
      return restartPending ? pb::STATE_RESTARTING : pb::STATE_EXITED;
    case RecordState::kRemoving:
      return pb::STATE_REMOVING;
  }
  return pb::STATE_UNSPECIFIED;
}

std::string statusText(const ContainerRecord& record, bool restartPending, int64_t nowNs) {
  // As Docker prints them, capitals included: "Up About a minute".
  auto since = [&](int64_t thenNs) { return humanDuration(nowNs > thenNs ? nowNs - thenNs : 0); };
  switch (displayedState(record, restartPending)) {
    case pb::STATE_CREATED:
      return "Created";
    case pb::STATE_RUNNING:
      return "Up " + since(record.startedNs);
    case pb::STATE_RESTARTING:
      return "Restarting (" + std::to_string(record.lastExit.exitCode) + ") " +
             since(record.lastExit.finishedNs) + " ago";
    case pb::STATE_EXITED:
      return "Exited (" + std::to_string(record.lastExit.exitCode) + ") " +
             since(record.lastExit.finishedNs) + " ago";
    case pb::STATE_REMOVING:
      return "Removal In Progress";
    default:
      return "Unknown";
  }
}

pb::ContainerSummary summarize(const ContainerRecord& record, bool restartPending, int64_t nowNs) {
  pb::ContainerSummary s;
  s.set_id(record.id);
  s.set_name(record.name);
  s.set_image(record.spec.image());
  s.set_image_id(record.imageId);
  for (const std::string& arg : record.args) s.add_command(arg);
  s.set_created_ns(record.createdNs);
  s.set_state(displayedState(record, restartPending));
  s.set_status(statusText(record, restartPending, nowNs));
  s.set_exit_code(record.hasExit ? record.lastExit.exitCode : 0);
  s.set_restart_count(record.restartCount);
  bool running = record.state == RecordState::kRunning;
  s.set_pid(running ? record.initPid : 0);
  s.set_started_ns(record.everStarted ? record.startedNs : 0);
  s.set_finished_ns(record.hasExit ? record.lastExit.finishedNs : 0);
  for (const auto& [key, value] : record.labels) (*s.mutable_labels())[key] = value;
  for (const std::string& port : record.spec.publish()) s.add_ports(port);
  return s;
}

pb::ContainerInfo describe(const ContainerRecord& record, bool restartPending, int64_t nowNs,
                           const InfoPaths& paths) {
  pb::ContainerInfo info;
  *info.mutable_summary() = summarize(record, restartPending, nowNs);
  *info.mutable_spec() = record.spec;
  for (const std::string& e : record.env) info.add_effective_env(e);
  for (const std::string& a : record.args) info.add_effective_args(a);
  info.set_effective_workdir(record.workdir);
  info.set_effective_user(record.user);
  info.set_rootfs(paths.rootfs);
  info.set_log_path(paths.logPath);
  info.set_cgroup_path(paths.cgroupPath);
  info.set_exit_signal(record.hasExit ? record.lastExit.signal : 0);
  info.set_oom_killed(record.hasExit && record.lastExit.oomKilled);
  return info;
}

bool matchesLabels(const ContainerRecord& record,
                   const google::protobuf::Map<std::string, std::string>& filter) {
  for (const auto& [key, value] : filter) {
    auto it = record.labels.find(key);
    if (it == record.labels.end()) return false;
    if (!value.empty() && it->second != value) return false;
  }
  return true;
}

}  // namespace berth::agent::engine
