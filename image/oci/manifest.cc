// Index and manifest parsing: see manifest.h.
#include "image/oci/manifest.h"

#include "image/oci/json_fields.h"

namespace berth::image::oci {
namespace {

using json::Json;
using json::Need;

sys::Result<Platform> readPlatform(const Json& v, const std::string& path) {
  if (!v.is_object()) return json::typeError(path, v, "an object");
  Platform p;
  BERTH_TRY(json::readString(v, "os", path, p.os, Need::kRequired));
  BERTH_TRY(json::readString(v, "architecture", path, p.architecture, Need::kRequired));
  BERTH_TRY(json::readString(v, "variant", path, p.variant));
  BERTH_TRY(json::readString(v, "os.version", path, p.osVersion));
  BERTH_TRY(json::readStrings(v, "os.features", path, p.osFeatures));
  return p;
}

sys::Result<Descriptor> readDescriptor(const Json& v, const std::string& path) {
  if (!v.is_object()) return json::typeError(path, v, "an object (a descriptor)");
  Descriptor d;
  BERTH_TRY(json::readString(v, "mediaType", path, d.mediaType, Need::kRequired));
  BERTH_TRY(json::readDigest(v, "digest", path, d.digest, Need::kRequired));
  BERTH_TRY(json::readInt64(v, "size", path, d.size, Need::kRequired));
  if (d.size < 0) return json::fieldError(json::childPath(path, "size"), "must not be negative");
  BERTH_TRY(json::readStrings(v, "urls", path, d.urls));
  BERTH_TRY(json::readStringMap(v, "annotations", path, d.annotations));
  BERTH_TRY(json::readString(v, "artifactType", path, d.artifactType));
  if (const Json* p = json::member(v, "platform")) {
    d.platform = BERTH_TRY(readPlatform(*p, json::childPath(path, "platform")));
  }
  return d;
}

sys::Result<std::vector<Descriptor>> readDescriptors(const Json& doc, std::string_view key, Need need) {
  std::vector<Descriptor> out;
  const Json* list = json::member(doc, key);
  if (!list) {
    if (need == Need::kRequired) return json::fieldError(key, "required field is missing");
    return out;
  }
  if (!list->is_array()) return json::typeError(key, *list, "an array of descriptors");
  out.reserve(list->size());
  for (size_t i = 0; i < list->size(); ++i) {
    out.push_back(BERTH_TRY(readDescriptor((*list)[i], json::indexPath(key, i))));
  }
  return out;
}

sys::Result<void> checkSchemaVersion(const Json& doc, int64_t& out) {
  BERTH_TRY(json::readInt64(doc, "schemaVersion", "", out, Need::kRequired));
  if (out == 1) return json::fieldError("schemaVersion", "Docker schema 1 manifests are not supported");
  if (out != 2) return json::fieldError("schemaVersion", "expected 2, got " + std::to_string(out));
  return sys::ok();
}

Json descriptorJson(const Descriptor& d) {
  Json j = {{"mediaType", d.mediaType}, {"digest", d.digest.str()}, {"size", d.size}};
  if (!d.urls.empty()) j["urls"] = d.urls;
  if (!d.annotations.empty()) j["annotations"] = d.annotations;
  if (!d.artifactType.empty()) j["artifactType"] = d.artifactType;
  if (d.platform) {
    Json p = {{"os", d.platform->os}, {"architecture", d.platform->architecture}};
    if (!d.platform->variant.empty()) p["variant"] = d.platform->variant;
    if (!d.platform->osVersion.empty()) p["os.version"] = d.platform->osVersion;
    if (!d.platform->osFeatures.empty()) p["os.features"] = d.platform->osFeatures;
    j["platform"] = std::move(p);
  }
  return j;
}

std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

}  // namespace

sys::Result<Index> parseIndex(std::string_view text) {
  auto doc = BERTH_TRY(json::parseDocument(text, "image index"));
  Index idx;
  auto body = [&]() -> sys::Result<void> {
    BERTH_TRY(checkSchemaVersion(doc, idx.schemaVersion));
    BERTH_TRY(json::readString(doc, "mediaType", "", idx.mediaType));
    if (!idx.mediaType.empty() && !isIndexMediaType(idx.mediaType)) {
      return json::fieldError("mediaType", "\"" + idx.mediaType + "\" is not an image index media type");
    }
    idx.manifests = BERTH_TRY(readDescriptors(doc, "manifests", Need::kRequired));
    BERTH_TRY(json::readStringMap(doc, "annotations", "", idx.annotations));
    return sys::ok();
  };
  BERTH_TRY_CTX(body(), "image index");
  return idx;
}

sys::Result<Manifest> parseManifest(std::string_view text) {
  auto doc = BERTH_TRY(json::parseDocument(text, "image manifest"));
  Manifest m;
  auto body = [&]() -> sys::Result<void> {
    BERTH_TRY(checkSchemaVersion(doc, m.schemaVersion));
    BERTH_TRY(json::readString(doc, "mediaType", "", m.mediaType));
    if (!m.mediaType.empty() && !isManifestMediaType(m.mediaType)) {
      return json::fieldError("mediaType", "\"" + m.mediaType + "\" is not an image manifest media type");
    }
    const Json* config = json::member(doc, "config");
    if (!config) return json::fieldError("config", "required field is missing");
    m.config = BERTH_TRY(readDescriptor(*config, "config"));
    m.layers = BERTH_TRY(readDescriptors(doc, "layers", Need::kRequired));
    BERTH_TRY(json::readStringMap(doc, "annotations", "", m.annotations));
    return sys::ok();
  };
  BERTH_TRY_CTX(body(), "image manifest");
  return m;
}

sys::Result<std::string> detectMediaType(std::string_view text) {
  auto doc = BERTH_TRY(json::parseDocument(text, "manifest"));
  std::string mediaType;
  BERTH_TRY_CTX(json::readString(doc, "mediaType", "", mediaType), "manifest");
  if (mediaType == kDockerManifestV1 || mediaType == kDockerManifestV1Signed ||
      (mediaType.empty() && doc.contains("fsLayers"))) {
    return sys::Error::invalid("Docker schema 1 manifests are not supported");
  }
  if (!mediaType.empty()) {
    if (isIndexMediaType(mediaType) || isManifestMediaType(mediaType)) return mediaType;
    return sys::Error::invalid("unsupported manifest media type \"" + mediaType + "\"");
  }
  if (doc.contains("manifests")) return std::string(kOciIndex);
  if (doc.contains("config") && doc.contains("layers")) return std::string(kOciManifest);
  return sys::Error::invalid("document is neither an image index nor an image manifest");
}

sys::Result<Descriptor> selectManifest(const Index& index, const Platform& want) {
  const Descriptor* best = nullptr;
  int bestScore = 0;
  bool anyPlatform = false;
  std::string available;
  for (const auto& d : index.manifests) {
    if (!d.platform) continue;
    anyPlatform = true;
    if (!isManifestMediaType(d.mediaType) && !isIndexMediaType(d.mediaType)) continue;
    // buildx attestations are listed as "unknown/unknown"; never an image to run.
    if (d.platform->os == "unknown") continue;
    if (!available.empty()) available += ", ";
    available += normalizePlatform(*d.platform).str();
    int score = platformScore(want, *d.platform);
    if (score > bestScore) {
      best = &d;
      bestScore = score;
    }
  }
  if (best) return *best;
  if (!anyPlatform) {
    for (const auto& d : index.manifests) {
      if (isManifestMediaType(d.mediaType) || isIndexMediaType(d.mediaType)) return d;
    }
  }
  std::string msg = "no image for platform " + normalizePlatform(want).str();
  msg += available.empty() ? " (the index lists no images)" : " (the index has " + available + ")";
  return sys::Error(ENOENT, std::move(msg));
}

std::string serializeDescriptor(const Descriptor& d) { return dump(descriptorJson(d)); }

std::string serializeManifest(const Manifest& m) {
  Json j = {{"schemaVersion", m.schemaVersion}, {"config", descriptorJson(m.config)}};
  if (!m.mediaType.empty()) j["mediaType"] = m.mediaType;
  Json layers = Json::array();
  for (const auto& l : m.layers) layers.push_back(descriptorJson(l));
  j["layers"] = std::move(layers);
  if (!m.annotations.empty()) j["annotations"] = m.annotations;
  return dump(j);
}

}  // namespace berth::image::oci
