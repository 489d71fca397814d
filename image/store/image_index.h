// The image index: <root>/images.json maps image names (normalized
// references such as "docker.io/library/busybox:latest") to the manifest
// (or image index) digest they point at.
//
// Every update is read-modify-write under an flock on <root>/images.json.lock,
// so two processes updating at once lose nothing, and the file is replaced
// crash-safely (temp, fsync, rename, fsync dir): after a crash readers find
// the old or the new index, never a torn one. Readers take no lock.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "image/store/content_store.h"
#include "runtime/sys/result.h"

namespace berth::image::store {

struct ImageRecord {
  std::string name;       // "docker.io/library/busybox:latest"
  Digest manifest;        // what the name points at
  std::string mediaType;  // the manifest's (or image index's) media type
  int64_t created = 0;    // seconds since the epoch; set() fills in "now" when 0

  bool operator==(const ImageRecord&) const = default;
};

using ImageMap = std::map<std::string, ImageRecord, std::less<>>;

class ImageIndex {
 public:
  // `root` is the data root; the index is root/images.json (created on the
  // first update).
  static sys::Result<ImageIndex> open(const std::string& root);

  sys::Result<std::vector<ImageRecord>> list() const;  // sorted by name
  sys::Result<std::optional<ImageRecord>> get(std::string_view name) const;
  // Inserts or replaces the record of record.name.
  sys::Result<void> set(ImageRecord record) const;
  // Returns false when no image had that name.
  sys::Result<bool> remove(std::string_view name) const;
  // Read-modify-write of the whole map under the lock; `edit` may fail, in
  // which case nothing is written.
  sys::Result<void> update(const std::function<sys::Result<void>(ImageMap&)>& edit) const;

  const std::string& path() const { return path_; }

 private:
  explicit ImageIndex(std::string path) : path_(std::move(path)) {}
  sys::Result<ImageMap> load() const;
  std::string path_;
};

// Serialization, exposed for tests and tools.
sys::Result<ImageMap> parseImageIndex(std::string_view text);
std::string serializeImageIndex(const ImageMap& images);
// RFC 3339 UTC ("2024-05-01T12:00:00Z") and back.
std::string formatTime(int64_t unixSeconds);
sys::Result<int64_t> parseTime(std::string_view text);

}  // namespace berth::image::store
