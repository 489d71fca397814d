// mountinfo parsing: see mountinfo.h.
#include "storage/rootfs/mountinfo.h"

#include <algorithm>

#include "runtime/sys/fs.h"

namespace berth::storage::rootfs {
namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t end = s.find(sep, start);
    out.push_back(s.substr(start, end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return out;
}

// Fills the overlay fields from the super options. Values are split on ','
// and ':' BEFORE unescaping: the kernel escapes those characters inside
// paths, so only the raw separators are real ones.
void parseOverlayOptions(std::string_view superOptions, MountEntry& entry) {
  for (std::string_view option : split(superOptions, ',')) {
    size_t eq = option.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view key = option.substr(0, eq);
    std::string_view value = option.substr(eq + 1);
    if (key == "lowerdir") {
      for (std::string_view layer : split(value, ':')) {
        entry.lowerDirs.push_back(sys::unescapeMountinfoField(layer));
      }
    } else if (key == "lowerdir+") {
      entry.lowerDirs.push_back(sys::unescapeMountinfoField(value));
    } else if (key == "upperdir") {
      entry.upperDir = sys::unescapeMountinfoField(value);
    } else if (key == "workdir") {
      entry.workDir = sys::unescapeMountinfoField(value);
    }
  }
  // The kernel lists the top layer first; callers think lowest first.
  std::reverse(entry.lowerDirs.begin(), entry.lowerDirs.end());
}

}  // namespace

std::optional<MountEntry> parseMountInfoLine(std::string_view line) {
  // id parent major:minor root mount-point options [optional...] - fstype source super-options
  std::vector<std::string_view> fields = split(line, ' ');
  if (fields.size() < 10) return std::nullopt;
  auto dash = std::find(fields.begin() + 6, fields.end(), std::string_view("-"));
  if (dash == fields.end() || fields.end() - dash < 4) return std::nullopt;
  MountEntry entry;
  entry.mountPoint = sys::unescapeMountinfoField(fields[4]);
  entry.fsType = std::string(dash[1]);
  if (entry.fsType == "overlay") parseOverlayOptions(dash[3], entry);
  return entry;
}

sys::Result<std::optional<MountEntry>> findMount(const std::string& mountPoint) {
  std::string text = BERTH_TRY(sys::readFile("/proc/self/mountinfo"));
  std::optional<MountEntry> found;
  // Mounts are listed parents before children and older before newer, so
  // the last entry for a mount point is the one on top.
  for (std::string_view line : split(text, '\n')) {
    if (line.empty()) continue;
    auto entry = parseMountInfoLine(line);
    if (entry && entry->mountPoint == mountPoint) found = std::move(entry);
  }
  return found;
}

}  // namespace berth::storage::rootfs
