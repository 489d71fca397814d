// The slice of the OCI image-spec and Docker schema2 the puller needs:
// what kind of document a manifest response is, the descriptors it points
// at (config, layers, or per-platform manifests), and which entry of an
// index matches a platform. Full typed models live in image/oci; this one
// stays minimal so pull depends on nothing but the wire format.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/sys/result.h"

namespace berth::image::registry {

inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kDockerList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerManifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerSchema1Signed =
    "application/vnd.docker.distribution.manifest.v1+prettyjws";
inline constexpr std::string_view kDockerSchema1 =
    "application/vnd.docker.distribution.manifest.v1+json";

// The Accept header of manifest requests: indexes first, so a multi-platform
// tag is resolved here rather than by the registry.
std::string manifestAcceptHeader();

struct Platform {
  std::string os = "linux";
  std::string architecture = "amd64";
  std::string variant;  // "v8", "v7"; empty = any

  // "linux/arm64", "linux/arm/v7", "arm64" (os defaults to linux).
  static sys::Result<Platform> parse(std::string_view text);
  // The platform this binary runs on.
  static Platform host();
  std::string str() const;
};

struct Descriptor {
  std::string mediaType;
  std::string digest;  // validated "sha256:<64 hex>"
  int64_t size = -1;
  // Set for index entries that carry one.
  bool hasPlatform = false;
  Platform platform;
};

enum class ManifestKind { kIndex, kManifest };

struct ParsedManifest {
  ManifestKind kind = ManifestKind::kManifest;
  std::string mediaType;             // from the document, else the Content-Type
  std::vector<Descriptor> manifests;  // kIndex
  Descriptor config;                 // kManifest
  std::vector<Descriptor> layers;    // kManifest
};

// Parses a manifest response body. `contentType` is the response's
// Content-Type, used when the document has no mediaType field. Schema1 and
// unknown types are refused with a message that says so.
sys::Result<ParsedManifest> parseManifest(std::string_view body, std::string_view contentType);

// Picks the index entry for `want`: os and architecture must match, the
// variant too when requested (with arm64's "v8" implied). The error lists the
// platforms the index offers.
sys::Result<Descriptor> selectPlatform(const ParsedManifest& index, const Platform& want);

}  // namespace berth::image::registry
