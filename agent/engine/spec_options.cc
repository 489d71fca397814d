// API messages to engine inputs; see spec_options.h.
#include "agent/engine/spec_options.h"

#include "agent/engine/container_network.h"

#include <cmath>

#include "agent/engine/container_mounts.h"
#include "agent/engine/names.h"
#include "runtime/linux/signals.h"

namespace berth::agent::engine {
namespace {

constexpr int64_t kMinMemoryBytes = 6 << 20;  // Docker refuses less than 6 MiB
constexpr int64_t kCpuPeriodUs = 100000;      // Docker's --cpus period: 100 ms
constexpr uint64_t kNanoCpusPerCpu = 1000000000;
// Below this an ext4 image has little room left after its own metadata.
constexpr uint64_t kMinDiskBytes = 16 << 20;

sys::Result<void> validateMemory(int64_t bytes) {
  if (bytes < 0) return sys::Error::invalid("memory limit must not be negative");
  if (bytes > 0 && bytes < kMinMemoryBytes) {
    return sys::Error::invalid("memory limit " + std::to_string(bytes) +
                               " bytes is below the minimum of 6 MiB");
  }
  return sys::ok();
}

sys::Result<void> validateRestart(const pb::ContainerSpec& spec) {
  pb::RestartPolicyKind kind = spec.restart().kind();
  if (!pb::RestartPolicyKind_IsValid(kind)) return sys::Error::invalid("unknown restart policy");
  if (spec.restart().max_retries() > 0 && kind != pb::RESTART_ON_FAILURE) {
    return sys::Error::invalid("a maximum retry count applies only to --restart on-failure");
  }
  if (spec.auto_remove() && kind != pb::RESTART_UNSPECIFIED && kind != pb::RESTART_NO) {
    return sys::Error::invalid(
        "--rm and --restart cannot be combined: a container that is "
        "removed when it exits cannot be restarted");
  }
  return sys::ok();
}

}  // namespace

sys::Result<void> validateSpec(const pb::ContainerSpec& spec) {
  if (spec.image().empty()) return sys::Error::invalid("no image given");
  if (!spec.name().empty()) BERTH_TRY(validateName(spec.name()));
  BERTH_TRY(validateRestart(spec));
  BERTH_TRY(validateMemory(spec.memory_bytes()));
  if (!spec.stop_signal().empty()) {
    BERTH_TRY_CTX(runtime::parseSignal(spec.stop_signal()), "stop signal");
  }
  for (const std::string& publish : spec.publish()) BERTH_TRY(parsePublish(publish));
  for (const std::string& network : spec.networks()) {
    if (network == "host") {
      return sys::Error::invalid(
          "--network host is not supported: a container always has its own network namespace "
          "(publish ports with -p instead)");
    }
  }
  BERTH_TRY(mountsOfSpec(spec));
  if (spec.disk_bytes() > 0 && spec.disk_bytes() < kMinDiskBytes) {
    return sys::Error::invalid("disk limit " + std::to_string(spec.disk_bytes()) +
                               " bytes is below the minimum of 16 MiB");
  }
  return sys::ok();
}

std::vector<std::string> unsupportedWarnings(const pb::ContainerSpec& spec, bool networking) {
  std::vector<std::string> warnings;
  if (!networking && spec.networks_size() > 0)
    warnings.push_back("networks are not supported yet: ignored");
  if (spec.publish_size() > 0 &&
      (!networking || (spec.networks_size() > 0 && spec.networks(0) == "none")))
    warnings.push_back("published ports need a network: ignored");
  if (networking && spec.networks_size() > 1)
    warnings.push_back("only the first network is joined for now");
  return warnings;
}

std::string cgroupsPathFor(const std::string& cgroupParent, const std::string& id) {
  std::string parent = cgroupParent;
  while (!parent.empty() && parent.back() == '/') parent.pop_back();
  if (parent.empty() || parent.front() != '/') parent.insert(parent.begin(), '/');
  return parent == "/" ? "/" + id : parent + "/" + id;
}

RunOptions runOptionsFor(const pb::ContainerSpec& spec, const std::string& id,
                         const std::string& name, const std::string& cgroupsPath,
                         const std::string& rootfs) {
  RunOptions o;
  o.id = id;
  o.name = name;
  o.imageName = spec.image();
  o.hostname = spec.hostname();
  // On a project network the container's hostname is its DNS name, as its
  // /etc/hostname says (container_network.cc).
  if (o.hostname.empty() && name.size() <= 63) o.hostname = name;
  o.env.assign(spec.env().begin(), spec.env().end());
  o.workdir = spec.workdir();
  if (!spec.user().empty()) o.user = spec.user();
  if (spec.has_entrypoint()) {
    o.entrypoint = std::vector<std::string>(spec.entrypoint().values().begin(),
                                            spec.entrypoint().values().end());
  }
  o.cmd.assign(spec.cmd().begin(), spec.cmd().end());
  o.tty = spec.tty();
  o.stdinOpen = spec.stdin();
  if (spec.memory_bytes() > 0) o.memory = spec.memory_bytes();
  if (spec.nano_cpus() > 0) o.cpus = static_cast<double>(spec.nano_cpus()) / kNanoCpusPerCpu;
  if (spec.pids_limit() > 0) o.pidsLimit = spec.pids_limit();
  for (const auto& [key, value] : spec.labels()) o.annotations[key] = value;
  if (!spec.stop_signal().empty()) o.annotations[kStopSignalAnnotation] = spec.stop_signal();
  o.rootfsPath = rootfs;
  o.cgroupsPath = cgroupsPath;
  return o;
}

sys::Result<runtime::config::Resources> resourcesForUpdate(
    const pb::ContainerUpdateRequest& request) {
  runtime::config::Resources r;
  if (request.has_memory_bytes()) {
    BERTH_TRY(validateMemory(request.memory_bytes()));
    r.memory.emplace().limit = request.memory_bytes() == 0 ? -1 : request.memory_bytes();
  }
  if (request.has_nano_cpus()) {
    auto& cpu = r.cpu.emplace();
    if (request.nano_cpus() == 0) {
      cpu.quota = -1;
    } else {
      auto quota = static_cast<int64_t>(
          std::llround(static_cast<double>(request.nano_cpus()) * kCpuPeriodUs / kNanoCpusPerCpu));
      if (quota < 1000) return sys::Error::invalid("cpus must be at least 0.01");
      cpu.quota = quota;
      cpu.period = kCpuPeriodUs;
    }
  }
  if (request.has_pids_limit()) {
    r.pids.emplace().limit = request.pids_limit() > 0 ? request.pids_limit() : -1;
  }
  return r;
}

void mergeResources(runtime::config::Resources& target, const runtime::config::Resources& update) {
  if (update.memory && update.memory->limit) {
    if (!target.memory) target.memory.emplace();
    target.memory->limit = update.memory->limit;
  }
  if (update.cpu) {
    if (!target.cpu) target.cpu.emplace();
    target.cpu->quota = update.cpu->quota;
    if (update.cpu->period) target.cpu->period = update.cpu->period;
  }
  if (update.pids) target.pids = update.pids;
}

void applyUpdateToSpec(const pb::ContainerUpdateRequest& request, pb::ContainerSpec& spec) {
  if (request.has_memory_bytes()) spec.set_memory_bytes(request.memory_bytes());
  if (request.has_nano_cpus()) spec.set_nano_cpus(request.nano_cpus());
  if (request.has_pids_limit()) spec.set_pids_limit(request.pids_limit());
  if (request.has_restart()) *spec.mutable_restart() = request.restart();
  if (request.has_disk_bytes()) spec.set_disk_bytes(request.disk_bytes());
}

}  // namespace berth::agent::engine
