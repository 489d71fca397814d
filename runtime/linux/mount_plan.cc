// Pure rootfs decisions; see mount_plan.h.
#include "runtime/linux/mount_plan.h"

#include <algorithm>
#include <array>
#include <charconv>

#include "runtime/sys/fs.h"

namespace berth::runtime::linux {
namespace {

bool hasOption(const config::Mount& mount, std::string_view name) {
  return std::find(mount.options.begin(), mount.options.end(), name) != mount.options.end();
}

bool isBindEntry(const config::Mount& mount) {
  return mount.type == "bind" || hasOption(mount, "bind") || hasOption(mount, "rbind");
}

std::vector<std::string_view> splitOn(std::string_view text, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(sep, start);
    if (end == std::string_view::npos) end = text.size();
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

size_t depth(std::string_view path) { return static_cast<size_t>(std::count(path.begin(), path.end(), '/')); }

}  // namespace

std::string describeMount(const config::Mount& mount, size_t index) {
  std::string type = isBindEntry(mount) ? "bind" : (mount.type.empty() ? "none" : mount.type);
  std::string out = "mounts[" + std::to_string(index) + "] (" + type;
  if (!mount.source.empty() && mount.source != type) out += " " + mount.source;
  out += " on " + mount.destination + ")";
  return out;
}

std::string bindSourcePath(const config::Mount& mount, const std::string& bundle) {
  if (mount.source.empty() || mount.source[0] == '/') return mount.source;
  return sys::joinPath(bundle, mount.source);
}

bool isWithin(std::string_view root, std::string_view path) {
  while (root.size() > 1 && root.back() == '/') root.remove_suffix(1);
  if (root == "/") return !path.empty() && path[0] == '/';
  if (!path.starts_with(root)) return false;
  return path.size() == root.size() || path[root.size()] == '/';
}

sys::Result<void> checkProcDestination(std::string_view dest, std::string_view type, bool isBind,
                                       bool sourceIsProcfs) {
  std::string clean = sys::cleanPath(dest);
  if (!isWithin("/proc", clean)) return sys::ok();
  if (clean == "/proc") {
    if (isBind ? sourceIsProcfs : type == "proc") return sys::ok();
    return sys::Error(EPERM, clean + " cannot be mounted because it is not of type proc");
  }
  // The files lxcfs emulates; everything else under /proc could shadow a mask.
  constexpr std::array<std::string_view, 10> kAllowed = {
      "/proc/cpuinfo", "/proc/diskstats", "/proc/meminfo", "/proc/stat",    "/proc/swaps",
      "/proc/uptime",  "/proc/loadavg",   "/proc/slabinfo", "/proc/net/dev", "/proc/sys/kernel/ns_last_pid"};
  if (std::find(kAllowed.begin(), kAllowed.end(), clean) != kAllowed.end()) return sys::ok();
  return sys::Error(EPERM, clean + " cannot be mounted because it is inside /proc");
}

sys::Result<std::vector<DeviceNode>> plannedDevices(const config::Spec& spec) {
  std::vector<DeviceNode> out = {
      {"/dev/null", 'c', 1, 3},   {"/dev/zero", 'c', 1, 5},    {"/dev/full", 'c', 1, 7},
      {"/dev/random", 'c', 1, 8}, {"/dev/urandom", 'c', 1, 9}, {"/dev/tty", 'c', 5, 0},
  };
  if (!spec.linux) return out;
  for (const auto& dev : spec.linux->devices) {
    std::string what = "linux.devices " + dev.path;
    if (dev.path.empty() || dev.path[0] != '/') return sys::Error::invalid(what + ": path must be absolute");
    if (dev.type.size() != 1 || std::string_view("cbup").find(dev.type[0]) == std::string_view::npos) {
      return sys::Error::invalid(what + ": unknown device type \"" + dev.type + "\"");
    }
    if (dev.major < 0 || dev.minor < 0 || dev.major > 0xfff || dev.minor > 0xfffff) {
      return sys::Error::invalid(what + ": device number out of range");
    }
    DeviceNode node;
    node.path = sys::cleanPath(dev.path);
    if (node.path == "/") return sys::Error::invalid(what + ": not a device path");
    node.type = dev.type[0];
    node.major = static_cast<uint32_t>(dev.major);
    node.minor = static_cast<uint32_t>(dev.minor);
    node.mode = dev.fileMode ? static_cast<mode_t>(*dev.fileMode & 07777) : 0666;
    node.uid = dev.uid.value_or(0);
    node.gid = dev.gid.value_or(0);
    auto same = std::find_if(out.begin(), out.end(), [&](const DeviceNode& d) { return d.path == node.path; });
    if (same != out.end()) {
      *same = node;
    } else {
      out.push_back(node);
    }
  }
  return out;
}

bool needsDevSetup(const config::Spec& spec) {
  return std::none_of(spec.mounts.begin(), spec.mounts.end(), [](const config::Mount& m) {
    return sys::cleanPath(m.destination) == "/dev" && isBindEntry(m);
  });
}

std::vector<std::pair<std::string, std::string>> devSymlinks(bool procMounted) {
  std::vector<std::pair<std::string, std::string>> out = {
      {"/dev/fd", "/proc/self/fd"},
      {"/dev/stdin", "/proc/self/fd/0"},
      {"/dev/stdout", "/proc/self/fd/1"},
      {"/dev/stderr", "/proc/self/fd/2"},
  };
  if (procMounted) out.emplace_back("/dev/core", "/proc/kcore");
  return out;
}

bool mountsProc(const config::Spec& spec) {
  return std::any_of(spec.mounts.begin(), spec.mounts.end(), [](const config::Mount& m) {
    return m.type == "proc" && sys::cleanPath(m.destination) == "/proc";
  });
}

sys::Result<std::string> sysctlPath(std::string_view key) {
  if (key.empty()) return sys::Error::invalid("empty sysctl name");
  std::string rel(key);
  if (rel.find('/') == std::string::npos) std::replace(rel.begin(), rel.end(), '.', '/');
  for (auto part : splitOn(rel, '/')) {
    if (part.empty() || part == "." || part == "..") {
      return sys::Error::invalid("invalid sysctl name \"" + std::string(key) + "\"");
    }
  }
  return "/proc/sys/" + rel;
}

std::string cgroupDirName(std::string_view hierarchy) {
  std::string out;
  for (auto part : splitOn(hierarchy, ',')) {
    if (part.starts_with("name=")) part.remove_prefix(5);
    if (part.empty()) continue;
    if (!out.empty()) out += ',';
    out += part;
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> cgroupV1Symlinks(const std::vector<CgroupMount>& mounts) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& m : mounts) {
    std::string dir = cgroupDirName(m.name);
    if (dir.find(',') == std::string::npos) continue;
    for (auto part : splitOn(dir, ',')) out.emplace_back(std::string(part), dir);
  }
  return out;
}

std::vector<MountInfo> parseMountinfo(std::string_view text) {
  std::vector<MountInfo> out;
  for (auto line : splitOn(text, '\n')) {
    auto fields = splitOn(line, ' ');
    auto dash = std::find(fields.begin(), fields.end(), "-");
    if (fields.size() < 10 || dash == fields.end() || dash - fields.begin() < 6 || fields.end() - dash < 3) {
      continue;
    }
    MountInfo info;
    std::from_chars(fields[0].data(), fields[0].data() + fields[0].size(), info.id);
    std::from_chars(fields[1].data(), fields[1].data() + fields[1].size(), info.parent);
    info.root = sys::unescapeMountinfoField(fields[3]);
    info.mountPoint = sys::unescapeMountinfoField(fields[4]);
    info.options = std::string(fields[5]);
    for (auto it = fields.begin() + 6; it != dash; ++it) {
      if (!info.optional.empty()) info.optional += ' ';
      info.optional += *it;
    }
    info.fsType = std::string(dash[1]);
    info.source = sys::unescapeMountinfoField(dash[2]);
    out.push_back(std::move(info));
  }
  return out;
}

const MountInfo* mountContaining(const std::vector<MountInfo>& mounts, std::string_view path) {
  const MountInfo* best = nullptr;
  for (const auto& m : mounts) {
    if (!isWithin(m.mountPoint, path)) continue;
    if (!best || m.mountPoint.size() >= best->mountPoint.size()) best = &m;
  }
  return best;
}

std::vector<std::string> hostProcMountsToDetach(const std::vector<MountInfo>& mounts,
                                                std::string_view rootfs) {
  std::vector<std::string> out;
  for (const auto& m : mounts) {
    if (m.fsType != "proc" && m.fsType != "sysfs") continue;
    // Inside the rootfs: the container's own. Above it: detaching would take the rootfs along.
    if (isWithin(rootfs, m.mountPoint) || isWithin(m.mountPoint, rootfs)) continue;
    if (std::find(out.begin(), out.end(), m.mountPoint) == out.end()) out.push_back(m.mountPoint);
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const std::string& a, const std::string& b) { return depth(a) > depth(b); });
  return out;
}

}  // namespace berth::runtime::linux
