// Host cgroup layout detection: see hierarchy.h.
#include "runtime/cgroup/hierarchy.h"

#include <algorithm>
#include <array>

#include "runtime/sys/fs.h"

namespace berth::runtime::cgroup {
namespace {

// The v1 controllers the kernel knows; every other super option of a cgroup
// mount (rw, xattr, noprefix, release_agent=...) is a mount flag.
constexpr std::array<std::string_view, 14> kV1Controllers = {
    "cpu",      "cpuacct", "cpuset",     "memory",  "devices", "freezer", "net_cls",
    "net_prio", "blkio",   "perf_event", "hugetlb", "pids",    "rdma",    "misc"};

bool isController(std::string_view option) {
  return option.starts_with("name=") ||
         std::find(kV1Controllers.begin(), kV1Controllers.end(), option) != kV1Controllers.end();
}

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t end = text.find(sep, start);
    out.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

struct MountLine {
  std::string root, mountpoint, fstype;
  std::string_view superOptions;
};

sys::Result<MountLine> parseMountLine(std::string_view line) {
  auto fields = split(line, ' ');
  auto dash = std::find(fields.begin(), fields.end(), "-");
  if (fields.size() < 10 || dash == fields.end() || fields.end() - dash < 4 ||
      dash - fields.begin() < 6) {
    return sys::Error::invalid("malformed mountinfo line: " + std::string(line));
  }
  return MountLine{sys::unescapeMountinfoField(fields[3]), sys::unescapeMountinfoField(fields[4]), std::string(dash[1]),
                   dash[3]};
}

bool sameControllers(std::vector<std::string> a, std::vector<std::string> b) {
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  return a == b;
}

sys::Result<void> parseProcCgroup(std::string_view text, Hierarchies& out) {
  for (auto line : split(text, '\n')) {
    if (line.empty()) continue;
    size_t first = line.find(':');
    size_t second = first == std::string_view::npos ? first : line.find(':', first + 1);
    if (second == std::string_view::npos) {
      return sys::Error::invalid("malformed /proc/self/cgroup line: " + std::string(line));
    }
    auto list = line.substr(first + 1, second - first - 1);
    std::string path(line.substr(second + 1));
    if (list.empty()) {
      out.unifiedSelf = path;
      continue;
    }
    std::vector<std::string> controllers;
    for (auto c : split(list, ',')) controllers.emplace_back(c);
    for (auto& h : out.v1) {
      if (sameControllers(h.controllers, controllers)) h.self = path;
    }
  }
  return sys::ok();
}

}  // namespace

std::string_view layoutName(Layout layout) {
  switch (layout) {
    case Layout::kV1:
      return "v1";
    case Layout::kHybrid:
      return "hybrid";
    case Layout::kV2:
      return "v2";
  }
  return "?";
}

bool V1Hierarchy::has(std::string_view controller) const {
  return std::find(controllers.begin(), controllers.end(), controller) != controllers.end();
}

std::string V1Hierarchy::mountName() const {
  std::string out;
  for (const auto& c : controllers) {
    if (!out.empty()) out += ',';
    out += std::string_view(c).starts_with("name=") ? c.substr(5) : c;
  }
  return out;
}

const V1Hierarchy* Hierarchies::findV1(std::string_view controller) const {
  for (const auto& h : v1) {
    if (h.has(controller)) return &h;
  }
  return nullptr;
}

Hierarchies Hierarchies::v2At(std::string mountpoint) {
  Hierarchies h;
  h.layout = Layout::kV2;
  h.unifiedMount = std::move(mountpoint);
  return h;
}

sys::Result<Hierarchies> parseHierarchies(std::string_view mountinfo, std::string_view procCgroup) {
  Hierarchies out;
  bool haveUnified = false;
  for (auto line : split(mountinfo, '\n')) {
    if (line.empty()) continue;
    auto m = BERTH_TRY(parseMountLine(line));
    if (m.fstype == "cgroup2") {
      if (haveUnified) continue;
      haveUnified = true;
      out.unifiedMount = m.mountpoint;
      out.unifiedRoot = m.root;
    } else if (m.fstype == "cgroup") {
      V1Hierarchy h;
      for (auto option : split(m.superOptions, ',')) {
        if (isController(option)) h.controllers.emplace_back(option);
      }
      if (h.controllers.empty()) continue;
      for (const auto& c : h.controllers) h.name += (h.name.empty() ? "" : ",") + c;
      bool seen = std::any_of(out.v1.begin(), out.v1.end(), [&](const V1Hierarchy& o) {
        return sameControllers(o.controllers, h.controllers);
      });
      if (seen) continue;
      h.mountpoint = m.mountpoint;
      h.mountRoot = m.root;
      out.v1.push_back(std::move(h));
    }
  }
  bool realV1 = std::any_of(out.v1.begin(), out.v1.end(), [](const V1Hierarchy& h) {
    return !h.controllers[0].starts_with("name=");
  });
  if (realV1) {
    out.layout = haveUnified ? Layout::kHybrid : Layout::kV1;
  } else if (haveUnified) {
    out.layout = Layout::kV2;
  } else {
    return sys::Error(ENOENT, "no cgroup filesystem is mounted");
  }
  BERTH_TRY(parseProcCgroup(procCgroup, out));
  return out;
}

sys::Result<Hierarchies> detectHierarchies() {
  auto mountinfo = BERTH_TRY_CTX(sys::readFile("/proc/self/mountinfo"), "detect cgroups");
  auto self = BERTH_TRY_CTX(sys::readFile("/proc/self/cgroup"), "detect cgroups");
  return BERTH_TRY_CTX(parseHierarchies(mountinfo, self), "detect cgroups");
}

}  // namespace berth::runtime::cgroup
