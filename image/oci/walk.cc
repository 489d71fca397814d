// Image graph walking: see walk.h.
#include "image/oci/walk.h"

#include <cerrno>

#include "image/oci/config.h"
#include "image/oci/manifest.h"
#include "image/oci/media_types.h"

namespace berth::image::oci {
namespace {

// An index may name indexes (nested multi-platform images); content
// addressing rules out cycles, but not a deep chain built to exhaust us.
constexpr int kMaxDepth = 8;

class Walker {
 public:
  Walker(const store::ContentStore& store, const WalkOptions& options, ImageGraph& graph)
      : store_(store), options_(options), graph_(graph) {}

  sys::Result<void> visit(const Descriptor& d, int depth) {
    if (depth > kMaxDepth) return sys::Error::invalid("image indexes nested more than 8 deep");
    bool seen = !graph_.blobs.insert(d.digest).second;
    if (seen) return sys::ok();
    if (options_.fetch) BERTH_TRY(options_.fetch(d));
    if (!store_.has(d.digest)) {
      if (options_.missing == WalkOptions::Missing::kSkip) {
        graph_.missing.insert(d.digest);
        if (isIndexMediaType(d.mediaType) || isManifestMediaType(d.mediaType) || isConfigMediaType(d.mediaType)) {
          graph_.incomplete = true;
        }
        return sys::ok();
      }
      return sys::Error(ENOENT, "blob " + d.digest.str() + " (" + d.mediaType + ") is missing");
    }
    if (d.size >= 0) {
      uint64_t actual = BERTH_TRY(store_.size(d.digest));
      if (actual != static_cast<uint64_t>(d.size)) {
        return sys::Error::invalid("blob " + d.digest.str() + ": size mismatch: descriptor says " +
                                   std::to_string(d.size) + " bytes, blob has " + std::to_string(actual));
      }
    }
    if (isIndexMediaType(d.mediaType)) return visitIndex(d, depth);
    if (isManifestMediaType(d.mediaType)) return visitManifest(d);
    return sys::ok();  // configs and layers are leaves; configs are read by visitManifest
  }

 private:
  sys::Result<std::string> readDocument(const Descriptor& d) {
    auto text = BERTH_TRY(store_.readBlob(d.digest, kMaxDocumentSize));
    // A document that says it is something else than its descriptor claims
    // is refused: otherwise one digest could be read two ways.
    auto declared = BERTH_TRY(detectMediaType(text));
    if (declared != d.mediaType && !(isIndexMediaType(declared) && isIndexMediaType(d.mediaType)) &&
        !(isManifestMediaType(declared) && isManifestMediaType(d.mediaType))) {
      return sys::Error::invalid("descriptor says " + d.mediaType + " but the document is " + declared);
    }
    return text;
  }

  sys::Result<void> visitIndex(const Descriptor& d, int depth) {
    auto body = [&]() -> sys::Result<void> {
      auto text = BERTH_TRY(readDocument(d));
      auto index = BERTH_TRY(parseIndex(text));
      std::optional<store::Digest> needed;
      if (options_.platform) {
        // No image for the platform: then every image must be complete.
        if (auto selected = selectManifest(index, *options_.platform); selected.ok()) needed = selected->digest;
      }
      for (const auto& child : index.manifests) {
        auto visited = visit(child, depth + 1);
        if (visited.ok()) continue;
        if (needed && child.digest != *needed && visited.error().code() == ENOENT) {
          graph_.missing.insert(child.digest);  // another platform's image, not shipped
          continue;
        }
        return visited;
      }
      return sys::ok();
    };
    return body().context("image index " + d.digest.str());
  }

  sys::Result<void> visitManifest(const Descriptor& d) {
    auto body = [&]() -> sys::Result<void> {
      auto text = BERTH_TRY(readDocument(d));
      auto manifest = BERTH_TRY(parseManifest(text));
      graph_.manifests.insert(d.digest);
      BERTH_TRY(visit(manifest.config, kMaxDepth));
      for (const auto& layer : manifest.layers) BERTH_TRY(visit(layer, kMaxDepth));
      if (!isConfigMediaType(manifest.config.mediaType)) return sys::ok();  // an artifact, not an image
      if (!store_.has(manifest.config.digest)) return sys::ok();            // skipped as missing
      auto configText = BERTH_TRY(store_.readBlob(manifest.config.digest, kMaxDocumentSize));
      auto config = BERTH_TRY_CTX(parseImageConfig(configText), "config " + manifest.config.digest.str());
      if (config.rootfs.diffIds.size() != manifest.layers.size()) {
        return sys::Error::invalid("config " + manifest.config.digest.str() + " lists " +
                                   std::to_string(config.rootfs.diffIds.size()) +
                                   " diff_ids but the manifest has " + std::to_string(manifest.layers.size()) +
                                   " layers");
      }
      for (auto& id : chainIds(config.rootfs.diffIds)) graph_.chainIds.insert(std::move(id));
      return sys::ok();
    };
    return body().context("image manifest " + d.digest.str());
  }

  const store::ContentStore& store_;
  const WalkOptions& options_;
  ImageGraph& graph_;
};

}  // namespace

sys::Result<void> walkImage(const store::ContentStore& store, const Descriptor& root, const WalkOptions& options,
                            ImageGraph& graph) {
  return Walker(store, options, graph).visit(root, 0);
}

}  // namespace berth::image::oci
