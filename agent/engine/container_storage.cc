// A container's storage beyond its image layers (issue 6): the volumes,
// bind mounts and config files of its bundle, made at create time, and its
// disk limit (storage::rootfs's disk image; raised by `update --disk`).
//
// Order at create (makeBundle): rootfs prepared (with its disk), config
// built (the user resolved), then here: bind sources checked, volumes made
// and -- when new and empty -- filled from the image's files at the mount
// path (the rootfs is mounted, so that is exactly what the container would
// have seen there), config files written with their owner and mode, and the
// mounts appended to the OCI config. The runtime then resolves every
// destination inside the rootfs when the container starts.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "agent/engine/container_engine.h"
#include "agent/engine/container_mounts.h"
#include "runtime/sys/fs.h"
#include "storage/rootfs/rootfs.h"
#include "storage/volume/volume.h"

namespace berth::agent::engine {
namespace {

size_t depthOf(const std::string& path) {
  return static_cast<size_t>(std::count(path.begin(), path.end(), '/'));
}

sys::Result<void> checkBindSource(const VolumeMount& m) {
  struct stat st;
  if (::stat(m.source.c_str(), &st) == 0) return sys::ok();
  if (errno != ENOENT) return sys::Error::fromErrno("bind source " + m.source);
  if (!m.create) {
    return sys::Error(ENOENT, "bind source path " + m.source +
                                  " does not exist (add the \"create\" option to make it)");
  }
  return sys::mkdirAll(m.source, 0755);
}

sys::Result<void> writeConfigFile(const std::string& path, const pb::ConfigFile& config,
                                  uint32_t defaultUid, uint32_t defaultGid) {
  BERTH_TRY(sys::writeFileReplace(path, config.content(), 0600));
  uid_t uid = config.has_uid() ? config.uid() : defaultUid;
  gid_t gid = config.has_gid() ? config.gid() : defaultGid;
  if (::chown(path.c_str(), uid, gid) < 0) return sys::Error::fromErrno("chown " + path);
  mode_t mode = config.has_mode() ? config.mode() : kDefaultConfigMode;
  // After chown, which clears set-id bits.
  if (::chmod(path.c_str(), mode) < 0) return sys::Error::fromErrno("chmod " + path);
  return sys::ok();
}

}  // namespace

sys::Result<void> ContainerEngine::addMountsLocked(Entry& entry, runtime::config::Spec& spec,
                                                   const std::string& rootfs) {
  const pb::ContainerSpec& request = entry.record.spec;
  const std::string dir = options_.paths.containerDir(entry.record.id);
  std::vector<VolumeMount> mounts = BERTH_TRY(mountsOfSpec(request));
  std::vector<runtime::config::Mount> added;
  for (const VolumeMount& m : mounts) {
    if (m.kind == MountKind::kBind) {
      BERTH_TRY(checkBindSource(m));
      added.push_back(ociMountFor(m, m.source));
      continue;
    }
    std::lock_guard lock(volumesMu_);
    storage::volume::VolumeInfo volume = BERTH_TRY(volumes_->ensure(m.source)).first;
    if (!m.noCopy) {
      BERTH_TRY_CTX(volumes_->populateIfEmpty(m.source, rootfs, m.destination),
                    "fill volume " + m.source + " from the image's " + m.destination);
    }
    added.push_back(ociMountFor(m, volume.dataPath));
  }
  if (request.configs_size() > 0) {
    BERTH_TRY(sys::mkdirAll(dir + "/" + kConfigsDir, 0711));
    uint32_t uid = spec.process ? spec.process->user.uid : 0;
    uint32_t gid = spec.process ? spec.process->user.gid : 0;
    for (int i = 0; i < request.configs_size(); ++i) {
      const std::string path = configFilePath(dir, static_cast<size_t>(i));
      BERTH_TRY_CTX(writeConfigFile(path, request.configs(i), uid, gid),
                    "--config " + request.configs(i).target());
      added.push_back(configMountFor(path, request.configs(i).target()));
    }
  }
  // Parents before children (a volume at /data and a config in /data/x),
  // and a user mount replaces a default one at the same place (/dev/shm).
  std::stable_sort(added.begin(), added.end(), [](const auto& a, const auto& b) {
    return depthOf(a.destination) < depthOf(b.destination);
  });
  for (const runtime::config::Mount& m : added) {
    std::erase_if(spec.mounts, [&](const runtime::config::Mount& existing) {
      return existing.destination == m.destination;
    });
  }
  spec.mounts.insert(spec.mounts.end(), added.begin(), added.end());
  return sys::ok();
}

sys::Result<void> ContainerEngine::resizeDiskLocked(Entry& entry, uint64_t bytes) {
  const std::string dir = options_.paths.containerDir(entry.record.id);
  if (entry.record.spec.disk_bytes() == 0) {
    return sys::Error::invalid("container " + entry.record.name +
                               " has no disk limit (set one with --disk at create)");
  }
  if (bytes < entry.record.spec.disk_bytes()) {
    return sys::Error::invalid("a disk can only grow: container " + entry.record.name + " has " +
                               std::to_string(entry.record.spec.disk_bytes()) + " bytes");
  }
  if (bytes == entry.record.spec.disk_bytes()) return sys::ok();
  if (entry.record.state != RecordState::kRunning) {
    // Offline: the rootfs (and the disk under it) is mounted again at the
    // next start. An online grow needs CAP_SYS_RESOURCE, which a berthd in
    // a restricted service may lack.
    BERTH_TRY(storage::rootfs::unmount(dir));
    return storage::rootfs::resizeDisk(dir, bytes);
  }
  auto grown = storage::rootfs::resizeDisk(dir, bytes);
  if (!grown && (grown.error().code() == EPERM || grown.error().code() == EBUSY)) {
    return sys::Error(EBUSY, "container " + entry.record.name +
                                 " is running and its disk cannot grow while mounted here (" +
                                 grown.error().what() + "): stop it, update, start it");
  }
  return grown;
}

std::string ContainerEngine::volumeDataPath(const std::string& name) const {
  {
    std::lock_guard lock(volumesMu_);
    if (volumes_) {
      auto info = volumes_->inspect(name);
      if (info && *info) return (*info)->dataPath;
    }
  }
  return options_.paths.dataRoot + "/volumes/" + name + "/data";
}

void ContainerEngine::describeStorage(const ContainerRecord& record, pb::ContainerInfo& info) {
  const std::string dir = options_.paths.containerDir(record.id);
  for (pb::MountInfo& m : mountInfosOf(record.spec, dir, [this](const std::string& name) {
         return volumeDataPath(name);
       })) {
    *info.add_mounts() = std::move(m);
  }
  info.set_disk_limit(record.spec.disk_bytes());
  if (record.spec.disk_bytes() > 0) {
    auto usage = storage::rootfs::diskUsage(dir);
    if (usage && *usage) info.set_disk_used((*usage)->used);
  }
}

}  // namespace berth::agent::engine
