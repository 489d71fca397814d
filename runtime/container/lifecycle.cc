// Lifecycle commands; see lifecycle.h.
#include "runtime/container/lifecycle.h"

#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>

#include "runtime/config/parse.h"
#include "runtime/container/cgroups.h"
#include "runtime/container/hooks.h"
#include "runtime/sys/fs.h"
#include "runtime/sys/syscall.h"

namespace berth::runtime::container {
namespace {

Status deriveStatus(const StateDir& dir, const State& state, cgroup::Manager* cg) {
  if (!initAlive(state)) return Status::kStopped;
  if (sys::pathExists(dir.execFifo())) return Status::kCreated;
  if (cg) {
    auto frozen = cg->frozen();
    if (frozen && *frozen) return Status::kPaused;
  }
  return Status::kRunning;
}

// A pidfd for the init, verified to still be the process the state recorded
// (the pid could have been recycled between the check and the open).
sys::Result<sys::UniqueFd> openInit(const State& state) {
  sys::UniqueFd pidfd(sys::pidfdOpen(state.pid));
  if (!pidfd || !initAlive(state)) {
    return sys::Error(ESRCH, "container \"" + state.id + "\" is not running");
  }
  return pidfd;
}

// Waits (bounded) until the process behind pidfd has exited.
bool waitExited(int pidfd, int timeoutMs) {
  struct pollfd p {pidfd, POLLIN, 0};
  int r;
  do {
    r = ::poll(&p, 1, timeoutMs);
  } while (r < 0 && errno == EINTR);
  return r > 0;
}

sys::Result<void> removeHalfCreated(const StateDir& dir) {
  std::string cgroupsPath;
  if (auto text = sys::readFile(dir.configFile())) {
    if (auto spec = config::parseSpec(*text); spec && spec->linux) cgroupsPath = spec->linux->cgroupsPath;
  }
  if (auto cg = openContainerCgroup(cgroupsPath, dir.id())) {
    (void)(*cg)->killAll(SIGKILL);
    BERTH_TRY_CTX((*cg)->destroy(), "remove cgroup of " + dir.id());
  }
  return sys::removeAll(dir.path());
}

}  // namespace

sys::Result<ContainerInfo> inspectContainer(const std::string& stateRoot, const std::string& id) {
  BERTH_TRY(validateContainerId(id));
  StateDir dir(stateRoot, id);
  State state = BERTH_TRY(loadState(dir));
  auto cg = openContainerCgroup(state.cgroupsPath, id);
  Status status = deriveStatus(dir, state, cg ? cg->get() : nullptr);
  return ContainerInfo{std::move(state), status};
}

sys::Result<std::vector<ContainerInfo>> listContainers(const std::string& stateRoot) {
  std::vector<ContainerInfo> out;
  DIR* d = ::opendir(stateRoot.c_str());
  if (!d) {
    if (errno == ENOENT) return out;
    return sys::Error::fromErrno("open state root " + stateRoot);
  }
  while (struct dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    auto info = inspectContainer(stateRoot, e->d_name);
    if (info) out.push_back(std::move(*info));
  }
  ::closedir(d);
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.state.created < b.state.created; });
  return out;
}

sys::Result<void> killContainer(const std::string& stateRoot, const std::string& id, int signal, bool all) {
  ContainerInfo info = BERTH_TRY(inspectContainer(stateRoot, id));
  if (all) {
    auto cg = BERTH_TRY(openContainerCgroup(info.state.cgroupsPath, id));
    return cg->killAll(signal);
  }
  if (info.status == Status::kStopped) return sys::Error(ESRCH, "container \"" + id + "\" is not running");
  sys::UniqueFd pidfd = BERTH_TRY(openInit(info.state));
  if (sys::pidfdSendSignal(pidfd.get(), signal) < 0) return sys::Error::fromErrno("send signal to container init");
  return sys::ok();
}

sys::Result<void> deleteContainer(const std::string& stateRoot, const std::string& id, bool force,
                                  std::string* warnings) {
  BERTH_TRY(validateContainerId(id));
  StateDir dir(stateRoot, id);
  auto loaded = loadState(dir);
  if (!loaded) {
    if (loaded.error().code() != ENOENT) return std::move(loaded).error();
    // A state dir without state.json is what a runtime killed mid-create
    // leaves: remove its cgroup (from the saved config) and the dir.
    if (sys::pathExists(dir.path())) return removeHalfCreated(dir);
    // runc: `delete --force` of a container that is already gone succeeds.
    if (force) return sys::ok();
    return std::move(loaded).error();
  }
  State& state = *loaded;
  auto cg = BERTH_TRY(openContainerCgroup(state.cgroupsPath, id));
  Status status = deriveStatus(dir, state, cg.get());
  if ((status == Status::kRunning || status == Status::kPaused) && !force) {
    return sys::Error(EBUSY, "container \"" + id + "\" is " + statusName(status) +
                                 ": stop it first or use --force");
  }
  if (status != Status::kStopped) {
    // A created container (and, with --force, a running one) is killed:
    // every process of its cgroup, so nothing it forked survives.
    if (auto pidfd = openInit(state)) {
      sys::pidfdSendSignal(pidfd->get(), SIGKILL);
      if (status == Status::kPaused) (void)cg->thaw();
      (void)cg->killAll(SIGKILL);
      waitExited(pidfd->get(), 5000);
    }
  }
  BERTH_TRY_CTX(cg->destroy(), "remove cgroup of " + id);
  auto configText = sys::readFile(dir.configFile());
  if (configText) {
    auto spec = config::parseSpec(*configText);
    if (spec && spec->hooks && !spec->hooks->poststop.empty()) {
      if (auto r = runHooks(spec->hooks->poststop, "poststop", stateJson(state, Status::kStopped));
          !r && warnings) {
        *warnings += r.error().str();
      }
    }
  }
  return sys::removeAll(dir.path());
}

sys::Result<void> pauseContainer(const std::string& stateRoot, const std::string& id) {
  ContainerInfo info = BERTH_TRY(inspectContainer(stateRoot, id));
  if (info.status != Status::kRunning && info.status != Status::kCreated) {
    return sys::Error::invalid("container \"" + id + "\" is " + statusName(info.status) + ": cannot pause");
  }
  auto cg = BERTH_TRY(openContainerCgroup(info.state.cgroupsPath, id));
  return cg->freeze();
}

sys::Result<void> resumeContainer(const std::string& stateRoot, const std::string& id) {
  ContainerInfo info = BERTH_TRY(inspectContainer(stateRoot, id));
  if (info.status != Status::kPaused) {
    return sys::Error::invalid("container \"" + id + "\" is not paused");
  }
  auto cg = BERTH_TRY(openContainerCgroup(info.state.cgroupsPath, id));
  return cg->thaw();
}

sys::Result<std::vector<pid_t>> containerPids(const std::string& stateRoot, const std::string& id) {
  ContainerInfo info = BERTH_TRY(inspectContainer(stateRoot, id));
  auto cg = BERTH_TRY(openContainerCgroup(info.state.cgroupsPath, id));
  return cg->pids();
}

sys::Result<void> updateContainer(const std::string& stateRoot, const std::string& id,
                                  const config::Resources& resources) {
  ContainerInfo info = BERTH_TRY(inspectContainer(stateRoot, id));
  if (info.status == Status::kStopped) return sys::Error::invalid("container \"" + id + "\" is stopped");
  auto cg = BERTH_TRY(openContainerCgroup(info.state.cgroupsPath, id));
  return cg->update(resources);
}

}  // namespace berth::runtime::container
