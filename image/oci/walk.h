// Walking an image's graph in the content store: an index names manifests,
// a manifest names a config and layers. Import walks it to verify that an
// archive holds every blob it references (with the announced sizes) and that
// every document parses; garbage collection walks it to learn what is still
// referenced.
#pragma once

#include <functional>
#include <optional>
#include <set>

#include "image/oci/descriptor.h"
#include "image/store/content_store.h"
#include "runtime/sys/result.h"

namespace berth::image::oci {

// Manifests, indexes and configs are read whole into memory; this bounds
// what a hostile source can make us allocate (OCI distribution recommends
// registries accept manifests of at least 4 MiB).
inline constexpr uint64_t kMaxDocumentSize = 8 << 20;

struct ImageGraph {
  std::set<store::Digest> blobs;      // every blob reached, present or not
  std::set<store::Digest> manifests;  // image manifests reached
  std::set<store::Digest> chainIds;   // layer chain ids of every image manifest reached
  std::set<store::Digest> missing;    // blobs reached but absent (Missing::kSkip only)
  // An index, manifest or config was missing: chainIds may be short of what
  // some image needs.
  bool incomplete = false;
};

struct WalkOptions {
  enum class Missing { kError, kSkip };
  Missing missing = Missing::kError;
  // Called for every descriptor before its blob is looked at (import uses it
  // to copy the blob into the store); may fail.
  std::function<sys::Result<void>(const Descriptor&)> fetch;
  // When set, an image index only needs the image it offers for this
  // platform to be complete; its other images may be missing (in part or
  // whole), as in `docker save` of a multi-platform image, which writes the
  // whole index but only the blobs of the platform that was pulled.
  std::optional<Platform> platform;
};

// Adds everything reachable from `root` to `graph`. Errors name the blob and
// the document that referenced it. Sizes announced by descriptors are checked
// against the stored blobs (size -1 skips the check), a manifest's layer
// count against its config's diff_ids.
sys::Result<void> walkImage(const store::ContentStore& store, const Descriptor& root, const WalkOptions& options,
                            ImageGraph& graph);

}  // namespace berth::image::oci
