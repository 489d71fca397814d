// Named volumes: directories under <dataRoot>/volumes/<name>/ that outlive
// containers and are mounted into any number of them. A volume is
// <name>/data (its files; for a size-limited volume an ext4 image,
// <name>/disk.img, mounted there through a loop device) and <name>/volume.json
// (its metadata). A volume appears atomically: it is built in a hidden
// ".creating-" directory and renamed into place, so a crash never leaves a
// half volume visible. Mutations take an flock on <dataRoot>/volumes/.lock,
// so two threads or processes creating or filling the same name cannot race.
//
// Data from outside is untrusted: a container's rootfs (copy-up resolves the
// mount path inside it; its symlinks cannot lead out) and an imported tar
// (absolute paths, "..", entries written through symlinks are refused and a
// failed import leaves the volume empty).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/sys/result.h"

namespace berth::storage::volume {

// [a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}; the error names the rejected name.
[[nodiscard]] sys::Result<void> validateName(std::string_view name);

struct CreateOptions {
  std::map<std::string, std::string> labels;
  uint64_t sizeLimitBytes = 0;  // 0: no limit (the volume shares the data root's filesystem)
};

struct VolumeInfo {
  std::string name;
  std::string dataPath;  // what containers mount
  int64_t createdUnix = 0;
  std::map<std::string, std::string> labels;
  uint64_t sizeLimitBytes = 0;
};

class VolumeStore {
 public:
  // Opens (creating) <dataRoot>/volumes, removes what a crash left behind
  // (".creating-"/".removing-" directories) and remounts size-limited volumes
  // whose mount is gone (after a host reboot).
  [[nodiscard]] static sys::Result<VolumeStore> open(const std::string& dataRoot);

  // Exists: error "volume NAME already exists" (EEXIST).
  [[nodiscard]] sys::Result<VolumeInfo> create(const std::string& name,
                                               const CreateOptions& options = {});
  // Created on first use; the bool is true when it was created by this call.
  [[nodiscard]] sys::Result<std::pair<VolumeInfo, bool>> ensure(const std::string& name);
  [[nodiscard]] sys::Result<std::optional<VolumeInfo>> inspect(const std::string& name) const;
  [[nodiscard]] sys::Result<std::vector<VolumeInfo>> list() const;  // sorted by name
  // The caller checks that no container uses it; unknown: ENOENT "no such volume".
  // Refused (EBUSY) while something is mounted inside the volume.
  [[nodiscard]] sys::Result<void> remove(const std::string& name);
  // Bytes allocated on disk by the volume's files (st_blocks * 512, like du):
  // symlinks are not followed, mounts inside are not crossed, a file with
  // several hard links inside the volume is counted once.
  [[nodiscard]] sys::Result<uint64_t> usage(const std::string& name) const;

  // First-use copy-up: when the volume's data dir is empty and was never
  // populated, copies what the image (the container's mounted rootfs) has at
  // containerPath — resolved INSIDE rootfs, symlinks cannot escape — keeping
  // owners, modes, xattrs, times. The volume's root takes the owner, mode
  // and xattrs of that directory. Hard links are copied as separate files.
  // Returns true when it copied. A volume found non-empty is marked populated,
  // so emptying it later does not bring the image's content back (Docker).
  [[nodiscard]] sys::Result<bool> populateIfEmpty(const std::string& name, const std::string& rootfs,
                                                  const std::string& containerPath);

  // Writes a POSIX pax tar of the volume's data ("./" and "./path" entries,
  // numeric owners, modes, xattrs, mtimes, symlinks, hard links) to outFd.
  [[nodiscard]] sys::Result<void> exportTar(const std::string& name, int outFd) const;
  // Reads a tar (plain, gzip or zstd) from inFd into the volume, created if
  // missing; refused unless it is empty. A hostile tar is refused with an
  // error naming the entry, and nothing of it is left (a volume this call
  // created is removed again).
  [[nodiscard]] sys::Result<void> importTar(const std::string& name, int inFd);

  const std::string& volumesDir() const { return volumesDir_; }

 private:
  explicit VolumeStore(std::string volumesDir) : volumesDir_(std::move(volumesDir)) {}

  std::string volumeDir(const std::string& name) const;
  sys::Result<VolumeInfo> createLocked(const std::string& name, const CreateOptions& options);
  sys::Result<void> removeLocked(const std::string& name);
  sys::Result<void> recoverLocked();

  std::string volumesDir_;
};

}  // namespace berth::storage::volume
