// cgroupsPath parsing and resolution: see cgroup_path.h.
#include "runtime/cgroup/cgroup_path.h"

#include <algorithm>

#include "runtime/sys/fs.h"

namespace berth::runtime::cgroup {
namespace {

bool hasDotDot(std::string_view path) {
  size_t i = 0;
  while (i <= path.size()) {
    size_t end = path.find('/', i);
    if (end == std::string_view::npos) end = path.size();
    if (path.substr(i, end - i) == "..") return true;
    i = end + 1;
  }
  return false;
}

}  // namespace

sys::Result<CgroupPath> parseCgroupsPath(const std::string& cgroupsPath,
                                         const std::string& containerId) {
  if (cgroupsPath.empty()) {
    if (containerId.empty() || containerId.find('/') != std::string::npos || containerId == "." ||
        containerId == "..") {
      return sys::Error::invalid("cgroupsPath: invalid container id \"" + containerId + "\"");
    }
    return CgroupPath{false, "/berth/" + containerId};
  }
  // runc's systemd driver takes "slice:prefix:name"; a cgroupfs path has no
  // reason to look like that, so say which driver is missing instead of
  // creating a directory with colons in its name.
  if (std::count(cgroupsPath.begin(), cgroupsPath.end(), ':') == 2 &&
      cgroupsPath.find('/') == std::string::npos) {
    return sys::Error::invalid("cgroupsPath \"" + cgroupsPath +
                               "\": systemd cgroup driver is not supported; use cgroupfs");
  }
  if (hasDotDot(cgroupsPath)) {
    return sys::Error::invalid("cgroupsPath \"" + cgroupsPath + "\": must not contain \"..\"");
  }
  CgroupPath out;
  out.relative = cgroupsPath[0] != '/';
  out.path = sys::cleanPath(cgroupsPath);
  if (out.relative) {
    while (out.path.starts_with("./")) out.path.erase(0, 2);
    if (out.path == "." || out.path.empty()) {
      return sys::Error::invalid("cgroupsPath \"" + cgroupsPath + "\": names no cgroup");
    }
  } else if (out.path == "/") {
    // The root cgroup is shared by the whole host; a container must never own it.
    return sys::Error::invalid("cgroupsPath \"" + cgroupsPath + "\": names the root cgroup");
  }
  return out;
}

std::string hierarchyDir(const std::string& mountpoint, const std::string& mountRoot,
                         const std::string& self, const CgroupPath& path) {
  if (!path.relative) return sys::joinPath(mountpoint, path.path);
  // /proc/self/cgroup names the cgroup from the hierarchy's root; the mount
  // may show only a subtree of it (mountRoot), which then is its top.
  std::string_view own = self;
  if (mountRoot != "/" && own.starts_with(mountRoot) &&
      (own.size() == mountRoot.size() || own[mountRoot.size()] == '/')) {
    own.remove_prefix(mountRoot.size());
  }
  return sys::joinPath(sys::joinPath(mountpoint, own), path.path);
}

int CgroupPath::parentCount() const {
  int components = 0;
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] != '/' && (i == 0 || path[i - 1] == '/')) ++components;
  }
  return components > 0 ? components - 1 : 0;
}

}  // namespace berth::runtime::cgroup
