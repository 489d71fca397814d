// Where one berthd instance keeps its things, derived from its --root (data,
// survives reboots) and --run (runtime state, tmpfs) flags. Every part of the
// daemon takes paths from here, so two instances with different roots never
// share a file (tests run several side by side).
//
//   <root>/blobs/ images.json layers/       the image store (image/)
//   <root>/containers/<id>/                 record.json, bundle/config.json,
//                                           rootfs/ (the mountpoint), upper/ work/,
//                                           shim dir: container.log*, exit.json,
//                                           shim.pid, attach.sock
//   <run>/runtime/                          the runtime library's state root
//   <run>/seccomp-cache/                    compiled seccomp filters (the shims')
//   <run>/berthd.pid
#pragma once

#include <string>

namespace berth::agent::engine {

inline constexpr const char* kDefaultDataRoot = "/var/lib/berth";
inline constexpr const char* kDefaultRunRoot = "/run/berth";

struct DaemonPaths {
  std::string dataRoot = kDefaultDataRoot;
  std::string runRoot = kDefaultRunRoot;
  // The berth-shim binary; berthd finds it beside its own executable.
  std::string shimBinary;
  // The berth-runtime binary, for exec and shell: a process that joins a
  // running container re-executes itself from a sealed copy (CVE-2019-5736),
  // which a multi-threaded daemon cannot do to itself.
  std::string runtimeBinary;
  // cgroup parent of every container of this instance ("berth" by default,
  // a unique one in tests so they clean up exactly what they made).
  std::string cgroupParent = "berth";

  std::string imageRoot() const { return dataRoot; }
  std::string containersRoot() const { return dataRoot + "/containers"; }
  std::string containerDir(const std::string& id) const { return containersRoot() + "/" + id; }
  std::string runtimeStateRoot() const { return runRoot + "/runtime"; }
  std::string seccompCacheDir() const { return runRoot + "/seccomp-cache"; }
};

}  // namespace berth::agent::engine
