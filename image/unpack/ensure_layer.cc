// ensureLayer: unpack a layer into the shared layer store exactly once.
//
// The finished directory only ever appears through rename(2) of a complete
// temporary directory, so "the directory exists" means "the layer is
// complete". Concurrent callers serialize on an flock; whoever gets the lock
// first unpacks, the others find the directory when their turn comes. The
// lock holder is the only process that can be filling a temp dir of that
// layer, so any other temp dir it finds is the remains of a crash and goes.
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <random>
#include <string>

#include "image/unpack/unpack.h"
#include "runtime/sys/fs.h"

namespace berth::image::unpack {
namespace {

sys::Result<std::string> chainHex(const std::string& chainId) {
  std::string hex = chainId.rfind("sha256:", 0) == 0 ? chainId.substr(7) : chainId;
  bool valid = hex.size() == 64;
  for (char c : hex) valid = valid && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
  if (!valid) return sys::Error::invalid("invalid chain id \"" + chainId + "\"");
  return hex;
}

bool isDir(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// Removes the temp dirs of crashed unpacks of this layer.
sys::Result<void> removeStaleTemps(const std::string& root, const std::string& prefix) {
  DIR* dir = ::opendir(root.c_str());
  if (dir == nullptr) return sys::Error::fromErrno("read " + root);
  std::vector<std::string> stale;
  while (struct dirent* d = ::readdir(dir)) {
    if (std::string_view(d->d_name).rfind(prefix, 0) == 0) stale.emplace_back(d->d_name);
  }
  ::closedir(dir);
  for (const auto& name : stale) BERTH_TRY(sys::removeAll(root + "/" + name));
  return sys::ok();
}

std::string randomSuffix() {
  std::random_device rd;
  return std::to_string(::getpid()) + "-" + std::to_string(rd());
}

sys::Result<EnsuredLayer> unpackLocked(const std::string& root, const std::string& hex, int blobFd,
                                       const std::string& mediaType, const UnpackOptions& options) {
  EnsuredLayer out;
  out.path = root + "/" + hex;
  const std::string tempPrefix = ".tmp-" + hex + "-";
  BERTH_TRY(removeStaleTemps(root, tempPrefix));
  const std::string temp = root + "/" + tempPrefix + randomSuffix();
  if (::mkdir(temp.c_str(), 0755) < 0) return sys::Error::fromErrno("create " + temp);
  auto unpacked = unpackLayer(blobFd, mediaType, temp, options);
  sys::Result<void> published;
  if (unpacked && options.durable) {
    // One syncfs instead of an fsync per file: the tree must be on disk
    // before the rename makes it look complete.
    sys::UniqueFd fd(::open(temp.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd || ::syncfs(fd.get()) < 0) published = sys::Error::fromErrno("sync " + temp);
  }
  if (unpacked && published && ::rename(temp.c_str(), out.path.c_str()) < 0) {
    published = sys::Error::fromErrno("rename " + temp + " to " + out.path);
  }
  if (!unpacked || !published) {
    auto removed = sys::removeAll(temp);
    (void)removed.ok();  // the next caller removes it anyway
    if (!unpacked) return std::move(unpacked).error();
    return std::move(published).error();
  }
  out.unpacked = true;
  out.result = std::move(unpacked).value();
  return out;
}

}  // namespace

sys::Result<EnsuredLayer> ensureLayerReport(const std::string& layersRoot,
                                            const std::string& chainId, int blobFd,
                                            const std::string& mediaType,
                                            const UnpackOptions& options) {
  const std::string what = "ensure layer " + chainId;
  std::string hex = BERTH_TRY_CTX(chainHex(chainId), what);
  EnsuredLayer out;
  out.path = layersRoot + "/" + hex;
  if (isDir(out.path)) return out;
  BERTH_TRY_CTX(sys::mkdirAll(layersRoot, 0700), what);
  const std::string lockPath = layersRoot + "/." + hex + ".lock";
  sys::UniqueFd lock(::open(lockPath.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!lock) return sys::Error::fromErrno("open " + lockPath).context(what);
  while (::flock(lock.get(), LOCK_EX) < 0) {
    if (errno != EINTR) return sys::Error::fromErrno("lock " + lockPath).context(what);
  }
  // Another process may have finished it while we waited.
  if (isDir(out.path)) return out;
  out = BERTH_TRY_CTX(unpackLocked(layersRoot, hex, blobFd, mediaType, options), what);
  // Only now, with the layer in place, may the lock file go: whoever still
  // waits on it will find the directory once it gets the lock.
  ::unlink(lockPath.c_str());
  return out;
}

sys::Result<std::string> ensureLayer(const std::string& layersRoot, const std::string& chainId,
                                     int blobFd, const std::string& mediaType,
                                     const UnpackOptions& options) {
  auto ensured = BERTH_TRY(ensureLayerReport(layersRoot, chainId, blobFd, mediaType, options));
  return std::move(ensured.path);
}

}  // namespace berth::image::unpack
