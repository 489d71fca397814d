// Protobuf replies -> JSON documents.
#include "agent/cli/json_views.h"

#include <cstdio>

#include <map>

#include "agent/cli/units.h"

namespace berth::agent::cli {

namespace {

template <class Repeated>
Json stringArray(const Repeated& values) {
  Json out = Json::array();
  for (const auto& v : values) out.push_back(v);
  return out;
}

template <class Map>
Json stringMap(const Map& map) {
  // protobuf maps have no order: sort for stable output.
  std::map<std::string, std::string> sorted(map.begin(), map.end());
  Json out = Json::object();
  for (const auto& [k, v] : sorted) out[k] = v;
  return out;
}

std::string octalMode(uint32_t mode) {
  char text[16];
  std::snprintf(text, sizeof text, "0%o", mode);
  return text;
}

}  // namespace

std::string stateText(pb::ContainerState state) {
  switch (state) {
    case pb::STATE_CREATED:
      return "created";
    case pb::STATE_RUNNING:
      return "running";
    case pb::STATE_PAUSED:
      return "paused";
    case pb::STATE_RESTARTING:
      return "restarting";
    case pb::STATE_EXITED:
      return "exited";
    case pb::STATE_REMOVING:
      return "removing";
    case pb::STATE_DEAD:
      return "dead";
    default:
      return "unknown";
  }
}

Json imageSummaryJson(const pb::ImageSummary& image) {
  Json j;
  j["id"] = image.id();
  j["references"] = stringArray(image.references());
  j["manifest_digest"] = image.manifest_digest();
  j["size"] = image.size();
  j["created"] = formatTime(image.created_ns());
  j["created_ns"] = image.created_ns();
  j["platform"] = image.platform();
  return j;
}

Json imageInfoJson(const pb::ImageInfo& info) {
  Json j = imageSummaryJson(info.summary());
  j["os"] = info.os();
  j["architecture"] = info.architecture();
  j["variant"] = info.variant();
  j["entrypoint"] = stringArray(info.entrypoint());
  j["cmd"] = stringArray(info.cmd());
  j["env"] = stringArray(info.env());
  j["workdir"] = info.workdir();
  j["user"] = info.user();
  j["exposed_ports"] = stringArray(info.exposed_ports());
  j["labels"] = stringMap(info.labels());
  j["stop_signal"] = info.stop_signal();
  j["layers"] = stringArray(info.layers());
  j["volumes"] = stringArray(info.volumes());
  return j;
}

Json containerSpecJson(const pb::ContainerSpec& spec) {
  Json j;
  j["image"] = spec.image();
  j["name"] = spec.name();
  j["env"] = stringArray(spec.env());
  j["workdir"] = spec.workdir();
  j["user"] = spec.user();
  j["entrypoint"] = spec.has_entrypoint() ? stringArray(spec.entrypoint().values()) : Json();
  j["cmd"] = stringArray(spec.cmd());
  j["tty"] = spec.tty();
  j["stdin"] = spec.stdin();
  j["memory_bytes"] = spec.memory_bytes();
  j["nano_cpus"] = spec.nano_cpus();
  j["pids_limit"] = spec.pids_limit();
  j["restart"] = {{"name", restartPolicyText(spec.restart())},
                  {"max_retries", spec.restart().max_retries()}};
  j["labels"] = stringMap(spec.labels());
  j["auto_remove"] = spec.auto_remove();
  j["hostname"] = spec.hostname();
  j["networks"] = stringArray(spec.networks());
  j["aliases"] = stringArray(spec.aliases());
  j["publish"] = stringArray(spec.publish());
  j["stop_signal"] = spec.stop_signal();
  j["stop_timeout"] = spec.has_stop_timeout() ? Json(spec.stop_timeout()) : Json();
  if (spec.has_healthcheck()) {
    const pb::HealthCheck& h = spec.healthcheck();
    j["healthcheck"] = {{"test", stringArray(h.test())},
                        {"interval_ms", h.interval_ms()},
                        {"timeout_ms", h.timeout_ms()},
                        {"start_period_ms", h.start_period_ms()},
                        {"retries", h.retries()}};
  } else {
    j["healthcheck"] = Json();
  }
  j["volumes"] = stringArray(spec.volumes());
  Json configs = Json::array();
  for (const auto& c : spec.configs()) {
    // The content stays out: inspect output is often pasted around.
    Json config = {{"target", c.target()}, {"size", c.content().size()}};
    config["mode"] = c.has_mode() ? Json(octalMode(c.mode())) : Json();
    config["uid"] = c.has_uid() ? Json(c.uid()) : Json();
    config["gid"] = c.has_gid() ? Json(c.gid()) : Json();
    configs.push_back(config);
  }
  j["configs"] = configs;
  j["disk_bytes"] = spec.disk_bytes();
  return j;
}

Json containerSummaryJson(const pb::ContainerSummary& s) {
  Json j;
  j["id"] = s.id();
  j["name"] = s.name();
  j["image"] = s.image();
  j["image_id"] = s.image_id();
  j["command"] = stringArray(s.command());
  j["created"] = formatTime(s.created_ns());
  j["state"] = stateText(s.state());
  j["status"] = s.status();
  j["exit_code"] = s.exit_code();
  j["restart_count"] = s.restart_count();
  j["pid"] = s.pid();
  j["started"] = formatTime(s.started_ns());
  j["finished"] = formatTime(s.finished_ns());
  j["labels"] = stringMap(s.labels());
  j["ports"] = stringArray(s.ports());
  j["health"] = s.health();
  return j;
}

Json containerInfoJson(const pb::ContainerInfo& info) {
  Json j = containerSummaryJson(info.summary());
  j["spec"] = containerSpecJson(info.spec());
  j["effective_env"] = stringArray(info.effective_env());
  j["effective_args"] = stringArray(info.effective_args());
  j["effective_workdir"] = info.effective_workdir();
  j["effective_user"] = info.effective_user();
  j["rootfs"] = info.rootfs();
  j["log_path"] = info.log_path();
  j["cgroup_path"] = info.cgroup_path();
  j["exit_signal"] = info.exit_signal();
  j["oom_killed"] = info.oom_killed();
  j["network"] = info.network();
  j["network_address"] = info.network_address();
  Json mounts = Json::array();
  for (const auto& m : info.mounts()) mounts.push_back(mountJson(m));
  j["mounts"] = mounts;
  j["disk"] = {{"limit", info.disk_limit()}, {"used", info.disk_used()}};
  // Docker's State.Health; null for a container without a running check.
  j["health_state"] = info.health().empty()
                          ? Json()
                          : Json{{"status", info.health()},
                                 {"failing_streak", info.health_failing_streak()},
                                 {"last_output", info.health_last_output()}};
  return j;
}

Json mountJson(const pb::MountInfo& m) {
  Json j;
  switch (m.kind()) {
    case pb::MOUNT_VOLUME:
      j["type"] = "volume";
      j["name"] = m.name();
      break;
    case pb::MOUNT_BIND:
      j["type"] = "bind";
      break;
    case pb::MOUNT_CONFIG:
      j["type"] = "config";
      break;
    default:
      j["type"] = "unknown";
      break;
  }
  j["source"] = m.source();
  j["destination"] = m.destination();
  j["read_only"] = m.read_only();
  if (m.kind() == pb::MOUNT_BIND) j["propagation"] = m.propagation();
  return j;
}

Json volumeInfoJson(const pb::VolumeInfo& v) {
  Json j;
  j["name"] = v.name();
  j["mountpoint"] = v.mountpoint();
  j["created"] = formatTime(v.created_ns());
  j["created_ns"] = v.created_ns();
  j["labels"] = stringMap(v.labels());
  j["size_limit"] = v.size_limit();
  j["usage"] = v.usage();
  j["users"] = stringArray(v.users());
  return j;
}

Json containerStatsJson(const pb::ContainerStats& s) {
  Json j;
  j["id"] = s.id();
  j["name"] = s.name();
  j["timestamp"] = formatTime(s.timestamp_ns());
  j["cpu_percent"] = s.cpu_percent();
  j["memory_usage"] = s.memory_usage();
  j["memory_limit"] = s.memory_limit();
  j["memory_percent"] = s.memory_limit() == 0 ? 0.0
                                              : 100.0 * static_cast<double>(s.memory_usage()) /
                                                    static_cast<double>(s.memory_limit());
  j["pids"] = s.pids();
  j["pids_limit"] = s.pids_limit();
  return j;
}

Json imageRemoveJson(const pb::ImageRemoveReply& reply) {
  return {{"untagged", stringArray(reply.untagged())}, {"deleted", stringArray(reply.deleted())}};
}

std::string dumpJson(const Json& document) {
  return document.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace berth::agent::cli
