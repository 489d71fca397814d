// Garbage collection ("image prune"): removes the blobs no image in the
// index reaches (index -> manifests -> config + layers) and the unpacked
// layer directories <root>/layers/<chain-id> no such image needs. Removing a
// name from the index is a separate step (ImageIndex::remove); this only
// reclaims what nothing names any more.
//
// It holds the StoreLock exclusively, so an import or pull that holds it
// shared never loses blobs it has written but not yet named. It never
// deletes on doubt: a manifest or config that no longer parses aborts the
// collection instead of letting everything below it go.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "image/oci/walk.h"
#include "image/store/content_store.h"
#include "image/store/image_index.h"
#include "runtime/sys/result.h"

namespace berth::image::oci {

struct GcOptions {
  bool dryRun = false;  // report what would go, remove nothing
  // Temp files of writers that died are removed once this old.
  int64_t tempMaxAgeSeconds = 24 * 3600;
  // Layer directories never removed whatever the index says, because a
  // running container's overlay mounts them: paths ("<root>/layers/<hex>"),
  // directory names, or chain ids ("sha256:<hex>").
  std::vector<std::string> keepLayers;
};

struct GcReport {
  std::vector<store::Digest> removedBlobs;
  std::vector<std::string> removedLayers;  // directory names under <root>/layers
  uint64_t bytesFreed = 0;
  // Set when layer directories were left alone because some image's
  // manifest or config is missing (its chain ids cannot be known).
  std::string layersSkipped;
};

// Everything the images in the index reference (missing blobs tolerated).
sys::Result<ImageGraph> referencedContent(const store::ContentStore& store, const store::ImageIndex& index);

sys::Result<GcReport> collectGarbage(const store::ContentStore& store, const store::ImageIndex& index,
                                     const GcOptions& options = {});

// The chain id a directory under <root>/layers stands for: "<hex>",
// "sha256:<hex>" or "sha256-<hex>"; nullopt for anything else (the unpacker's
// temp and lock files, which are never collected).
std::optional<store::Digest> layerDirChainId(std::string_view name);

}  // namespace berth::image::oci
