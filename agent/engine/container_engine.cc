// The engine's table, lookups and read-only calls (list, inspect, the
// ContainerAccess snapshots), and `update`. Creating lives in
// container_create.cc, running in container_run.cc, recovery in
// container_recover.cc.
#include "agent/engine/container_engine.h"

#include <fcntl.h>

#include <algorithm>
#include <set>

#include "agent/engine/container_network.h"
#include "agent/engine/container_resources.h"
#include "agent/engine/container_summary.h"
#include "agent/engine/spec_options.h"
#include "agent/shim/exit_status.h"
#include "agent/shim/shim.h"
#include "runtime/config/parse.h"
#include "runtime/config/serialize.h"
#include "runtime/container/lifecycle.h"
#include "runtime/sys/fs.h"

namespace berth::agent::engine {
namespace {

// How many exits of auto-removed containers lastExit() still knows.
constexpr size_t kRemovedExitsKept = 256;

api::CallError lookupError(const sys::Error& error) {
  return api::CallError(error.code() == ENOENT ? pb::NOT_FOUND : pb::INVALID_ARGUMENT,
                        error.what());
}

pb::ExitStatus toProto(const RecordedExit& exit) {
  pb::ExitStatus status;
  status.set_code(exit.exitCode);
  status.set_signal(exit.signal);
  status.set_oom_killed(exit.oomKilled);
  return status;
}

}  // namespace

sys::Result<std::unique_ptr<ContainerEngine>> ContainerEngine::open(EngineOptions options,
                                                                    images::ImageService& images) {
  if (options.paths.shimBinary.empty())
    return sys::Error::invalid("no berth-shim binary configured");
  BERTH_TRY(sys::mkdirAll(options.paths.containersRoot(), 0700));
  BERTH_TRY(sys::mkdirAll(options.paths.runtimeStateRoot(), 0700));
  std::unique_ptr<ContainerEngine> engine(new ContainerEngine(std::move(options), images));
  BERTH_TRY(engine->openVolumes());
  engine->monitor_ = BERTH_TRY(ExitMonitor::start());
  BERTH_TRY(engine->startHealthMonitor());
  return engine;
}

ContainerEngine::ContainerEngine(EngineOptions options, images::ImageService& images)
    : options_(std::move(options)), images_(images) {}

ContainerEngine::~ContainerEngine() {
  shutdown();
}

void ContainerEngine::shutdown() {
  // The monitor first: no new exit or timer task is posted after this.
  if (monitor_) monitor_->stop();
  if (health_) health_->stop();
  tasks_.drain();
}

std::vector<std::string> ContainerEngine::recoveryWarnings() const {
  std::lock_guard lock(mu_);
  return warnings_;
}

BackoffSettings ContainerEngine::backoff() const {
  return BackoffSettings{
      options_.restartBackoffStart, options_.restartBackoffCap,
      std::chrono::duration_cast<std::chrono::milliseconds>(options_.restartResetAfter)};
}

api::CallResult<ContainerEngine::EntryPtr> ContainerEngine::lookup(const std::string& idOrName) {
  std::lock_guard lock(mu_);
  auto id = names_.resolve(idOrName);
  if (!id) return lookupError(id.error());
  auto it = table_.find(*id);
  if (it == table_.end()) return api::CallError(pb::NOT_FOUND, "no such container: " + idOrName);
  return it->second;
}

api::CallResult<ContainerEngine::Locked> ContainerEngine::lockEntry(const std::string& idOrName) {
  auto entry = lookup(idOrName);
  if (!entry) return std::move(entry).error();
  std::unique_lock lock((*entry)->op);
  // Removed while we waited for it.
  if ((*entry)->removed) return api::CallError(pb::NOT_FOUND, "no such container: " + idOrName);
  return Locked{std::move(*entry), std::move(lock)};
}

ContainerEngine::EntryPtr ContainerEngine::entryById(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = table_.find(id);
  return it == table_.end() ? nullptr : it->second;
}

sys::Result<void> ContainerEngine::persist(const Entry& entry) {
  // Only the holder of entry.op writes the record, so reading it here
  // without the table mutex is safe.
  return saveRecord(options_.paths.containerDir(entry.record.id), entry.record);
}

void ContainerEngine::forget(Entry& entry, const std::optional<pb::ExitStatus>& exit) {
  std::lock_guard lock(mu_);
  entry.removed = true;
  table_.erase(entry.record.id);
  names_.remove(entry.record.id);
  if (exit) {
    removedExits_.emplace_back(entry.record.id, *exit);
    if (removedExits_.size() > kRemovedExitsKept) removedExits_.pop_front();
  }
}

ContainerView ContainerEngine::viewOf(const Entry& entry) const {
  const ContainerRecord& r = entry.record;
  ContainerView v;
  v.id = r.id;
  v.name = r.name;
  v.runtimeId = r.id;
  v.stateRoot = options_.paths.runtimeStateRoot();
  v.dir = options_.paths.containerDir(r.id);
  v.bundle = v.dir + "/bundle";
  v.rootfs = v.dir + "/rootfs";
  v.cgroupsPath = r.cgroupsPath;
  v.state = displayedState(r, entry.restartPending);
  v.tty = r.spec.tty();
  v.stdinOpen = r.spec.stdin();
  bool running = r.state == RecordState::kRunning;
  v.initPid = running ? r.initPid : 0;
  v.shimPid = running ? r.shimPid : 0;
  v.startedNs = r.startedNs;
  v.env = r.env;
  v.user = r.user;
  v.workdir = r.workdir;
  v.shell = r.shell;
  v.labels = r.labels;
  return v;
}

api::CallResult<pb::ContainerListReply> ContainerEngine::list(
    const pb::ContainerListRequest& request) {
  int64_t now = shim::realtimeNowNs();
  pb::ContainerListReply reply;
  std::lock_guard lock(mu_);
  for (const auto& [id, entry] : table_) {
    const ContainerRecord& r = entry->record;
    bool up = r.state == RecordState::kRunning || entry->restartPending;
    if (!request.all() && !up) continue;
    if (!matchesLabels(r, request.label_filter())) continue;
    pb::ContainerSummary* summary = reply.add_containers();
    *summary = summarize(r, entry->restartPending, now);
    addHealth(id, *summary, nullptr);
  }
  // Newest first, as `docker ps` lists them.
  std::stable_sort(reply.mutable_containers()->begin(), reply.mutable_containers()->end(),
                   [](const auto& a, const auto& b) { return a.created_ns() > b.created_ns(); });
  return reply;
}

api::CallResult<pb::ContainerInfo> ContainerEngine::inspect(
    const pb::ContainerInspectRequest& request) {
  auto entry = lookup(request.id());
  if (!entry) return std::move(entry).error();
  const std::string dir = options_.paths.containerDir((*entry)->record.id);
  InfoPaths paths{dir + "/rootfs", dir + "/" + shim::kLogBaseName + ".log", ""};
  std::string address = networkAddress((*entry)->record.id);
  ContainerRecord record;
  pb::ContainerInfo info;
  {
    std::lock_guard lock(mu_);
    paths.cgroupPath = (*entry)->record.cgroupsPath;
    info = describe((*entry)->record, (*entry)->restartPending, shim::realtimeNowNs(), paths);
    addHealth((*entry)->record.id, *info.mutable_summary(), &info);
    info.set_network(networkOf((*entry)->record));
    if ((*entry)->record.state == RecordState::kRunning) info.set_network_address(address);
    record = (*entry)->record;
  }
  // Outside the table mutex: it reads the disk's usage and the volume store.
  describeStorage(record, info);
  return info;
}

images::ImageService::InUse ContainerEngine::inUse() {
  images::ImageService::InUse used;
  std::map<std::string, std::string> namesByImage;
  std::set<std::string> layers;
  std::lock_guard lock(mu_);
  for (const auto& [id, entry] : table_) {
    const ContainerRecord& r = entry->record;
    if (r.imageId.empty()) continue;
    std::string& names = namesByImage[r.imageId];
    names += (names.empty() ? "" : ", ") + r.name;
    layers.insert(r.layerDirs.begin(), r.layerDirs.end());
  }
  for (const auto& [imageId, names] : namesByImage) {
    used.imageIds.push_back(imageId);
    used.containerNamesByImage.push_back(names);
  }
  used.layerDirs.assign(layers.begin(), layers.end());
  return used;
}

api::CallResult<ContainerView> ContainerEngine::find(const std::string& idOrName) {
  auto entry = lookup(idOrName);
  if (!entry) return std::move(entry).error();
  std::lock_guard lock(mu_);
  return viewOf(**entry);
}

sys::UniqueFd ContainerEngine::shimPidfd(const std::string& id) {
  auto entry = lookup(id);
  if (!entry) return {};
  std::lock_guard lock(mu_);
  const Entry& e = **entry;
  if (e.record.state != RecordState::kRunning || !e.shimPidfd) return {};
  return sys::UniqueFd(::fcntl(e.shimPidfd.get(), F_DUPFD_CLOEXEC, 0));
}

api::CallResult<pb::ExitStatus> ContainerEngine::lastExit(const std::string& id) {
  auto entry = lookup(id);
  if (entry) settleExit(*entry);
  std::lock_guard lock(mu_);
  if (!entry || (*entry)->removed) {
    const std::string& fullId = entry ? (*entry)->record.id : id;
    for (auto it = removedExits_.rbegin(); it != removedExits_.rend(); ++it) {
      if (it->first == fullId) return it->second;
    }
    if (!entry) return std::move(entry).error();
    return api::CallError(pb::NOT_FOUND, "no such container: " + id);
  }
  const ContainerRecord& r = (*entry)->record;
  if (r.state == RecordState::kRunning) {
    return api::CallError(pb::FAILED_PRECONDITION, "container " + r.name + " is running");
  }
  if (!r.hasExit) {
    return api::CallError(pb::FAILED_PRECONDITION, "container " + r.name + " has not exited yet");
  }
  return toProto(r.lastExit);
}

// The caller (an attach) saw the shim exit, possibly before the exit
// monitor's task took note: the exit is handled here and now, auto-remove
// included, so the answer comes with its consequences (`run --rm` returns
// once its container is gone) and without a wait for the monitor. The
// monitor's task then finds the exit handled and does nothing.
void ContainerEngine::settleExit(const EntryPtr& entry) {
  std::unique_lock op(entry->op);
  if (entry->removed || entry->record.state != RecordState::kRunning) return;
  // Without a pidfd the shim was gone before launchLocked could open one
  // (a container running `true`): its exit is just as pending.
  if (entry->shimPidfd && !waitForExit(entry->shimPidfd.get(), std::chrono::milliseconds(0))) {
    return;
  }
  if (monitor_) monitor_->unwatch(entry->record.id);
  recordExit(*entry);
  afterExit(entry, /*atDaemonStart=*/false);
}

std::vector<ContainerView> ContainerEngine::running() {
  std::vector<ContainerView> views;
  std::lock_guard lock(mu_);
  for (const auto& [id, entry] : table_) {
    if (entry->record.state == RecordState::kRunning) views.push_back(viewOf(*entry));
  }
  return views;
}

api::CallResult<pb::ContainerUpdateReply> ContainerEngine::update(
    const pb::ContainerUpdateRequest& request) {
  auto resources = resourcesForUpdate(request);
  if (!resources) return api::CallError(pb::INVALID_ARGUMENT, resources.error().what());
  auto locked = lockEntry(request.id());
  if (!locked) return std::move(locked).error();
  Entry& entry = *locked->entry;
  const std::string& id = entry.record.id;
  if (request.has_restart()) {
    pb::ContainerSpec check = entry.record.spec;
    *check.mutable_restart() = request.restart();
    if (auto valid = validateSpec(check); !valid) {
      return api::CallError(pb::INVALID_ARGUMENT, valid.error().what());
    }
  }
  if (request.has_disk_bytes()) {
    if (auto grown = resizeDiskLocked(entry, request.disk_bytes()); !grown) {
      return std::move(grown).error().context("grow the disk of " + entry.record.name);
    }
  }
  bool changesResources = resources->memory || resources->cpu || resources->pids;
  if (changesResources && entry.record.state == RecordState::kRunning) {
    auto updated =
        runtime::container::updateContainer(options_.paths.runtimeStateRoot(), id, *resources);
    if (!updated)
      return std::move(updated).error().context("update container " + entry.record.name);
  }
  // The bundle too, so the next start keeps the new limits.
  if (changesResources) {
    if (auto written = updateBundleResources(id, *resources); !written)
      return std::move(written).error();
  }
  {
    std::lock_guard lock(mu_);
    applyUpdateToSpec(request, entry.record.spec);
  }
  if (auto saved = persist(entry); !saved) return std::move(saved).error();
  return pb::ContainerUpdateReply();
}

sys::Result<void> ContainerEngine::updateBundleResources(
    const std::string& id, const runtime::config::Resources& resources) {
  std::string configPath = options_.paths.containerDir(id) + "/bundle/config.json";
  std::string text = BERTH_TRY(sys::readFile(configPath));
  runtime::config::Spec spec = BERTH_TRY_CTX(runtime::config::parseSpec(text), configPath);
  if (!spec.linux) spec.linux.emplace();
  if (!spec.linux->resources) spec.linux->resources.emplace();
  mergeResources(*spec.linux->resources, resources);
  return sys::writeFileAtomic(configPath, runtime::config::serializeSpec(spec));
}

}  // namespace berth::agent::engine
