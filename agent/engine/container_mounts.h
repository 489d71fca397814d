// What a container mounts besides its image (issue 6), from the user's
// words to OCI mounts: named volumes and bind mounts (-v), config files
// (--config). Parsing and the mounts' shape are pure (unit-tested); the
// engine (container_storage.cc) makes the volumes, writes the config files
// and puts these mounts into the bundle's config.json.
//
// -v syntax, as Docker's:
//   NAME:/path[:OPTIONS]         a named volume (created on first use; when
//                                new and empty it is filled from the image's
//                                /path, unless "nocopy")
//   /host/path:/path[:OPTIONS]   a bind mount of a host path, which must
//                                exist unless "create" is given
// OPTIONS: comma- (or colon-) separated: ro | rw, and for binds one of
// rprivate (default) rshared rslave private shared slave, and "create".
//
// Every destination is resolved by the runtime inside the container's rootfs
// (a symlink in the image cannot send a mount to the host), and a missing
// target (file or directory, with its parents) is created there.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/api/berth.pb.h"
#include "runtime/config/spec.h"
#include "runtime/sys/result.h"
#include "storage/rootfs/overlay_options.h"

namespace berth::agent::engine {

namespace pb = ::berth::api;

inline constexpr uint32_t kDefaultConfigMode = 0444;
// Under the container's directory: one file per --config, by index.
inline constexpr const char* kConfigsDir = "configs";

enum class MountKind { kVolume, kBind };

struct VolumeMount {
  MountKind kind = MountKind::kVolume;
  std::string source;       // volume name, or absolute host path (clean)
  std::string destination;  // absolute, clean
  bool readOnly = false;
  std::string propagation = "rprivate";  // binds only
  bool create = false;                   // binds: make a missing host directory
  bool noCopy = false;                   // volumes: no first-use copy from the image
};

// One -v value; errors name the text and say what is wrong.
[[nodiscard]] sys::Result<VolumeMount> parseVolumeArg(std::string_view text);

// Every -v of the spec, and its --config targets checked: absolute, not
// "/", no two mounts on one destination, modes within 07777.
[[nodiscard]] sys::Result<std::vector<VolumeMount>> mountsOfSpec(const pb::ContainerSpec& spec);

// The named volumes a spec uses (unparsable entries skipped), sorted, once each.
std::vector<std::string> volumeNamesOf(const pb::ContainerSpec& spec);

// The OCI mount of a -v whose host side is `hostSource` (the volume's data
// directory, or the bind's path).
runtime::config::Mount ociMountFor(const VolumeMount& mount, const std::string& hostSource);

// The OCI mount of a config file written at `hostFile`: a read-only bind.
runtime::config::Mount configMountFor(const std::string& hostFile, const std::string& target);

// The rootfs options of a container: its disk limit (--disk).
storage::rootfs::Options rootfsOptionsFor(const pb::ContainerSpec& spec);

// "<containerDir>/configs/<index>".
std::string configFilePath(const std::string& containerDir, size_t index);

// For inspect: the spec's mounts as the API reports them (volume sources
// from `volumeDataPath(name)`).
std::vector<pb::MountInfo> mountInfosOf(
    const pb::ContainerSpec& spec, const std::string& containerDir,
    const std::function<std::string(const std::string&)>& volumeDataPath);

}  // namespace berth::agent::engine
