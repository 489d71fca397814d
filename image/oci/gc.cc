// Garbage collection of blobs and layer directories: see gc.h.
#include "image/oci/gc.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <set>
#include <utility>

#include "runtime/sys/fs.h"

namespace berth::image::oci {
namespace {

// Apparent size of a tree (fd-relative, never following symlinks), each
// hard-linked inode counted once. Best effort: it only feeds the report.
void addTreeSize(int dirfd, std::set<std::pair<dev_t, ino_t>>& seen, uint64_t& total, int depth) {
  if (depth > 256) return;
  DIR* dp = ::fdopendir(dirfd);
  if (!dp) {
    ::close(dirfd);
    return;
  }
  while (struct dirent* e = ::readdir(dp)) {
    std::string_view name(e->d_name);
    if (name == "." || name == "..") continue;
    struct stat st;
    if (::fstatat(::dirfd(dp), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) continue;
    if (S_ISDIR(st.st_mode)) {
      int sub = ::openat(::dirfd(dp), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub >= 0) addTreeSize(sub, seen, total, depth + 1);
    } else if (S_ISREG(st.st_mode) && seen.insert({st.st_dev, st.st_ino}).second) {
      total += static_cast<uint64_t>(st.st_size);
    }
  }
  ::closedir(dp);  // closes dirfd too
}

uint64_t treeSize(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return 0;
  std::set<std::pair<dev_t, ino_t>> seen;
  uint64_t total = 0;
  addTreeSize(fd, seen, total, 0);
  return total;
}

sys::Result<std::vector<std::string>> listDir(const std::string& dir) {
  std::vector<std::string> out;
  DIR* dp = ::opendir(dir.c_str());
  if (!dp) {
    if (errno == ENOENT) return out;
    return sys::Error::fromErrno("list " + dir);
  }
  while (struct dirent* e = ::readdir(dp)) {
    std::string_view name(e->d_name);
    if (name != "." && name != "..") out.emplace_back(name);
  }
  ::closedir(dp);
  return out;
}

sys::Result<void> collectBlobs(const store::ContentStore& store, const ImageGraph& live, const GcOptions& options,
                               GcReport& report) {
  auto blobs = BERTH_TRY(store.list());
  for (const auto& d : blobs) {
    if (live.blobs.count(d)) continue;
    uint64_t size = store.size(d).ok() ? *store.size(d) : 0;
    if (!options.dryRun) BERTH_TRY(store.remove(d));
    report.removedBlobs.push_back(d);
    report.bytesFreed += size;
  }
  return sys::ok();
}

sys::Result<void> collectLayers(const std::string& root, const ImageGraph& live, const GcOptions& options,
                                GcReport& report) {
  std::string dir = root + "/layers";
  std::set<store::Digest> keep;
  for (const auto& entry : options.keepLayers) {
    std::string_view name(entry);
    while (name.size() > 1 && name.back() == '/') name.remove_suffix(1);
    if (name.size() != 71 || name.substr(0, 7) != "sha256:") name = name.substr(name.find_last_of('/') + 1);
    if (auto chain = layerDirChainId(name)) keep.insert(*chain);
  }
  auto names = BERTH_TRY(listDir(dir));
  for (const auto& name : names) {
    auto chain = layerDirChainId(name);
    if (!chain || live.chainIds.count(*chain) || keep.count(*chain)) continue;
    std::string path = dir + "/" + name;
    uint64_t size = treeSize(path);
    if (!options.dryRun) BERTH_TRY(sys::removeAll(path));
    report.removedLayers.push_back(name);
    report.bytesFreed += size;
  }
  return sys::ok();
}

}  // namespace

std::optional<store::Digest> layerDirChainId(std::string_view name) {
  if (name.size() == 64) {
    auto d = store::Digest::parse("sha256:" + std::string(name));
    if (d) return *d;
    return std::nullopt;
  }
  if (name.size() == 71 && (name.substr(0, 7) == "sha256:" || name.substr(0, 7) == "sha256-")) {
    auto d = store::Digest::parse("sha256:" + std::string(name.substr(7)));
    if (d) return *d;
  }
  return std::nullopt;
}

sys::Result<ImageGraph> referencedContent(const store::ContentStore& store, const store::ImageIndex& index) {
  auto images = BERTH_TRY(index.list());
  ImageGraph graph;
  WalkOptions walk;
  walk.missing = WalkOptions::Missing::kSkip;
  for (const auto& image : images) {
    Descriptor d;
    d.mediaType = image.mediaType;
    d.digest = image.manifest;
    BERTH_TRY_CTX(walkImage(store, d, walk, graph), "image " + image.name);
  }
  return graph;
}

sys::Result<GcReport> collectGarbage(const store::ContentStore& store, const store::ImageIndex& index,
                                     const GcOptions& options) {
  auto body = [&]() -> sys::Result<GcReport> {
    auto lock = BERTH_TRY(store::StoreLock::acquire(store.root(), store::StoreLock::Mode::kExclusive));
    auto live = BERTH_TRY(referencedContent(store, index));
    GcReport report;
    BERTH_TRY(collectBlobs(store, live, options, report));
    if (live.incomplete) {
      // Never delete on doubt: the layers of the image whose config is gone
      // cannot be told from garbage.
      report.layersSkipped = "some image's manifest or config is missing; layer directories were kept";
    } else {
      BERTH_TRY(collectLayers(store.root(), live, options, report));
    }
    if (!options.dryRun) report.bytesFreed += BERTH_TRY(store.removeStaleTemps(options.tempMaxAgeSeconds));
    return report;
  };
  return body().context("garbage collection");
}

}  // namespace berth::image::oci
