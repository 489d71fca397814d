// The images of a data root as the agent sees them: the index's names
// grouped by image id (the config digest), each with its parsed manifest and
// config, and the lookup of what a user typed ("busybox", "sha256:3f2a...",
// "3f2a") among them.
//
// Parsed documents are cached by digest: a blob never changes under its
// digest, so a cached entry can only go stale by its blob being deleted,
// which forget() handles after a garbage collection.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "agent/api/status.h"
#include "image/oci/config.h"
#include "image/oci/manifest.h"
#include "image/store/content_store.h"
#include "image/store/image_index.h"
#include "runtime/sys/result.h"

namespace berth::agent::images {

namespace store = ::berth::image::store;
namespace oci = ::berth::image::oci;
namespace pb = ::berth::api;

// Untagged images stay in the index under a name no reference can spell
// ('<' is outside the reference grammar), so garbage collection keeps them
// and `berth image ls --all` lists them: "<none>@sha256:<manifest hex>".
inline constexpr std::string_view kUntaggedPrefix = "<none>@";
bool isUntaggedName(std::string_view name);
std::string untaggedName(const store::Digest& manifest);

// What one manifest (or image index, resolved to the host platform) holds.
struct LoadedImage {
  store::Digest manifestDigest;  // the platform's image manifest
  oci::Manifest manifest;
  oci::ImageConfig config;
  uint64_t size = 0;  // compressed layer bytes, as the manifest announces them
};

struct ImageView {
  store::Digest id;  // config digest
  std::shared_ptr<const LoadedImage> image;
  std::vector<std::string> names;            // tagged names, normalized, sorted
  std::vector<std::string> recordNames;      // every index name of it, untagged ones too
  std::vector<store::Digest> recordDigests;  // what those names point at (index or manifest)
  int64_t recorded = 0;                      // earliest index record time (seconds)
};

struct Snapshot {
  std::vector<ImageView> images;
  // Index names whose image cannot be read (blob gone or unparsable): why.
  std::map<std::string, std::string> broken;
};

class Catalog {
 public:
  Catalog(const store::ContentStore& store, const store::ImageIndex& index)
      : store_(store), index_(index) {}

  // Every image the index names, grouped by id.
  sys::Result<Snapshot> snapshot() const;
  // The image a manifest or image index digest names (host platform).
  sys::Result<std::shared_ptr<const LoadedImage>> load(const store::Digest& digest,
                                                       std::string_view mediaType) const;
  // Drops cached documents whose blobs were removed.
  void forget(const std::vector<store::Digest>& removed) const;

 private:
  sys::Result<std::shared_ptr<const LoadedImage>> read(const store::Digest& digest,
                                                       std::string_view mediaType) const;
  const store::ContentStore& store_;
  const store::ImageIndex& index_;
  mutable std::mutex mutex_;
  mutable std::map<store::Digest, std::shared_ptr<const LoadedImage>> cache_;
};

struct Found {
  size_t index = 0;  // into Snapshot::images
  std::string name;  // the index name that matched; empty when found by id
};

// By name (normalized with the reference grammar), full id ("sha256:<hex>"
// or 64 hex) or id prefix (>= 4 hex, with or without "sha256:").
api::CallResult<Found> findImage(const Snapshot& snapshot, std::string_view text);

// "no such image: x (berth image pull x)"
api::CallError notFound(std::string_view text);

}  // namespace berth::agent::images
