// Pulling an image from a registry into the content store.
//
// pull() resolves the reference to one image manifest (an index or manifest
// list is resolved to the requested platform), stores the index, manifest
// and config, and downloads the layers in parallel, each streamed into the
// store's verifying writer, so a layer that does not hash to its digest is
// never published. Blobs already in the store are not downloaded again.
// When an ImageIndex is given, the name is recorded there last, so an image
// is named only once all its blobs are present.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "image/oci/reference.h"
#include "image/registry/manifest.h"
#include "image/store/content_store.h"
#include "image/store/image_index.h"
#include "runtime/sys/result.h"

namespace berth::image::registry {

struct PullProgress {
  std::string digest;  // the blob
  uint64_t done = 0;   // bytes received so far
  int64_t total = -1;  // from the descriptor
  bool skipped = false;   // already in the store
  bool finished = false;  // verified and published (or skipped)
};

struct PullOptions {
  Platform platform = Platform::host();
  std::string caFile;  // PEM bundle for HTTPS registries; empty = system store
  // Registries ("host" or "host:port") reached over plain HTTP or HTTPS
  // without verification, like insecure = true in registries.conf.
  std::vector<std::string> insecureRegistries;
  std::string authFile;  // docker config.json format; empty or missing = anonymous
  int parallelism = 4;   // concurrent layer downloads
  long connectTimeoutSec = 10;
  long stallTimeoutSec = 30;
  // Called from the download threads, serialized by pull(); keep it quick.
  std::function<void(const PullProgress&)> progress;
  // When set, the reference is recorded there (name -> manifest digest).
  const store::ImageIndex* index = nullptr;
};

struct PullResult {
  std::string name;            // the normalized reference, as recorded in the index
  store::Digest manifest;      // the platform's image manifest
  std::string manifestMediaType;
  std::string indexDigest;     // the index / manifest list the tag named, if any
  store::Digest config;
  std::vector<store::Digest> layers;
  int blobsDownloaded = 0;     // config and layers fetched from the registry
  int blobsSkipped = 0;        // config and layers already in the store
  uint64_t bytesDownloaded = 0;
  uint64_t requests = 0;       // HTTP requests made, token fetches included
};

sys::Result<PullResult> pull(const oci::Reference& ref, const PullOptions& options,
                             const store::ContentStore& store);

}  // namespace berth::image::registry
