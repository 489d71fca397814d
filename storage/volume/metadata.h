// volume.json: a volume's metadata as stored beside its data. Encoding and
// decoding are pure (no file access), so they are unit-tested without root;
// volume.cc reads and writes the file (crash-safely, temp + fsync + rename).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "runtime/sys/result.h"

namespace berth::storage::volume {

struct Metadata {
  std::string name;
  int64_t createdUnix = 0;
  std::map<std::string, std::string> labels;
  uint64_t sizeLimitBytes = 0;
  // Set once the volume held data (copied up, imported, or found non-empty):
  // first-use copy-up never runs again, even if the user empties it.
  bool populated = false;
};

// The file's content: one JSON object, with a format version.
std::string encodeMetadata(const Metadata& metadata);

// Parses a volume.json; `where` (the file path) names it in errors.
[[nodiscard]] sys::Result<Metadata> decodeMetadata(std::string_view text, const std::string& where);

}  // namespace berth::storage::volume
