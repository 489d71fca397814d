// Grouping the index by image id, and finding an image by what a user typed:
// see image_catalog.h.
#include "agent/images/image_catalog.h"

#include <algorithm>

#include "image/oci/reference.h"
#include "image/oci/walk.h"

namespace berth::agent::images {
namespace {

constexpr std::string_view kSha256Prefix = "sha256:";
constexpr size_t kMinIdPrefix = 4;

bool isLowerHex(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
}

ImageView& viewFor(std::vector<ImageView>& views, const std::shared_ptr<const LoadedImage>& image) {
  const store::Digest& id = image->manifest.config.digest;
  for (auto& v : views) {
    if (v.id == id) return v;
  }
  views.push_back(ImageView{id, image, {}, {}, {}, 0});
  return views.back();
}

void addRecord(ImageView& view, const store::ImageRecord& record) {
  if (!isUntaggedName(record.name)) view.names.push_back(record.name);
  view.recordNames.push_back(record.name);
  if (std::find(view.recordDigests.begin(), view.recordDigests.end(), record.manifest) ==
      view.recordDigests.end()) {
    view.recordDigests.push_back(record.manifest);
  }
  if (view.recorded == 0 || (record.created != 0 && record.created < view.recorded))
    view.recorded = record.created;
}

std::optional<Found> byName(const Snapshot& snapshot, const std::string& name) {
  for (size_t i = 0; i < snapshot.images.size(); i++) {
    const auto& names = snapshot.images[i].recordNames;
    if (std::find(names.begin(), names.end(), name) != names.end()) return Found{i, name};
  }
  return std::nullopt;
}

// "busybox@sha256:<manifest>" names an image of that repository by digest,
// whichever tag it was pulled by (the digest may be the index's or the
// platform manifest's).
std::optional<Found> byRepositoryDigest(const Snapshot& snapshot, const oci::Reference& ref) {
  for (size_t i = 0; i < snapshot.images.size(); i++) {
    const auto& view = snapshot.images[i];
    bool digestMatches = view.image->manifestDigest.str() == ref.digest ||
                         std::any_of(view.recordDigests.begin(), view.recordDigests.end(),
                                     [&](const store::Digest& d) { return d.str() == ref.digest; });
    if (!digestMatches) continue;
    for (const auto& name : view.names) {
      auto parsed = oci::Reference::parse(name);
      // The index name itself, so remove() untags something that exists.
      if (parsed && parsed->name() == ref.name()) return Found{i, name};
    }
  }
  return std::nullopt;
}

api::CallResult<Found> byIdPrefix(const Snapshot& snapshot, std::string_view text,
                                  std::string_view hex) {
  std::vector<size_t> matches;
  for (size_t i = 0; i < snapshot.images.size(); i++) {
    if (snapshot.images[i].id.hex().substr(0, hex.size()) == hex) matches.push_back(i);
  }
  if (matches.size() == 1) return Found{matches[0], ""};
  if (matches.empty()) return notFound(text);
  std::string ids;
  for (size_t i : matches) ids += (ids.empty() ? "" : ", ") + snapshot.images[i].id.str();
  return api::CallError(pb::INVALID_ARGUMENT, "image id prefix " + std::string(text) +
                                                  " is ambiguous: it matches " + ids +
                                                  " (type more of the id)");
}

}  // namespace

bool isUntaggedName(std::string_view name) {
  return name.substr(0, kUntaggedPrefix.size()) == kUntaggedPrefix;
}

std::string untaggedName(const store::Digest& manifest) {
  return std::string(kUntaggedPrefix) + manifest.str();
}

api::CallError notFound(std::string_view text) {
  return api::CallError(pb::NOT_FOUND, "no such image: " + std::string(text) +
                                           " (berth image pull " + std::string(text) +
                                           ", or berth image ls to see the images here)");
}

sys::Result<std::shared_ptr<const LoadedImage>> Catalog::read(const store::Digest& digest,
                                                              std::string_view mediaType) const {
  auto out = std::make_shared<LoadedImage>();
  out->manifestDigest = digest;
  std::string text =
      BERTH_TRY_CTX(store_.readBlob(digest, oci::kMaxDocumentSize), "read " + digest.str());
  std::string type(mediaType);
  if (type.empty()) type = BERTH_TRY_CTX(oci::detectMediaType(text), "manifest " + digest.str());
  if (oci::isIndexMediaType(type)) {
    auto index = BERTH_TRY_CTX(oci::parseIndex(text), "image index " + digest.str());
    auto chosen = BERTH_TRY_CTX(oci::selectManifest(index, oci::hostPlatform()),
                                "image index " + digest.str());
    out->manifestDigest = chosen.digest;
    text =
        BERTH_TRY_CTX(store_.readBlob(chosen.digest, oci::kMaxDocumentSize),
                      "read manifest " + chosen.digest.str() + " of image index " + digest.str());
  }
  out->manifest = BERTH_TRY_CTX(oci::parseManifest(text), "manifest " + out->manifestDigest.str());
  const store::Digest& configDigest = out->manifest.config.digest;
  std::string config = BERTH_TRY_CTX(store_.readBlob(configDigest, oci::kMaxDocumentSize),
                                     "read config of manifest " + out->manifestDigest.str());
  out->config = BERTH_TRY_CTX(oci::parseImageConfig(config), "image config " + configDigest.str());
  if (out->config.rootfs.diffIds.size() != out->manifest.layers.size()) {
    return sys::Error::invalid("image " + configDigest.str() + ": the manifest lists " +
                               std::to_string(out->manifest.layers.size()) +
                               " layers but the config " +
                               std::to_string(out->config.rootfs.diffIds.size()) + " diff ids");
  }
  for (const auto& layer : out->manifest.layers)
    out->size += layer.size > 0 ? static_cast<uint64_t>(layer.size) : 0;
  return std::shared_ptr<const LoadedImage>(std::move(out));
}

sys::Result<std::shared_ptr<const LoadedImage>> Catalog::load(const store::Digest& digest,
                                                              std::string_view mediaType) const {
  {
    std::lock_guard lock(mutex_);
    auto it = cache_.find(digest);
    if (it != cache_.end()) return it->second;
  }
  auto loaded = BERTH_TRY(read(digest, mediaType));
  std::lock_guard lock(mutex_);
  cache_.emplace(digest, loaded);
  return loaded;
}

void Catalog::forget(const std::vector<store::Digest>& removed) const {
  std::lock_guard lock(mutex_);
  for (auto it = cache_.begin(); it != cache_.end();) {
    const auto& image = *it->second;
    bool gone =
        std::find_if(removed.begin(), removed.end(), [&](const store::Digest& d) {
          return d == it->first || d == image.manifestDigest || d == image.manifest.config.digest;
        }) != removed.end();
    it = gone ? cache_.erase(it) : std::next(it);
  }
}

sys::Result<Snapshot> Catalog::snapshot() const {
  auto records = BERTH_TRY(index_.list());
  Snapshot out;
  for (const auto& record : records) {
    auto image = load(record.manifest, record.mediaType);
    if (!image) {
      out.broken[record.name] = image.error().str();
      continue;
    }
    addRecord(viewFor(out.images, *image), record);
  }
  for (auto& view : out.images) std::sort(view.names.begin(), view.names.end());
  return out;
}

api::CallResult<Found> findImage(const Snapshot& snapshot, std::string_view text) {
  if (text.empty())
    return api::CallError(pb::INVALID_ARGUMENT, "no image named: give a name or an id");
  bool prefixed = text.substr(0, kSha256Prefix.size()) == kSha256Prefix;
  std::string_view hex = prefixed ? text.substr(kSha256Prefix.size()) : text;
  bool idLike = isLowerHex(hex) && hex.size() >= kMinIdPrefix && hex.size() <= 64;
  if (prefixed || hex.size() == 64) {
    if (!idLike) {
      return api::CallError(pb::INVALID_ARGUMENT,
                            "invalid image id " + std::string(text) +
                                ": expected sha256: and at least 4 lowercase hex digits");
    }
    return byIdPrefix(snapshot, text, hex);
  }
  auto ref = oci::Reference::parse(text);
  if (ref) {
    std::string name = ref->str();
    if (auto found = byName(snapshot, name)) return *found;
    auto broken = snapshot.broken.find(name);
    if (broken != snapshot.broken.end()) {
      return api::CallError(pb::FAILED_PRECONDITION, "image " + name +
                                                         " is damaged: " + broken->second +
                                                         " (berth image rm " + std::string(text) +
                                                         ", then pull or import it again)");
    }
    if (!ref->digest.empty()) {
      if (auto found = byRepositoryDigest(snapshot, *ref)) return *found;
    }
  }
  // "3f2a" reads as a name too (docker.io/library/3f2a:latest); a name wins,
  // as in Docker, and the id prefix is tried next.
  if (idLike) return byIdPrefix(snapshot, text, hex);
  if (!ref) return api::CallError(pb::INVALID_ARGUMENT, ref.error().str());
  return notFound(text);
}

}  // namespace berth::agent::images
