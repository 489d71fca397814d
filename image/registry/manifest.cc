// Minimal manifest / index parsing and platform selection (see manifest.h).
#include "image/registry/manifest.h"

#include <sys/utsname.h>

#include <nlohmann/json.hpp>

#include "image/oci/reference.h"

namespace berth::image::registry {
namespace {

using nlohmann::json;

std::string stringField(const json& obj, const char* name) {
  auto it = obj.find(name);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

sys::Result<Descriptor> parseDescriptor(const json& obj, const std::string& where) {
  if (!obj.is_object()) return sys::Error::invalid(where + ": not an object");
  Descriptor d;
  d.mediaType = stringField(obj, "mediaType");
  d.digest = stringField(obj, "digest");
  if (!oci::isValidDigest(d.digest)) {
    return sys::Error::invalid(where + ": digest \"" + d.digest +
                               "\" is not sha256:<64 lowercase hex>");
  }
  auto size = obj.find("size");
  if (size == obj.end() || !size->is_number_integer() || size->get<int64_t>() < 0) {
    return sys::Error::invalid(where + ": missing or negative size");
  }
  d.size = size->get<int64_t>();
  if (auto p = obj.find("platform"); p != obj.end() && p->is_object()) {
    d.hasPlatform = true;
    d.platform.os = stringField(*p, "os");
    d.platform.architecture = stringField(*p, "architecture");
    d.platform.variant = stringField(*p, "variant");
  }
  return d;
}

bool isIndexType(std::string_view t) { return t == kOciIndex || t == kDockerList; }
bool isManifestType(std::string_view t) { return t == kOciManifest || t == kDockerManifest; }

// Content-Type may carry parameters ("...+json; charset=utf-8").
std::string_view bareType(std::string_view contentType) {
  std::string_view t = contentType.substr(0, contentType.find(';'));
  while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
  return t;
}

sys::Result<void> parseIndexBody(const json& doc, ParsedManifest& out) {
  auto list = doc.find("manifests");
  if (list == doc.end() || !list->is_array()) {
    return sys::Error::invalid("image index without a \"manifests\" array");
  }
  for (size_t i = 0; i < list->size(); ++i) {
    out.manifests.push_back(
        BERTH_TRY(parseDescriptor((*list)[i], "manifests[" + std::to_string(i) + "]")));
  }
  return sys::ok();
}

sys::Result<void> parseManifestBody(const json& doc, ParsedManifest& out) {
  auto config = doc.find("config");
  if (config == doc.end()) return sys::Error::invalid("image manifest without \"config\"");
  out.config = BERTH_TRY(parseDescriptor(*config, "config"));
  auto layers = doc.find("layers");
  if (layers == doc.end() || !layers->is_array()) {
    return sys::Error::invalid("image manifest without a \"layers\" array");
  }
  for (size_t i = 0; i < layers->size(); ++i) {
    out.layers.push_back(
        BERTH_TRY(parseDescriptor((*layers)[i], "layers[" + std::to_string(i) + "]")));
  }
  return sys::ok();
}

}  // namespace

std::string manifestAcceptHeader() {
  std::string h = "Accept: ";
  h += kOciIndex;
  h += ", ";
  h += kDockerList;
  h += ", ";
  h += kOciManifest;
  h += ", ";
  h += kDockerManifest;
  return h;
}

sys::Result<Platform> Platform::parse(std::string_view text) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('/', start);
    if (end == std::string_view::npos) end = text.size();
    parts.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  Platform p;
  p.variant.clear();
  if (parts.size() == 1) {
    p.architecture = parts[0];
  } else if (parts.size() <= 3) {
    p.os = parts[0];
    p.architecture = parts[1];
    if (parts.size() == 3) p.variant = parts[2];
  } else {
    parts.clear();
  }
  bool empty = parts.empty();
  for (const auto& part : parts) empty = empty || part.empty();
  if (empty) {
    return sys::Error::invalid("invalid platform \"" + std::string(text) +
                               "\" (want os/arch[/variant], e.g. linux/arm64)");
  }
  if (p.architecture == "aarch64") p.architecture = "arm64";
  if (p.architecture == "x86_64") p.architecture = "amd64";
  return p;
}

Platform Platform::host() {
  Platform p;
  utsname u{};
  if (uname(&u) == 0) {
    std::string_view m = u.machine;
    if (m == "x86_64") p.architecture = "amd64";
    else if (m == "aarch64") p.architecture = "arm64";
    else if (m.substr(0, 3) == "arm") p.architecture = "arm", p.variant = "v7";
    else p.architecture = std::string(m);
  }
  return p;
}

std::string Platform::str() const {
  std::string out = os + "/" + architecture;
  if (!variant.empty()) out += "/" + variant;
  return out;
}

sys::Result<ParsedManifest> parseManifest(std::string_view body, std::string_view contentType) {
  json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return sys::Error::invalid("manifest is not a JSON object");
  }
  ParsedManifest out;
  out.mediaType = stringField(doc, "mediaType");
  if (out.mediaType.empty()) out.mediaType = std::string(bareType(contentType));
  if (auto v = doc.find("schemaVersion"); v != doc.end() && *v == 1) {
    out.mediaType = std::string(kDockerSchema1Signed);
  }
  if (out.mediaType == kDockerSchema1Signed || out.mediaType == kDockerSchema1) {
    return sys::Error::invalid("Docker schema1 manifests are not supported (" + out.mediaType +
                               "); push the image again with a current client");
  }
  // Neither field nor header: tell the kinds apart by shape (OCI allows it).
  if (!isIndexType(out.mediaType) && !isManifestType(out.mediaType)) {
    if (doc.contains("manifests")) {
      out.mediaType = std::string(kOciIndex);
    } else if (doc.contains("config") && doc.contains("layers")) {
      out.mediaType = std::string(kOciManifest);
    } else {
      return sys::Error::invalid("unsupported manifest media type \"" + out.mediaType + "\"");
    }
  }
  if (isIndexType(out.mediaType)) {
    out.kind = ManifestKind::kIndex;
    BERTH_TRY(parseIndexBody(doc, out));
  } else {
    out.kind = ManifestKind::kManifest;
    BERTH_TRY(parseManifestBody(doc, out));
  }
  return out;
}

sys::Result<Descriptor> selectPlatform(const ParsedManifest& index, const Platform& want) {
  auto variantOk = [&](const Platform& p) {
    if (want.variant.empty() || p.variant == want.variant) return true;
    // arm64 images usually omit "v8"; an explicit v8 request matches them.
    return want.architecture == "arm64" && want.variant == "v8" && p.variant.empty();
  };
  const Descriptor* best = nullptr;
  std::string offered;
  for (const auto& d : index.manifests) {
    if (!d.hasPlatform) continue;
    if (!offered.empty()) offered += ", ";
    offered += d.platform.str();
    if (d.platform.os != want.os || d.platform.architecture != want.architecture) continue;
    if (!variantOk(d.platform) || !isManifestType(d.mediaType.empty() ? kOciManifest : d.mediaType)) {
      continue;
    }
    // Without a requested variant the first match wins, as Docker does.
    if (best == nullptr) best = &d;
  }
  if (best == nullptr) {
    return sys::Error::invalid("no manifest for platform " + want.str() + " in the image index" +
                               (offered.empty() ? std::string(" (no entry names a platform)")
                                                : " (it offers " + offered + ")"));
  }
  return *best;
}

}  // namespace berth::image::registry
