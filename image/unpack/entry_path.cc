// Archive path normalization and whiteout names: see entry_path.h.
#include "image/unpack/entry_path.h"

#include <climits>

namespace berth::image::unpack {

sys::Result<EntryPath> parseEntryPath(std::string_view raw) {
  if (raw.size() >= PATH_MAX) {
    return sys::Error(ENAMETOOLONG, "archive path longer than PATH_MAX");
  }
  EntryPath out;
  std::string clean;
  clean.reserve(raw.size());
  size_t i = 0;
  size_t lastStart = 0;
  while (i < raw.size()) {
    while (i < raw.size() && raw[i] == '/') ++i;
    size_t j = i;
    while (j < raw.size() && raw[j] != '/') ++j;
    std::string_view part = raw.substr(i, j - i);
    i = j;
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      return sys::Error::invalid("archive path \"" + std::string(raw) +
                                 "\" has a \"..\" component");
    }
    if (!clean.empty()) clean += '/';
    lastStart = clean.size();
    clean += part;
  }
  if (clean.empty()) return out;
  out.name = clean.substr(lastStart);
  if (lastStart > 0) out.dir = clean.substr(0, lastStart - 1);
  return out;
}

sys::Result<Whiteout> classifyWhiteout(std::string_view name) {
  Whiteout out;
  if (name.substr(0, kWhiteoutPrefix.size()) != kWhiteoutPrefix) return out;
  if (name == kOpaqueMarker) {
    out.kind = WhiteoutKind::kOpaque;
    return out;
  }
  std::string_view target = name.substr(kWhiteoutPrefix.size());
  if (target.substr(0, kWhiteoutPrefix.size()) == kWhiteoutPrefix) {
    out.kind = WhiteoutKind::kIgnored;
    return out;
  }
  if (target.empty() || target == "." || target == "..") {
    return sys::Error::invalid("whiteout \"" + std::string(name) + "\" names no file");
  }
  out.kind = WhiteoutKind::kFile;
  out.target = std::string(target);
  return out;
}

}  // namespace berth::image::unpack
