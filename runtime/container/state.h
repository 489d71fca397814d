// Container state on disk: one directory per container under the runtime
// root (--root, default /run/berth-runtime), holding state.json, a copy of the
// container's config and the exec fifo that `start` opens.
//
// The status is never stored as truth: it is derived each time from the
// init process (alive? same start time, so a recycled pid is not mistaken
// for it?), the fifo (created but not started) and the freezer (paused).
#pragma once

#include <sys/types.h>

#include <map>
#include <string>

#include "runtime/sys/result.h"

namespace berth::runtime::container {

inline constexpr const char* kDefaultStateRoot = "/run/berth-runtime";
inline constexpr const char* kOciVersion = "1.2.0";

enum class Status { kCreating, kCreated, kRunning, kPaused, kStopped };
const char* statusName(Status s);

struct State {
  std::string id;
  pid_t pid = 0;
  unsigned long long initStartTime = 0;  // field 22 of /proc/<pid>/stat
  std::string bundle;
  std::string rootfs;
  std::string created;  // RFC 3339, UTC
  std::string cgroupsPath;
  uid_t owner = 0;
  std::map<std::string, std::string> annotations;
};

// Paths inside a state root for one container.
class StateDir {
 public:
  StateDir(std::string root, std::string id);
  const std::string& root() const { return root_; }
  const std::string& id() const { return id_; }
  const std::string& path() const { return dir_; }
  std::string stateFile() const { return dir_ + "/state.json"; }
  std::string configFile() const { return dir_ + "/config.json"; }
  std::string execFifo() const { return dir_ + "/exec.fifo"; }

 private:
  std::string root_, id_, dir_;
};

// Container ids name directories, so they are restricted like runc's:
// letters, digits and "_+-." only, not starting with "." (no path tricks).
sys::Result<void> validateContainerId(const std::string& id);

sys::Result<void> saveState(const StateDir& dir, const State& state);
sys::Result<State> loadState(const StateDir& dir);

// The runtime-spec state JSON (`berth-runtime state`, hook stdin).
std::string stateJson(const State& state, Status status);

// Reads the start time of `pid` from /proc; 0 when the process is gone.
unsigned long long processStartTime(pid_t pid);
// True when `pid` is the same live, non-zombie process the state recorded.
bool initAlive(const State& state);

std::string nowRfc3339();

}  // namespace berth::runtime::container
