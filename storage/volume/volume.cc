// VolumeStore: named volumes under <dataRoot>/volumes; see volume.h.
#include "storage/volume/volume.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <ctime>

#include "runtime/sys/fd.h"
#include "runtime/sys/fs.h"
#include "storage/disk/disk.h"
#include "storage/rootfs/mountinfo.h"
#include "storage/rootfs/remove_tree.h"
#include "storage/volume/copy_tree.h"
#include "storage/volume/metadata.h"
#include "storage/volume/staging.h"
#include "storage/volume/tar.h"
#include "storage/volume/tree.h"

namespace berth::storage::volume {
namespace {

constexpr const char* kLockFile = ".lock";
constexpr const char* kCreatingPrefix = ".creating-";
constexpr const char* kRemovingPrefix = ".removing-";

std::string randomSuffix() {
  uint64_t value = 0;
  if (::getrandom(&value, sizeof(value), 0) != sizeof(value)) {
    value = static_cast<uint64_t>(::getpid()) ^ static_cast<uint64_t>(::time(nullptr));
  }
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(value));
  return buf;
}

// Held for the whole of a mutation. Each holder opens its own descriptor:
// flock belongs to the open file description, so two threads of berthd
// exclude each other just as two processes do.
sys::Result<sys::UniqueFd> lockStore(const std::string& volumesDir) {
  std::string path = volumesDir + "/" + kLockFile;
  sys::UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd) return sys::Error::fromErrno("open " + path);
  while (::flock(fd.get(), LOCK_EX) < 0) {
    if (errno != EINTR) return sys::Error::fromErrno("lock " + path);
  }
  return fd;
}

sys::Result<void> fsyncDir(const std::string& path) {
  sys::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd || ::fsync(fd.get()) < 0) return sys::Error::fromErrno("fsync " + path);
  return sys::ok();
}

sys::Error noSuchVolume(const std::string& name) {
  return sys::Error(ENOENT, "no such volume \"" + name + "\"");
}

sys::Result<Metadata> readMetadata(const std::string& volumeDir) {
  std::string path = volumeDir + "/volume.json";
  std::string text = BERTH_TRY(sys::readFile(path));
  return decodeMetadata(text, path);
}

sys::Result<void> writeMetadata(const std::string& volumeDir, const Metadata& metadata) {
  return sys::writeFileAtomic(volumeDir + "/volume.json", encodeMetadata(metadata), 0600);
}

VolumeInfo toInfo(const Metadata& m, const std::string& volumeDir) {
  return VolumeInfo{m.name, volumeDir + "/data", m.createdUnix, m.labels, m.sizeLimitBytes};
}

sys::Result<sys::UniqueFd> openData(const std::string& volumeDir) {
  std::string path = volumeDir + "/data";
  sys::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return sys::Error::fromErrno("open " + path);
  return fd;
}

// Mount points at or below `dir` (other than `except`), from mountinfo.
sys::Result<std::string> firstMountBelow(const std::string& dir, const std::string& except) {
  std::string text = BERTH_TRY(sys::readFile("/proc/self/mountinfo"));
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    auto entry = rootfs::parseMountInfoLine(std::string_view(text).substr(pos, end - pos));
    pos = end + 1;
    if (!entry || entry->mountPoint == except) continue;
    if (entry->mountPoint == dir || entry->mountPoint.rfind(dir + "/", 0) == 0) return entry->mountPoint;
  }
  return std::string();
}

// Fills the empty volume at `dir` from a tar; see importTar.
sys::Result<void> importLocked(const std::string& dir, Metadata& metadata, int inFd) {
  sys::UniqueFd data = BERTH_TRY(openData(dir));
  bool empty = BERTH_TRY(isEmptyData(data.get(), dir + "/data", metadata.sizeLimitBytes > 0));
  if (!empty) return sys::Error(ENOTEMPTY, "the volume is not empty (import needs an empty volume)");
  TarRoot root;
  BERTH_TRY(fillFromStaging(data.get(), dir + "/data",
                            [&](int stagingFd, const std::string& stagingPath) -> sys::Result<void> {
                              root = BERTH_TRY(importTree(stagingFd, stagingPath, inFd));
                              return sys::ok();
                            }));
  if (root.present) BERTH_TRY(applyAttributes(data.get(), root.st, root.xattrs, dir + "/data"));
  if (::syncfs(data.get()) < 0) return sys::Error::fromErrno("sync " + dir + "/data");
  metadata.populated = true;
  return writeMetadata(dir, metadata);
}

}  // namespace

sys::Result<VolumeStore> VolumeStore::open(const std::string& dataRoot) {
  std::string dir = sys::joinPath(dataRoot, "volumes");
  BERTH_TRY_CTX(sys::mkdirAll(dir, 0700), "open volume store");
  VolumeStore store(dir);
  sys::UniqueFd lock = BERTH_TRY_CTX(lockStore(dir), "open volume store");
  BERTH_TRY_CTX(store.recoverLocked(), "open volume store " + dir);
  return store;
}

sys::Result<void> VolumeStore::recoverLocked() {
  sys::UniqueFd dirFd(::open(volumesDir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dirFd) return sys::Error::fromErrno("open " + volumesDir_);
  auto names = BERTH_TRY(listNames(dirFd.get(), volumesDir_));
  for (const auto& name : names) {
    std::string path = volumesDir_ + "/" + name;
    if (name.rfind(kCreatingPrefix, 0) == 0 || name.rfind(kRemovingPrefix, 0) == 0) {
      // A crash during create or remove: never a visible volume.
      BERTH_TRY(disk::unmount(path + "/data"));
      BERTH_TRY(rootfs::removeTree(path));
      continue;
    }
    if (!validateName(name)) continue;
    auto metadata = readMetadata(path);
    if (!metadata) continue;  // not ours to fix; inspect reports it
    if (metadata->sizeLimitBytes > 0) {
      // After a host reboot the loop mount is gone: the data dir would be
      // an empty directory on the host's filesystem, with no limit.
      BERTH_TRY_CTX(disk::mount(path + "/disk.img", path + "/data"), "remount volume " + name);
    }
  }
  return sys::ok();
}

std::string VolumeStore::volumeDir(const std::string& name) const { return volumesDir_ + "/" + name; }

sys::Result<VolumeInfo> VolumeStore::create(const std::string& name, const CreateOptions& options) {
  BERTH_TRY(validateName(name));
  sys::UniqueFd lock = BERTH_TRY(lockStore(volumesDir_));
  return createLocked(name, options);
}

sys::Result<VolumeInfo> VolumeStore::createLocked(const std::string& name, const CreateOptions& options) {
  std::string final = volumeDir(name);
  struct stat st {};
  if (::lstat(final.c_str(), &st) == 0) return sys::Error(EEXIST, "volume " + name + " already exists");
  Metadata m{name, static_cast<int64_t>(::time(nullptr)), options.labels, options.sizeLimitBytes, false};
  std::string tmp = volumesDir_ + "/" + kCreatingPrefix + name + "-" + randomSuffix();
  auto build = [&]() -> sys::Result<void> {
    if (::mkdir(tmp.c_str(), 0700) < 0) return sys::Error::fromErrno("mkdir " + tmp);
    if (::mkdir((tmp + "/data").c_str(), 0755) < 0) return sys::Error::fromErrno("mkdir " + tmp + "/data");
    if (m.sizeLimitBytes > 0) BERTH_TRY(disk::create(tmp + "/disk.img", m.sizeLimitBytes));
    BERTH_TRY(writeMetadata(tmp, m));
    BERTH_TRY(fsyncDir(tmp));
    // RENAME_NOREPLACE: the lock makes a clash impossible among berth
    // processes; this makes it impossible, full stop.
    if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, final.c_str(), RENAME_NOREPLACE) < 0) {
      if (errno == EEXIST) return sys::Error(EEXIST, "volume " + name + " already exists");
      return sys::Error::fromErrno("rename " + tmp + " to " + final);
    }
    return fsyncDir(volumesDir_);
  };
  if (auto built = build(); !built) {
    (void)rootfs::removeTree(tmp);
    return std::move(built).error().context("create volume " + name);
  }
  if (m.sizeLimitBytes > 0) {
    // Mounted after the rename, so no mount ever sits in a ".creating-" dir;
    // a crash before this point is mended by open().
    if (auto mounted = disk::mount(final + "/disk.img", final + "/data"); !mounted) {
      (void)removeLocked(name);
      return std::move(mounted).error().context("create volume " + name);
    }
    // mkfs made it; e2fsck recreates it when it needs it. An empty volume is empty.
    (void)::rmdir((final + "/data/lost+found").c_str());
  }
  return toInfo(m, final);
}

sys::Result<std::pair<VolumeInfo, bool>> VolumeStore::ensure(const std::string& name) {
  BERTH_TRY(validateName(name));
  sys::UniqueFd lock = BERTH_TRY(lockStore(volumesDir_));
  auto existing = readMetadata(volumeDir(name));
  if (existing) return std::pair{toInfo(*existing, volumeDir(name)), false};
  if (existing.error().code() != ENOENT) return std::move(existing).error().context("volume " + name);
  VolumeInfo info = BERTH_TRY(createLocked(name, {}));
  return std::pair{std::move(info), true};
}

sys::Result<std::optional<VolumeInfo>> VolumeStore::inspect(const std::string& name) const {
  BERTH_TRY(validateName(name));
  auto metadata = readMetadata(volumeDir(name));
  if (!metadata && metadata.error().code() == ENOENT) return std::optional<VolumeInfo>();
  if (!metadata) return std::move(metadata).error().context("volume " + name);
  return std::optional<VolumeInfo>(toInfo(*metadata, volumeDir(name)));
}

sys::Result<std::vector<VolumeInfo>> VolumeStore::list() const {
  sys::UniqueFd dirFd(::open(volumesDir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dirFd) return sys::Error::fromErrno("open " + volumesDir_);
  auto names = BERTH_TRY(listNames(dirFd.get(), volumesDir_));  // sorted
  std::vector<VolumeInfo> out;
  for (const auto& name : names) {
    if (!validateName(name)) continue;  // ".lock", ".creating-..."
    auto metadata = readMetadata(volumeDir(name));
    if (!metadata && metadata.error().code() == ENOENT) continue;  // removed meanwhile
    if (!metadata) return std::move(metadata).error().context("list volumes");
    out.push_back(toInfo(*metadata, volumeDir(name)));
  }
  return out;
}

sys::Result<void> VolumeStore::remove(const std::string& name) {
  BERTH_TRY(validateName(name));
  sys::UniqueFd lock = BERTH_TRY(lockStore(volumesDir_));
  return removeLocked(name).context("remove volume " + name);
}

sys::Result<void> VolumeStore::removeLocked(const std::string& name) {
  std::string dir = volumeDir(name);
  auto metadata = readMetadata(dir);
  if (!metadata && metadata.error().code() == ENOENT) return noSuchVolume(name);
  bool limited = metadata && metadata->sizeLimitBytes > 0;
  // Checked before anything changes: removeTree would refuse too, but only
  // after the volume had vanished from the list.
  std::string busy = BERTH_TRY(firstMountBelow(dir, limited ? dir + "/data" : std::string()));
  if (!busy.empty()) return sys::Error(EBUSY, "something is mounted at " + busy);
  if (limited) BERTH_TRY(disk::unmount(dir + "/data"));
  // Renamed away first, so the volume disappears at once; a crash during
  // the tree removal leaves a ".removing-" dir that open() finishes.
  std::string doomed = volumesDir_ + "/" + kRemovingPrefix + name + "-" + randomSuffix();
  if (::rename(dir.c_str(), doomed.c_str()) < 0) return sys::Error::fromErrno("rename " + dir);
  BERTH_TRY(fsyncDir(volumesDir_));
  return rootfs::removeTree(doomed);
}

sys::Result<uint64_t> VolumeStore::usage(const std::string& name) const {
  BERTH_TRY(validateName(name));
  std::string dir = volumeDir(name);
  if (!sys::pathExists(dir + "/volume.json")) return noSuchVolume(name);
  sys::UniqueFd data = BERTH_TRY(openData(dir));
  return treeUsage(data.get(), dir + "/data");
}

sys::Result<bool> VolumeStore::populateIfEmpty(const std::string& name, const std::string& rootfsPath,
                                               const std::string& containerPath) {
  BERTH_TRY(validateName(name));
  sys::UniqueFd lock = BERTH_TRY(lockStore(volumesDir_));
  std::string dir = volumeDir(name);
  std::string where = "copy " + containerPath + " of the image into volume " + name;
  auto metadata = readMetadata(dir);
  if (!metadata && metadata.error().code() == ENOENT) return noSuchVolume(name);
  if (!metadata) return std::move(metadata).error().context(where);
  if (metadata->populated) return false;
  sys::UniqueFd data = BERTH_TRY_CTX(openData(dir), where);
  bool empty = BERTH_TRY_CTX(isEmptyData(data.get(), dir + "/data", metadata->sizeLimitBytes > 0), where);
  if (!empty) {
    metadata->populated = true;
    BERTH_TRY_CTX(writeMetadata(dir, *metadata), where);
    return false;
  }
  sys::UniqueFd root(::open(rootfsPath.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) return sys::Error::fromErrno("open rootfs " + rootfsPath).context(where);
  // RESOLVE_IN_ROOT: "/var/lib/mysql -> /../../etc" stays inside the image.
  auto source = sys::openInRoot(root.get(), containerPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (!source && (source.error().code() == ENOENT || source.error().code() == ENOTDIR)) return false;
  if (!source) return std::move(source).error().context(where);
  BERTH_TRY_CTX(fillFromStaging(data.get(), dir + "/data",
                                [&](int stagingFd, const std::string&) -> sys::Result<void> {
                                  return copyTree(source->get(), stagingFd, containerPath);
                                }),
                where);
  struct stat st {};
  if (::fstat(source->get(), &st) < 0) return sys::Error::fromErrno("stat " + containerPath).context(where);
  Xattrs xattrs = BERTH_TRY_CTX(readXattrs(source->get(), containerPath), where);
  BERTH_TRY_CTX(applyAttributes(data.get(), st, xattrs, dir + "/data"), where);
  metadata->populated = true;
  BERTH_TRY_CTX(writeMetadata(dir, *metadata), where);
  return true;
}

sys::Result<void> VolumeStore::exportTar(const std::string& name, int outFd) const {
  BERTH_TRY(validateName(name));
  std::string dir = volumeDir(name);
  if (!sys::pathExists(dir + "/volume.json")) return noSuchVolume(name);
  sys::UniqueFd data = BERTH_TRY(openData(dir));
  return exportTree(data.get(), outFd, "volume " + name).context("export volume " + name);
}

sys::Result<void> VolumeStore::importTar(const std::string& name, int inFd) {
  BERTH_TRY(validateName(name));
  sys::UniqueFd lock = BERTH_TRY(lockStore(volumesDir_));
  std::string dir = volumeDir(name);
  std::string where = "import into volume " + name;
  auto metadata = readMetadata(dir);
  bool created = false;
  if (!metadata && metadata.error().code() == ENOENT) {
    BERTH_TRY(createLocked(name, {}));
    metadata = BERTH_TRY(readMetadata(dir));
    created = true;
  }
  if (!metadata) return std::move(metadata).error().context(where);
  auto imported = importLocked(dir, *metadata, inFd);
  if (!imported) {
    if (created) (void)removeLocked(name);
    return std::move(imported).error().context(where);
  }
  return sys::ok();
}

}  // namespace berth::storage::volume
