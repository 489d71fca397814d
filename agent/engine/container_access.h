// What the streaming calls (logs, exec, shell, attach, stats) need from the
// container engine, and nothing more: find a container by id, id prefix or
// name and get a snapshot of where its pieces are; start a created one.
// The engine (container_engine.h) implements it; the stream modules
// (log_stream.h, exec_session.h, stats_stream.h) only use it, so they can be
// tested with a small fake.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "agent/api/status.h"
#include "runtime/sys/fd.h"

namespace berth::agent::engine {

namespace pb = ::berth::api;

// A snapshot: valid when it was taken; the container may change afterwards
// (a stream must cope with the shim going away at any time).
struct ContainerView {
  std::string id;         // 64 hex
  std::string name;
  std::string runtimeId;  // its id in the runtime library's state root
  std::string stateRoot;  // the runtime library's state root (--root)
  std::string dir;        // <root>/containers/<id>: the shim's --dir (logs, attach.sock, exit.json)
  std::string bundle;     // the OCI bundle (config.json)
  std::string rootfs;     // the mounted rootfs
  std::string cgroupsPath;  // linux.cgroupsPath of its config
  pb::ContainerState state = pb::STATE_UNSPECIFIED;
  bool tty = false;
  bool stdinOpen = false;
  pid_t initPid = 0;   // host pid of the init while running
  pid_t shimPid = 0;   // while running
  int64_t startedNs = 0;
  // From the image config and the run options, for exec/shell defaults.
  std::vector<std::string> env;   // the container's effective environment
  std::string user;               // effective "uid:gid"
  std::string workdir;
  std::string shell;              // the image's label io.berth.shell, else /bin/sh
  std::map<std::string, std::string> labels;
};

class ContainerAccess {
 public:
  virtual ~ContainerAccess() = default;
  // NOT_FOUND "no such container: X"; an ambiguous id prefix is INVALID_ARGUMENT.
  virtual api::CallResult<ContainerView> find(const std::string& idOrName) = 0;
  // Starts a created or exited container (AttachStart.start); returns the view
  // after the start (running, with initPid, shimPid and startedNs set).
  virtual api::CallResult<ContainerView> start(const std::string& idOrName) = 0;
  // A pidfd of the container's current shim (readable once it exited, i.e.
  // once the init exited and its logs and exit.json are complete); invalid fd
  // when the container is not running.
  virtual sys::UniqueFd shimPidfd(const std::string& id) = 0;
  // The recorded exit of the container's last run (after the shim exited).
  virtual api::CallResult<pb::ExitStatus> lastExit(const std::string& id) = 0;
  // Every running container (stats without ids).
  virtual std::vector<ContainerView> running() = 0;
};

}  // namespace berth::agent::engine
