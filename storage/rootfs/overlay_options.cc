// Overlay mount planning: see overlay_options.h.
#include "storage/rootfs/overlay_options.h"

#include <cerrno>
#include <unordered_set>

#include "runtime/sys/fs.h"

namespace berth::storage::rootfs {
namespace {

// A path we hand to the kernel must mean exactly what it says: absolute,
// and already in the form cleanPath gives it, so "..", "." and "//" are out.
sys::Result<void> checkCleanAbsolute(const std::string& path, std::string_view what) {
  if (path.empty() || path[0] != '/') {
    return sys::Error::invalid(std::string(what) + " must be an absolute path: \"" + path + "\"");
  }
  if (sys::cleanPath(path) != path) {
    return sys::Error::invalid(std::string(what) + " must be a clean path (no \"..\", \".\", " +
                               "\"//\" or trailing \"/\"): \"" + path + "\"");
  }
  if (path.find('\n') != std::string::npos) {
    // A newline would forge lines in /proc/self/mountinfo-based checks.
    return sys::Error::invalid(std::string(what) + " contains a newline");
  }
  return sys::ok();
}

bool isInside(const std::string& path, const std::string& dir) {
  return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
         path[dir.size()] == '/';
}

// Options every container overlay gets, and why:
//  - index=off: the inode index (a kernel config default on some distros)
//    records file handles of the lower layers in the upper dir and verifies
//    them on the next mount, so re-mounting an upper over re-unpacked layers
//    fails with ESTALE; we need neither its hardlink-copy-up nor NFS export.
//  - redirect_dir=nofollow: renaming a lower directory gives EXDEV (mv then
//    copies, as on Docker's defaults), and redirect xattrs are never
//    followed, so a layer crafted with trusted.overlay.redirect cannot make
//    a directory show another layer's content.
//  - metacopy=off: metadata-only copy-up makes upper files point at lower
//    data through xattrs; the kernel documentation warns against it with
//    untrusted layers, and image layers are untrusted.
// Set explicitly so behaviour does not depend on the host's module defaults.
constexpr std::string_view kFixedOptions[][2] = {
    {"index", "off"},
    {"redirect_dir", "nofollow"},
    {"metacopy", "off"},
};

}  // namespace

sys::Result<Layout> layoutFor(const std::string& containerDir) {
  BERTH_TRY(checkCleanAbsolute(containerDir, "container directory"));
  if (containerDir == "/") return sys::Error::invalid("container directory must not be \"/\"");
  Layout layout;
  layout.containerDir = containerDir;
  layout.upperDir = containerDir + "/upper";
  layout.workDir = containerDir + "/work";
  layout.rootfs = containerDir + "/rootfs";
  layout.emptyLowerDir = containerDir + "/empty-lower";
  layout.diskImage = containerDir + "/disk.img";
  layout.writableDir = containerDir + "/writable";
  return layout;
}

void placeWritableOnDisk(Layout& layout) {
  layout.upperDir = layout.writableDir + "/upper";
  layout.workDir = layout.writableDir + "/work";
}

sys::Result<void> validateLowerDirs(const std::vector<std::string>& lowerDirs,
                                    const Layout& layout) {
  if (lowerDirs.size() > kMaxLayers) {
    return sys::Error(E2BIG, std::to_string(lowerDirs.size()) +
                                 " layers: overlayfs stacks at most " + std::to_string(kMaxLayers));
  }
  std::unordered_set<std::string_view> seen;
  for (size_t i = 0; i < lowerDirs.size(); ++i) {
    const std::string& dir = lowerDirs[i];
    std::string what = "layer " + std::to_string(i);
    BERTH_TRY(checkCleanAbsolute(dir, what));
    if (!seen.insert(dir).second) {
      return sys::Error::invalid(what + " (" + dir + ") is listed twice");
    }
    if (dir == layout.containerDir || isInside(dir, layout.containerDir) ||
        isInside(layout.containerDir, dir)) {
      return sys::Error::invalid(what + " (" + dir + ") overlaps the container directory " +
                                 layout.containerDir);
    }
  }
  return sys::ok();
}

std::vector<FsParam> fsconfigParams(const OverlayPaths& paths, const Options& options) {
  std::vector<FsParam> params;
  params.reserve(paths.lowerDirs.size() + 7);
  params.push_back({"source", "overlay"});
  // Each "lowerdir+" appends a layer BELOW those given so far: top first.
  for (auto it = paths.lowerDirs.rbegin(); it != paths.lowerDirs.rend(); ++it) {
    params.push_back({"lowerdir+", *it});
  }
  params.push_back({"upperdir", paths.upperDir});
  params.push_back({"workdir", paths.workDir});
  for (const auto& option : kFixedOptions) {
    params.push_back({std::string(option[0]), std::string(option[1])});
  }
  if (options.userXattr) params.push_back({"userxattr", "", true});
  return params;
}

bool needsLegacyAlias(std::string_view path) {
  // ',' separates mount options and ':' lower layers; '\' escapes both.
  return path.find_first_of(",:\\") != std::string_view::npos;
}

sys::Result<std::string> legacyMountData(const OverlayPaths& paths, const Options& options) {
  std::string data = "lowerdir=";
  bool first = true;
  for (auto it = paths.lowerDirs.rbegin(); it != paths.lowerDirs.rend(); ++it) {
    if (needsLegacyAlias(*it)) return sys::Error(EINVAL, "layer path has ',', ':' or '\\': " + *it);
    if (!first) data += ':';
    data += *it;
    first = false;
  }
  for (const std::string* dir : {&paths.upperDir, &paths.workDir}) {
    if (needsLegacyAlias(*dir)) return sys::Error(EINVAL, "path has ',', ':' or '\\': " + *dir);
  }
  data += ",upperdir=" + paths.upperDir + ",workdir=" + paths.workDir;
  for (const auto& option : kFixedOptions) {
    data += ',';
    data += option[0];
    data += '=';
    data += option[1];
  }
  if (options.userXattr) data += ",userxattr";
  if (data.size() > kMaxMountData) {
    return sys::Error(E2BIG, "overlay options are " + std::to_string(data.size()) +
                                 " bytes, mount(2) takes at most " + std::to_string(kMaxMountData));
  }
  return data;
}

}  // namespace berth::storage::rootfs
