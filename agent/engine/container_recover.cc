// Recovery at daemon start: berthd may have died by SIGKILL at any point,
// or the host may have rebooted. The records say what should be; the shims,
// the runtime state and the mounts say what is. For each container:
//   creating / removing          a crash mid-create or mid-remove: whatever
//                                exists of it is removed
//   created, bundle incomplete   the same
//   running, shim alive          re-attached: its pidfd is watched again
//   running, shim gone           its exit.json is recorded (the shim writes
//                                it after flushing the logs) and the restart
//                                policy applies, as after a daemon restart
//   exited                       auto-remove, or the restart policy
// A rootfs mount lost with a reboot is re-made by the next start (prepare()
// is idempotent). Runtime state of containers without a record is deleted.
#include <dirent.h>
#include <fcntl.h>

#include <cstdio>
#include <set>

#include "agent/engine/container_engine.h"
#include "agent/engine/container_resources.h"
#include "agent/shim/exit_status.h"
#include "runtime/container/lifecycle.h"
#include "runtime/sys/fs.h"
#include "storage/rootfs/rootfs.h"

namespace berth::agent::engine {
namespace {

std::vector<std::string> directoryNames(const std::string& path) {
  std::vector<std::string> names;
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) return names;
  while (struct dirent* e = ::readdir(dir)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  ::closedir(dir);
  return names;
}

}  // namespace

sys::Result<void> ContainerEngine::recover() {
  if (!monitor_) monitor_ = BERTH_TRY(ExitMonitor::start());
  loadRecords();
  std::vector<EntryPtr> entries;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, entry] : table_) entries.push_back(entry);
  }
  // First: the restarts that the entries' recovery starts attach again.
  if (auto recovered = recoverNetworks(); !recovered) {
    std::lock_guard lock(mu_);
    warnings_.push_back("recover the project networks: " + recovered.error().str());
    std::fprintf(stderr, "berthd: %s\n", warnings_.back().c_str());
  }
  for (const EntryPtr& entry : entries) {
    std::unique_lock op(entry->op);
    if (!entry->removed) recoverEntry(entry);
  }
  removeUnknownRuntimeState();
  return sys::ok();
}

void ContainerEngine::loadRecords() {
  const std::string root = options_.paths.containersRoot();
  for (const std::string& name : directoryNames(root)) {
    const std::string dir = sys::joinPath(root, name);
    if (name.starts_with(kRemovingPrefix)) {
      finishRemoval(dir, name.substr(std::string_view(kRemovingPrefix).size()));
      continue;
    }
    auto record = loadRecord(dir);
    std::lock_guard lock(mu_);
    if (!record && record.error().code() == ENOENT && isFullId(name)) {
      // The directory exists but its record was never written: a crash
      // right after the mkdir of a create. Nothing in it is worth keeping.
      warnings_.push_back("removed " + dir + ": a container directory without a record");
      (void)storage::rootfs::remove(dir);
      continue;
    }
    if (!record) {
      warnings_.push_back(record.error().str() + " (left alone)");
      continue;
    }
    if (record->id != name) {
      warnings_.push_back("the record in " + dir + " is for container " + record->id +
                          " (left alone)");
      continue;
    }
    if (!names_.add(record->id, record->name)) {
      warnings_.push_back("container " + record->id + ": the name " + record->name +
                          " is used twice (left alone)");
      continue;
    }
    auto entry = std::make_shared<Entry>();
    entry->record = std::move(*record);
    table_[entry->record.id] = std::move(entry);
  }
  std::lock_guard lock(mu_);
  for (const std::string& warning : warnings_)
    std::fprintf(stderr, "berthd: %s\n", warning.c_str());
}

// An auto-remove that a daemon's death interrupted after the rename: the
// container is already forgotten; its pieces go now (the runtime state, and
// with it the cgroup, by id; the directory where it was moved).
void ContainerEngine::finishRemoval(const std::string& dir, const std::string& id) {
  std::string cgroupsPath;
  if (auto record = loadRecord(dir)) cgroupsPath = record->cgroupsPath;
  if (!isFullId(id)) {
    std::lock_guard lock(mu_);
    warnings_.push_back(dir + ": not a container id (left alone)");
    return;
  }
  if (auto removed = removeContainerResources(options_.paths, id, cgroupsPath, dir); !removed) {
    std::lock_guard lock(mu_);
    warnings_.push_back("finish the removal of " + id + ": " + removed.error().str());
  }
}

void ContainerEngine::recoverEntry(const EntryPtr& entryPtr) {
  Entry& entry = *entryPtr;
  const ContainerRecord& r = entry.record;
  const std::string dir = options_.paths.containerDir(r.id);
  bool halfMade =
      r.state == RecordState::kCreating || r.state == RecordState::kRemoving ||
      (r.state == RecordState::kCreated && !sys::pathExists(dir + "/bundle/config.json"));
  if (halfMade) {
    if (auto removed = removeContainerResources(options_.paths, r.id, r.cgroupsPath); !removed) {
      std::lock_guard lock(mu_);
      warnings_.push_back("clean up container " + r.name + ": " + removed.error().str());
      return;
    }
    forget(entry, std::nullopt);
    return;
  }
  // A live shim wins over the record: berthd may have died between the
  // shim's start and the record saying "running".
  if (LiveShim shim = openLiveShim(dir, r.id); shim.pidfd) {
    adoptLiveShim(entry, std::move(shim));
    return;
  }
  // It exited while we were away: exit.json has how.
  if (r.state == RecordState::kRunning) recordExit(entry);
  if (r.state == RecordState::kExited) afterExit(entryPtr, /*atDaemonStart=*/true);
}

void ContainerEngine::adoptLiveShim(Entry& entry, LiveShim shim) {
  const std::string id = entry.record.id;
  uint64_t generation;
  bool wasRunning = entry.record.state == RecordState::kRunning;
  {
    std::lock_guard lock(mu_);
    ContainerRecord& r = entry.record;
    if (!wasRunning) {
      // Its init pid is in the runtime state the shim's creator wrote.
      auto info = runtime::container::inspectContainer(options_.paths.runtimeStateRoot(), id);
      r.state = RecordState::kRunning;
      r.initPid = info ? info->state.pid : 0;
      r.startedNs = shim::realtimeNowNs();
      r.everStarted = true;
    }
    r.shimPid = shim.pid;
    entry.shimPidfd.reset(::fcntl(shim.pidfd.get(), F_DUPFD_CLOEXEC, 0));
    generation = ++entry.generation;
  }
  if (!wasRunning) (void)persist(entry);
  trackHealthLocked(entry);
  watchShim(id, generation, std::move(shim.pidfd));
}

void ContainerEngine::removeUnknownRuntimeState() {
  const std::string stateRoot = options_.paths.runtimeStateRoot();
  // Directories with a corrupt record count as known: their containers
  // may be running, and only a person should decide about them.
  std::vector<std::string> dirs = directoryNames(options_.paths.containersRoot());
  std::set<std::string> known(dirs.begin(), dirs.end());
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, entry] : table_) known.insert(id);
  }
  // Every directory, not listContainers(): a runtime killed mid-create leaves
  // a state directory without state.json, which deleteContainer also removes.
  for (const std::string& id : directoryNames(stateRoot)) {
    if (known.count(id) > 0) continue;
    if (auto deleted = deleteRuntimeState(stateRoot, id); !deleted) {
      std::lock_guard lock(mu_);
      warnings_.push_back(deleted.error().str());
    }
  }
}

}  // namespace berth::agent::engine
