// The persisted record of one container: <root>/containers/<id>/record.json.
//
// It is the daemon's memory across restarts (SIGKILL included): what the user
// asked for (the ContainerSpec, kept as protobuf JSON), what that became
// (image id, layers, effective args/env/user/workdir), and where the
// container is in its life (state, pids, restart count, last exit). Written
// by a rename of a temp file at every change of state, so a reader (a
// daemon restarted after a SIGKILL) finds the old or the new record, never a
// torn one; not fsynced, which only a power cut would need. A record that does not parse is an error naming the file: the daemon
// reports it and leaves the directory alone rather than guessing.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/api/berth.pb.h"
#include "runtime/sys/result.h"

namespace berth::agent::engine {

namespace pb = ::berth::api;

inline constexpr const char* kRecordFileName = "record.json";
inline constexpr int kRecordVersion = 1;

// Where a container is in its life, as recorded. "Restarting" is not stored:
// it is an exited container with a pending restart, which a restarted daemon
// decides again from the policy.
enum class RecordState {
  kCreating,  // resources being made; a crash here leaves leftovers to clean
  kCreated,   // bundle complete, never started (or created again)
  kRunning,   // a shim supervises it
  kExited,    // its last run ended (see lastExit)
  kRemoving,  // being removed; a crash here is finished at the next start
};

const char* recordStateName(RecordState state);

struct RecordedExit {
  int exitCode = 0;
  int signal = 0;
  int64_t finishedNs = 0;
  bool oomKilled = false;
};

struct ContainerRecord {
  std::string id;
  std::string name;
  int64_t createdNs = 0;
  pb::ContainerSpec spec;  // as the user asked

  // The image it was made from.
  std::string imageReference;          // normalized name or id
  std::string imageId;                 // config digest
  std::vector<std::string> layerDirs;  // lowest first

  // What the spec became (the bundle's config.json).
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::string user;  // "uid:gid"
  std::string workdir;
  std::string shell;       // for `berth shell`: the image's io.berth.shell label, else /bin/sh
  std::string stopSignal;  // "SIGTERM", "SIGQUIT", "15"
  std::string cgroupsPath;
  std::map<std::string, std::string> labels;  // the image's, then the user's
  // The health check it runs (the spec's over the image's, defaults filled
  // in: health_check.h); nullopt: none.
  std::optional<pb::HealthCheck> healthcheck;

  RecordState state = RecordState::kCreating;
  pid_t initPid = 0;
  pid_t shimPid = 0;
  int64_t startedNs = 0;
  bool everStarted = false;
  bool stoppedByUser = false;
  uint32_t restartCount = 0;
  uint32_t backoffStep = 0;
  bool hasExit = false;
  RecordedExit lastExit;
};

std::string encodeRecord(const ContainerRecord& record);
// `source` names the file in errors ("parse /var/lib/berth/containers/x/record.json: ...").
sys::Result<ContainerRecord> decodeRecord(const std::string& text, const std::string& source);

// <dir>/record.json, crash-safe.
sys::Result<void> saveRecord(const std::string& dir, const ContainerRecord& record);
// ENOENT when there is none; EINVAL (naming the file) when it is corrupt.
sys::Result<ContainerRecord> loadRecord(const std::string& dir);

}  // namespace berth::agent::engine
