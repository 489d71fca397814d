// Running containers: start (through berth-shim), stop, restart, remove, and
// what happens when a shim exits (the exit recorded, then auto-remove or the
// restart policy, with backoff timers on the exit monitor).
//
// Every function named ...Locked runs with the container's operation mutex
// held; record fields are changed with the table mutex held as well.
#include <fcntl.h>

#include <csignal>
#include <cstdio>

#include "agent/engine/container_engine.h"
#include "agent/engine/container_mounts.h"
#include "agent/engine/container_resources.h"
#include "agent/engine/spec_options.h"
#include "agent/shim/exit_status.h"
#include "agent/shim/launch.h"
#include "runtime/container/lifecycle.h"
#include "runtime/linux/signals.h"
#include "runtime/sys/syscall.h"
#include "storage/rootfs/rootfs.h"

namespace berth::agent::engine {
namespace {

// After SIGKILL to every process of the container, the shim still has to
// flush the log and write exit.json.
constexpr std::chrono::seconds kKillGrace{10};
// The exit code recorded when a restart could not even start the container.
constexpr int kStartFailedExitCode = 128;
// The exit code recorded when a shim died without writing exit.json.
constexpr int kUnknownExitCode = 255;

std::chrono::milliseconds stopTimeout(const pb::ContainerSpec& spec,
                                      std::optional<uint32_t> requested) {
  uint32_t seconds =
      requested ? *requested
                : (spec.has_stop_timeout() ? spec.stop_timeout() : kDefaultStopTimeoutSeconds);
  return std::chrono::seconds(seconds);
}

}  // namespace

api::CallResult<pb::ContainerStartReply> ContainerEngine::start(
    const pb::ContainerStartRequest& request) {
  auto locked = lockEntry(request.id());
  if (!locked) return std::move(locked).error();
  if (auto started = startOrRemoveLocked(*locked->entry); !started)
    return std::move(started).error();
  return pb::ContainerStartReply();
}

api::CallResult<ContainerView> ContainerEngine::start(const std::string& idOrName) {
  auto locked = lockEntry(idOrName);
  if (!locked) return std::move(locked).error();
  if (auto started = startOrRemoveLocked(*locked->entry); !started)
    return std::move(started).error();
  std::lock_guard lock(mu_);
  return viewOf(*locked->entry);
}

sys::Result<void> ContainerEngine::startOrRemoveLocked(Entry& entry) {
  auto started = startLocked(entry);
  if (started) return started;
  // An auto-remove container leaves nothing behind, not even when its start
  // failed (`docker run --rm /no/such` removes it too); the start's error is
  // the one to report.
  if (entry.record.spec.auto_remove() && entry.record.state != RecordState::kRunning) {
    if (auto removed = removeLocked(entry, /*force=*/true); !removed) {
      std::fprintf(stderr, "berthd: auto-remove %s after a failed start: %s\n",
                   entry.record.name.c_str(), removed.error().message.c_str());
    }
  }
  return started;
}

api::CallResult<pb::ContainerStopReply> ContainerEngine::stop(
    const pb::ContainerStopRequest& request) {
  auto locked = lockEntry(request.id());
  if (!locked) return std::move(locked).error();
  std::optional<uint32_t> timeout;
  if (request.has_timeout_seconds()) timeout = request.timeout_seconds();
  if (auto stopped = stopLocked(*locked->entry, timeout, /*forRestart=*/false); !stopped) {
    return std::move(stopped).error();
  }
  return pb::ContainerStopReply();
}

api::CallResult<pb::ContainerRestartReply> ContainerEngine::restart(
    const pb::ContainerRestartRequest& request) {
  auto locked = lockEntry(request.id());
  if (!locked) return std::move(locked).error();
  std::optional<uint32_t> timeout;
  if (request.has_timeout_seconds()) timeout = request.timeout_seconds();
  Entry& entry = *locked->entry;
  // A restart keeps an auto-remove container: it is stopped to run again.
  if (auto stopped = stopLocked(entry, timeout, /*forRestart=*/true); !stopped) {
    return std::move(stopped).error();
  }
  if (auto started = startLocked(entry); !started) return std::move(started).error();
  return pb::ContainerRestartReply();
}

api::CallResult<pb::ContainerRemoveReply> ContainerEngine::remove(
    const pb::ContainerRemoveRequest& request) {
  auto locked = lockEntry(request.id());
  if (!locked) return std::move(locked).error();
  if (auto removed = removeLocked(*locked->entry, request.force()); !removed) {
    return std::move(removed).error();
  }
  return pb::ContainerRemoveReply();
}

sys::Result<void> ContainerEngine::startLocked(Entry& entry) {
  RecordState state = entry.record.state;
  if (state == RecordState::kRunning)
    return sys::ok();  // Docker: starting a running container is a no-op
  if (state != RecordState::kCreated && state != RecordState::kExited) {
    return sys::Error(EBUSY, "container " + entry.record.name + " is " + recordStateName(state));
  }
  if (monitor_) monitor_->cancel(entry.record.id);
  {
    // A start by the user begins a new life: no pending restart, no count.
    std::lock_guard lock(mu_);
    entry.restartPending = false;
    entry.record.stoppedByUser = false;
    entry.record.restartCount = 0;
    entry.record.backoffStep = 0;
  }
  return launchLocked(entry);
}

sys::Result<void> ContainerEngine::launchLocked(Entry& entry) {
  const std::string id = entry.record.id;
  const std::string dir = options_.paths.containerDir(id);
  // The previous run's state: the shim leaves it for us to decide.
  BERTH_TRY(deleteRuntimeState(options_.paths.runtimeStateRoot(), id));
  BERTH_TRY(mountRootfsLocked(entry));
  // Before the shim: the names answer before the container's process runs.
  BERTH_TRY(attachNetworkLocked(entry));

  shim::LaunchOptions launch;
  launch.binary = options_.paths.shimBinary;
  shim::ShimOptions shimOptions;
  shimOptions.id = id;
  shimOptions.bundle = dir + "/bundle";
  shimOptions.stateRoot = options_.paths.runtimeStateRoot();
  shimOptions.dir = dir;
  shimOptions.tty = entry.record.spec.tty();
  shimOptions.openStdin = entry.record.spec.stdin();
  shimOptions.seccompCacheDir = options_.paths.seccompCacheDir();
  shimOptions.logMaxSize = options_.logMaxSize;
  shimOptions.logMaxFiles = options_.logMaxFiles;
  // Taken before the launch: a short-lived container may exit (and the shim
  // stamp its finish) before the launch returns.
  int64_t startedNs = shim::realtimeNowNs();
  auto report = shim::launchShim(launch, shimOptions);
  if (!report) {
    detachNetwork(id, /*release=*/false);
    (void)deleteRuntimeState(options_.paths.runtimeStateRoot(), id);
    return std::move(report).error();
  }
  // Not our child (the shim detached): a pidfd is how we learn of its exit.
  sys::UniqueFd pidfd(sys::pidfdOpen(report->shimPid));
  if (!pidfd && errno != ESRCH) {
    // Without a pidfd we cannot watch it: better no container than an
    // unsupervised one.
    sys::Error error =
        sys::Error::fromErrno("pidfd_open of berth-shim " + std::to_string(report->shimPid));
    (void)runtime::container::killContainer(options_.paths.runtimeStateRoot(), id, SIGKILL,
                                            /*all=*/true);
    return error;
  }
  uint64_t generation;
  {
    std::lock_guard lock(mu_);
    ContainerRecord& r = entry.record;
    r.state = RecordState::kRunning;
    r.initPid = report->initPid;
    r.shimPid = report->shimPid;
    r.startedNs = startedNs;
    r.everStarted = true;
    generation = ++entry.generation;
    entry.shimPidfd.reset(pidfd ? ::fcntl(pidfd.get(), F_DUPFD_CLOEXEC, 0) : -1);
  }
  if (auto saved = persist(entry); !saved) {
    std::fprintf(stderr, "berthd: %s\n", saved.error().str().c_str());
  }
  trackHealthLocked(entry);
  watchShim(id, generation, std::move(pidfd));
  return sys::ok();
}

sys::Result<void> ContainerEngine::mountRootfsLocked(Entry& entry) {
  const std::string dir = options_.paths.containerDir(entry.record.id);
  // Idempotent: keeps a live mount, re-makes one lost with a reboot.
  auto rootfs = storage::rootfs::prepare(dir, entry.record.layerDirs, rootfsOptionsFor(entry.record.spec));
  if (!rootfs && rootfs.error().code() == ENOENT) {
    // A layer directory is gone (garbage-collected or the store was moved):
    // resolving the image again unpacks what is missing.
    auto image = images_.resolve(entry.record.imageId);
    if (image) {
      std::lock_guard lock(mu_);
      entry.record.layerDirs = image->layerDirs;
    }
    rootfs = storage::rootfs::prepare(dir, entry.record.layerDirs, rootfsOptionsFor(entry.record.spec));
  }
  if (!rootfs) return std::move(rootfs).error().context("mount the rootfs of " + entry.record.name);
  return sys::ok();
}

void ContainerEngine::watchShim(const std::string& id, uint64_t generation, sys::UniqueFd pidfd) {
  if (!pidfd) {
    // pidfd_open found no process: the shim already exited (a container
    // running `true` can be done before we look).
    onShimExit(id, generation);
    return;
  }
  if (!monitor_) return;
  auto watched =
      monitor_->watch(id, std::move(pidfd), [this, id, generation] { onShimExit(id, generation); });
  if (!watched) {
    // Never a reason to kill a running container: its exit is recorded by
    // a stop, or by the next daemon's recovery.
    std::fprintf(stderr, "berthd: %s\n", watched.error().str().c_str());
  }
}

void ContainerEngine::onShimExit(const std::string& id, uint64_t generation) {
  // Off the monitor thread: the container may be busy with a long stop.
  tasks_.post([this, id, generation] {
    EntryPtr entry = entryById(id);
    if (!entry) return;
    std::unique_lock op(entry->op);
    // A stop or remove that got here first already recorded this exit.
    if (entry->removed || entry->generation != generation ||
        entry->record.state != RecordState::kRunning) {
      return;
    }
    recordExit(*entry);
    afterExit(entry, /*atDaemonStart=*/false);
  });
}

void ContainerEngine::recordExit(Entry& entry) {
  const std::string dir = options_.paths.containerDir(entry.record.id);
  untrackHealth(entry.record.id);
  // Its names go the moment it stops; the lease stays for its next start.
  detachNetwork(entry.record.id, /*release=*/false);
  RecordedExit exit;
  if (auto status = shim::readExitFile(dir)) {
    exit.exitCode = status->exitCode;
    exit.signal = status->signal;
    exit.finishedNs = status->finishedAtNs;
    exit.oomKilled = oomKilled(entry.record.cgroupsPath, entry.record.id);
  } else {
    // The shim died without recording (killed): whatever is left of the
    // container has no supervisor and no log, so it goes too.
    (void)runtime::container::killContainer(options_.paths.runtimeStateRoot(), entry.record.id,
                                            SIGKILL,
                                            /*all=*/true);
    exit.exitCode = kUnknownExitCode;
    exit.finishedNs = shim::realtimeNowNs();
  }
  {
    std::lock_guard lock(mu_);
    ContainerRecord& r = entry.record;
    r.state = RecordState::kExited;
    r.hasExit = true;
    r.lastExit = exit;
    r.initPid = 0;
    r.shimPid = 0;
    entry.shimPidfd.reset();
  }
  if (auto saved = persist(entry); !saved) {
    std::fprintf(stderr, "berthd: %s\n", saved.error().str().c_str());
  }
}

void ContainerEngine::afterExit(const EntryPtr& entryPtr, bool atDaemonStart) {
  Entry& entry = *entryPtr;
  const ContainerRecord& r = entry.record;
  if (r.spec.auto_remove()) {
    if (auto removed = removeLocked(entry, /*force=*/true, /*deferCleanup=*/true); !removed) {
      std::fprintf(stderr, "berthd: auto-remove %s: %s\n", r.name.c_str(),
                   removed.error().message.c_str());
    }
    return;
  }
  pb::RestartPolicy policy = effectivePolicy(r.spec.restart(), r.spec.auto_remove());
  ExitFacts facts;
  facts.exitCode = r.lastExit.exitCode;
  facts.stoppedByUser = r.stoppedByUser;
  facts.restartCount = r.restartCount;
  facts.backoffStep = r.backoffStep;
  int64_t ranNs = r.lastExit.finishedNs - r.startedNs;
  facts.ranFor = std::chrono::milliseconds(ranNs > 0 ? ranNs / 1000000 : 0);
  RestartDecision decision;
  if (atDaemonStart) {
    decision.restart = restartAtDaemonStart(policy, facts, r.everStarted);
    decision.nextBackoffStep = r.backoffStep;
  } else {
    decision = decideRestart(policy, facts, backoff());
  }
  if (!decision.restart) return;
  uint64_t generation;
  {
    std::lock_guard lock(mu_);
    entry.record.backoffStep = decision.nextBackoffStep;
    entry.restartPending = true;
    generation = entry.generation;
  }
  (void)persist(entry);
  if (atDaemonStart) {
    // In parallel with the other recoveries; the daemon serves meanwhile.
    std::string id = r.id;
    tasks_.post([this, id, generation] { onRestartTimer(id, generation); });
  } else if (decision.delay.count() == 0) {
    restartNow(entryPtr);
  } else if (monitor_) {
    std::string id = r.id;
    monitor_->schedule(id, ExitMonitor::Clock::now() + decision.delay, [this, id, generation] {
      tasks_.post([this, id, generation] { onRestartTimer(id, generation); });
    });
  }
}

void ContainerEngine::onRestartTimer(const std::string& id, uint64_t generation) {
  EntryPtr entry = entryById(id);
  if (!entry) return;
  std::unique_lock op(entry->op);
  // A user start, stop or remove since the timer was set wins.
  if (entry->removed || !entry->restartPending || entry->generation != generation) return;
  restartNow(entry);
}

void ContainerEngine::restartNow(const EntryPtr& entryPtr) {
  Entry& entry = *entryPtr;
  {
    std::lock_guard lock(mu_);
    entry.restartPending = false;
    ++entry.record.restartCount;
  }
  auto started = launchLocked(entry);
  if (started) return;
  std::fprintf(stderr, "berthd: restart %s: %s\n", entry.record.name.c_str(),
               started.error().str().c_str());
  // A failed start counts as a failed run, so the policy and its backoff
  // go on (a missing layer may come back; a crash loop must not spin).
  {
    std::lock_guard lock(mu_);
    ContainerRecord& r = entry.record;
    r.state = RecordState::kExited;
    r.hasExit = true;
    r.startedNs = shim::realtimeNowNs();
    r.lastExit = RecordedExit{kStartFailedExitCode, 0, r.startedNs, false};
  }
  (void)persist(entry);
  afterExit(entryPtr, /*atDaemonStart=*/false);
}

api::CallResult<void> ContainerEngine::stopLocked(Entry& entry,
                                                  std::optional<uint32_t> timeoutSeconds,
                                                  bool forRestart) {
  const std::string id = entry.record.id;
  bool timerCancelled = monitor_ && monitor_->cancel(id);
  if (entry.record.state != RecordState::kRunning) {
    if (timerCancelled || entry.restartPending) {
      // Stopping a container between restarts: it stays stopped.
      std::lock_guard lock(mu_);
      entry.restartPending = false;
      entry.record.stoppedByUser = true;
      ++entry.generation;
    }
    (void)persist(entry);
    return {};
  }
  {
    // Recorded before the signal: a daemon crash mid-stop must not restart it.
    std::lock_guard lock(mu_);
    entry.record.stoppedByUser = true;
  }
  (void)persist(entry);
  const std::string stateRoot = options_.paths.runtimeStateRoot();
  auto signal =
      runtime::parseSignal(entry.record.stopSignal.empty() ? "SIGTERM" : entry.record.stopSignal);
  (void)runtime::container::killContainer(stateRoot, id, signal ? *signal : SIGTERM, /*all=*/false);
  int pidfd = entry.shimPidfd.get();
  bool exited = pidfd < 0 || waitForExit(pidfd, stopTimeout(entry.record.spec, timeoutSeconds));
  if (!exited) {
    (void)runtime::container::killContainer(stateRoot, id, SIGKILL, /*all=*/true);
    exited = waitForExit(pidfd, kKillGrace);
  }
  if (!exited) {
    return api::CallError(pb::DEADLINE_EXCEEDED,
                          "container " + entry.record.name + " did not exit after SIGKILL");
  }
  if (monitor_) monitor_->unwatch(id);
  recordExit(entry);
  if (entry.record.spec.auto_remove() && !forRestart) return removeLocked(entry, /*force=*/true);
  return {};
}

api::CallResult<void> ContainerEngine::removeLocked(Entry& entry, bool force, bool deferCleanup) {
  const std::string id = entry.record.id;
  if (entry.record.state == RecordState::kRunning) {
    if (!force) {
      return api::CallError(
          pb::CONFLICT, "container " + entry.record.name + " is running: stop it first or use -f");
    }
    {
      std::lock_guard lock(mu_);
      entry.record.stoppedByUser = true;
    }
    (void)runtime::container::killContainer(options_.paths.runtimeStateRoot(), id, SIGKILL,
                                            /*all=*/true);
    if (entry.shimPidfd) (void)waitForExit(entry.shimPidfd.get(), kKillGrace);
    if (monitor_) monitor_->unwatch(id);
    recordExit(entry);
  }
  if (monitor_) monitor_->cancel(id);
  detachNetwork(id, /*release=*/true);
  {
    std::lock_guard lock(mu_);
    entry.record.state = RecordState::kRemoving;
    entry.restartPending = false;
    ++entry.generation;
  }
  (void)persist(entry);
  std::optional<pb::ExitStatus> exit;
  if (entry.record.hasExit) {
    exit.emplace();
    exit->set_code(entry.record.lastExit.exitCode);
    exit->set_signal(entry.record.lastExit.signal);
    exit->set_oom_killed(entry.record.lastExit.oomKilled);
  }
  if (deferCleanup && removeInBackgroundLocked(entry, exit)) return {};
  if (auto removed = removeContainerResources(options_.paths, id, entry.record.cgroupsPath);
      !removed) {
    return api::CallError(pb::INTERNAL,
                          "remove container " + entry.record.name + ": " + removed.error().str());
  }
  forget(entry, exit);
  return {};
}

bool ContainerEngine::removeInBackgroundLocked(Entry& entry,
                                               const std::optional<pb::ExitStatus>& exit) {
  const std::string id = entry.record.id;
  // Out of the way first (a rename: the rootfs mount inside moves along),
  // so the container is gone in every way a client can see, its name free,
  // before the slow part: the runtime's delete, the unmount and the files
  // take milliseconds that `run --rm` would otherwise wait for.
  const std::string moved = options_.paths.containersRoot() + "/" + kRemovingPrefix + id;
  if (::rename(options_.paths.containerDir(id).c_str(), moved.c_str()) != 0) return false;
  forget(entry, exit);
  auto cleanUp = [paths = options_.paths, id, cgroupsPath = entry.record.cgroupsPath, moved] {
    if (auto removed = removeContainerResources(paths, id, cgroupsPath, moved); !removed) {
      // The next daemon's recovery tries again (container_recover.cc).
      std::fprintf(stderr, "berthd: remove container %s: %s\n", id.c_str(),
                   removed.error().str().c_str());
    }
  };
  // A daemon shutting down (the runner refuses new tasks) does it now.
  if (!tasks_.post(cleanUp)) cleanUp();
  return true;
}

}  // namespace berth::agent::engine
