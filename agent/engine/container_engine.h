// berthd's containers: made from images, each supervised by its own
// berth-shim, recorded on disk so that a SIGKILL of berthd and a restart
// stop no container and lose nothing.
//
// Where things live (daemon_paths.h): <root>/containers/<id>/ holds
// record.json (container_record.h), bundle/config.json, the overlay rootfs
// (upper/, work/, rootfs/) and the shim's files (logs, exit.json, shim.pid,
// attach.sock); <run>/runtime is the runtime library's state root.
//
// A start: the image's layers -> storage::rootfs::prepare -> the bundle's
// config (written at create, updated by `update`) -> the old runtime state
// deleted (the shim never deletes) -> launchShim -> recorded running, the
// shim's pidfd watched by the exit monitor. When a shim exits, its
// exit.json is recorded and the restart policy (restart_policy.h) decides:
// nothing, a restart now, or one after a backoff (RESTARTING meanwhile).
//
// Concurrency: connections call from many threads. One mutex guards the
// table (ids, names, records); each container has its own operation mutex
// that serializes start/stop/remove/update/exit handling on it. The table
// mutex is never held across a slow step (image resolve, shim launch, a
// stop's wait), so `berth ps` answers while a container takes 10 s to stop.
// Lock order: a container's operation mutex, then the table mutex.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agent/api/connection.h"
#include "agent/api/status.h"
#include "agent/engine/container_access.h"
#include "agent/engine/container_record.h"
#include "agent/engine/container_resources.h"
#include "agent/engine/daemon_paths.h"
#include "agent/engine/exit_monitor.h"
#include "agent/engine/health_monitor.h"
#include "agent/engine/names.h"
#include "agent/engine/restart_policy.h"
#include "agent/images/image_service.h"
#include "agent/shim/options.h"
#include "net/network/network.h"
#include "runtime/config/spec.h"
#include "storage/volume/volume.h"

namespace berth::agent::engine {

struct EngineOptions {
  DaemonPaths paths;
  std::chrono::milliseconds restartBackoffStart{100};
  std::chrono::milliseconds restartBackoffCap{30000};
  std::chrono::seconds restartResetAfter{10};
  // Log rotation of every container (berth-shim): files of at most this
  // size, this many kept, so a chatty container never fills the disk.
  uint64_t logMaxSize = shim::kDefaultLogMaxSize;
  unsigned logMaxFiles = shim::kDefaultLogMaxFiles;
  // Project networks (not owned; must outlive the engine). nullptr: every
  // container gets a private network namespace with only loopback. With
  // them, a container whose spec names a network is attached at each start
  // and detached when it stops (container_network.cc).
  net::network::ProjectNetworks* networks = nullptr;
};

class ContainerEngine : public ContainerAccess {
 public:
  static sys::Result<std::unique_ptr<ContainerEngine>> open(EngineOptions options,
                                                            images::ImageService& images);
  // Stops the monitor and workers; containers keep running.
  ~ContainerEngine() override;

  // At daemon start: loads the records, re-attaches to live shims, records
  // the exits that happened meanwhile, cleans up what a crash left behind
  // and restarts what should run. (The exit monitor runs from open() on.)
  sys::Result<void> recover();
  // Stops the monitor thread, timers and workers; containers keep running.
  // Pending restarts are dropped: recover() of the next daemon decides again.
  void shutdown();

  api::CallResult<pb::ContainerCreateReply> create(const pb::ContainerCreateRequest& request);
  api::CallResult<pb::ContainerRunReply> run(const pb::ContainerRunRequest& request);
  api::CallResult<pb::ContainerStartReply> start(const pb::ContainerStartRequest& request);
  api::CallResult<pb::ContainerStopReply> stop(const pb::ContainerStopRequest& request);
  api::CallResult<pb::ContainerRestartReply> restart(const pb::ContainerRestartRequest& request);
  api::CallResult<pb::ContainerRemoveReply> remove(const pb::ContainerRemoveRequest& request);
  api::CallResult<pb::ContainerListReply> list(const pb::ContainerListRequest& request);
  api::CallResult<pb::ContainerInfo> inspect(const pb::ContainerInspectRequest& request);
  api::CallResult<pb::ContainerUpdateReply> update(const pb::ContainerUpdateRequest& request);

  // Named volumes (container_volumes.cc); users are the containers whose
  // spec names the volume.
  api::CallResult<pb::VolumeInfo> volumeCreate(const pb::VolumeCreateRequest& request);
  api::CallResult<pb::VolumeListReply> volumeList(const pb::VolumeListRequest& request);
  api::CallResult<pb::VolumeInfo> volumeInspect(const pb::VolumeInspectRequest& request);
  api::CallResult<pb::VolumeRemoveReply> volumeRemove(const pb::VolumeRemoveRequest& request);
  api::CallResult<pb::VolumePruneReply> volumePrune(const pb::VolumePruneRequest& request);
  api::CallResult<pb::StreamEnd> volumeExport(const pb::VolumeExportRequest& request,
                                              api::StreamWriter<pb::VolumeData>& out);
  api::CallResult<pb::VolumeImportReply> volumeImport(const pb::VolumeImportRequest& request,
                                                      api::BidiStream& stream);

  // For ImageService::setInUse.
  images::ImageService::InUse inUse();

  // ContainerAccess
  api::CallResult<ContainerView> find(const std::string& idOrName) override;
  // A failed start of an auto-remove container removes it.
  api::CallResult<ContainerView> start(const std::string& idOrName) override;
  sys::UniqueFd shimPidfd(const std::string& id) override;
  // Once the shim exited, the exit is recorded and handled (auto-remove,
  // restart policy) before this returns, even when the exit monitor has not
  // seen it yet; an auto-removed container's exit is kept for a while.
  api::CallResult<pb::ExitStatus> lastExit(const std::string& id) override;
  std::vector<ContainerView> running() override;

  // Problems met by recover() that did not stop it (a corrupt record is
  // reported and its directory left alone).
  std::vector<std::string> recoveryWarnings() const;

 private:
  struct Entry {
    std::mutex op;  // serializes operations on this container
    // Written with `op` and the table mutex held; read with either.
    ContainerRecord record;
    sys::UniqueFd shimPidfd;      // while running
    uint64_t generation = 0;      // bumped at each start and user stop: stale events are ignored
    bool restartPending = false;  // a restart is scheduled (RESTARTING)
    bool removed = false;         // gone from the table; waiters give up
  };
  using EntryPtr = std::shared_ptr<Entry>;
  // An entry found and its operation mutex held.
  struct Locked {
    EntryPtr entry;
    std::unique_lock<std::mutex> lock;
  };

  ContainerEngine(EngineOptions options, images::ImageService& images);

  // Lookups (container_engine.cc).
  api::CallResult<EntryPtr> lookup(const std::string& idOrName);
  api::CallResult<Locked> lockEntry(const std::string& idOrName);
  EntryPtr entryById(const std::string& id);
  ContainerView viewOf(const Entry& entry) const;
  BackoffSettings backoff() const;
  sys::Result<void> persist(const Entry& entry);
  void forget(Entry& entry, const std::optional<pb::ExitStatus>& exit);
  sys::Result<void> updateBundleResources(const std::string& id,
                                          const runtime::config::Resources& resources);

  // Create (container_create.cc).
  api::CallResult<pb::ContainerCreateReply> createContainer(const pb::ContainerSpec& spec);
  api::CallResult<Locked> reserve(const pb::ContainerSpec& spec, const std::string& id);
  sys::Result<void> makeBundle(Entry& entry, const images::ResolvedImage& image);

  // Start, stop, exits and restarts (container_run.cc).
  sys::Result<void> startLocked(Entry& entry);
  // startLocked; a failed start of an auto-remove container removes it.
  sys::Result<void> startOrRemoveLocked(Entry& entry);
  // Handles an exit of the current shim that the monitor has not handled yet.
  void settleExit(const EntryPtr& entry);
  sys::Result<void> launchLocked(Entry& entry);
  sys::Result<void> mountRootfsLocked(Entry& entry);
  api::CallResult<void> stopLocked(Entry& entry, std::optional<uint32_t> timeoutSeconds,
                                   bool forRestart);
  // deferCleanup: forgotten at once, the resources removed in the
  // background (kRemovingPrefix); for auto-remove after an exit.
  api::CallResult<void> removeLocked(Entry& entry, bool force, bool deferCleanup = false);
  bool removeInBackgroundLocked(Entry& entry, const std::optional<pb::ExitStatus>& exit);
  void watchShim(const std::string& id, uint64_t generation, sys::UniqueFd pidfd);
  void onShimExit(const std::string& id, uint64_t generation);
  void recordExit(Entry& entry);
  void afterExit(const EntryPtr& entry, bool atDaemonStart);
  void restartNow(const EntryPtr& entry);
  void onRestartTimer(const std::string& id, uint64_t generation);

  // Volumes, binds, config files and the disk (container_storage.cc,
  // container_volumes.cc).
  sys::Result<void> openVolumes();
  sys::Result<void> addMountsLocked(Entry& entry, runtime::config::Spec& spec,
                                    const std::string& rootfs);
  sys::Result<void> resizeDiskLocked(Entry& entry, uint64_t bytes);
  std::string volumeDataPath(const std::string& name) const;
  void describeStorage(const ContainerRecord& record, pb::ContainerInfo& info);
  // Volume name -> names of the containers using it (takes the table mutex).
  std::map<std::string, std::vector<std::string>> volumeUsers() const;
  pb::VolumeInfo volumeInfo(const storage::volume::VolumeInfo& volume,
                            const std::vector<std::string>& users) const;

  // Project networks (container_network.cc).
  sys::Result<void> attachNetworkLocked(Entry& entry);
  // Errors are logged: a stop or remove goes on without the network.
  void detachNetwork(const std::string& id, bool release);
  std::string networkAddress(const std::string& id) const;
  // Before the entries' recovery: running containers keep their names.
  sys::Result<void> recoverNetworks();

  // Health checks (container_health.cc): tracked from each start (or a
  // live shim adopted at daemon start), dropped at each exit.
  sys::Result<void> startHealthMonitor();
  void trackHealthLocked(const Entry& entry);
  void untrackHealth(const std::string& id);
  // Sets health (and the status's suffix) from the monitor's state.
  void addHealth(const std::string& id, pb::ContainerSummary& summary,
                 pb::ContainerInfo* info) const;

  // Recovery (container_recover.cc).
  void loadRecords();
  void recoverEntry(const EntryPtr& entry);
  void finishRemoval(const std::string& dir, const std::string& id);
  void adoptLiveShim(Entry& entry, LiveShim shim);
  void removeUnknownRuntimeState();

  EngineOptions options_;
  images::ImageService& images_;
  std::unique_ptr<ExitMonitor> monitor_;
  std::unique_ptr<HealthMonitor> health_;  // null without a runtime binary
  TaskRunner tasks_;

  // Serializes the volume store's changes against the users check (lock
  // order: a container's operation mutex, volumesMu_, the table mutex).
  mutable std::mutex volumesMu_;
  std::unique_ptr<storage::volume::VolumeStore> volumes_;

  mutable std::mutex mu_;  // the table
  std::map<std::string, EntryPtr> table_;
  NameIndex names_;
  // Exits of auto-removed containers, for lastExit() after they are gone.
  std::deque<std::pair<std::string, pb::ExitStatus>> removedExits_;
  std::vector<std::string> warnings_;
};

}  // namespace berth::agent::engine
