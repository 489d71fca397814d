// Media types of the OCI image-spec and of Docker's image manifest v2
// schema 2, and what each one names (an index, a manifest, a config, a
// layer and its compression).
#pragma once

#include <string_view>

namespace berth::image::oci {

// OCI image-spec v1.
inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view kOciLayer = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view kOciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view kOciLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr std::string_view kOciLayerNondistributable = "application/vnd.oci.image.layer.nondistributable.v1.tar";
inline constexpr std::string_view kOciLayerNondistributableGzip =
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
inline constexpr std::string_view kOciLayerNondistributableZstd =
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd";

// Docker image manifest v2, schema 2.
inline constexpr std::string_view kDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerConfig = "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view kDockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";
inline constexpr std::string_view kDockerLayerForeignGzip =
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
// Schema 1 is deprecated and signed with a key nobody checks; refused.
inline constexpr std::string_view kDockerManifestV1 = "application/vnd.docker.distribution.manifest.v1+json";
inline constexpr std::string_view kDockerManifestV1Signed =
    "application/vnd.docker.distribution.manifest.v1+prettyjws";

inline bool isIndexMediaType(std::string_view t) { return t == kOciIndex || t == kDockerManifestList; }
inline bool isManifestMediaType(std::string_view t) { return t == kOciManifest || t == kDockerManifest; }
inline bool isConfigMediaType(std::string_view t) { return t == kOciConfig || t == kDockerConfig; }

enum class Compression { kNone, kGzip, kZstd, kUnknown };

// How a layer blob of media type `t` is compressed; kUnknown for anything
// that is not a layer this platform can unpack.
inline Compression layerCompression(std::string_view t) {
  if (t == kOciLayer || t == kOciLayerNondistributable) return Compression::kNone;
  if (t == kOciLayerGzip || t == kOciLayerNondistributableGzip || t == kDockerLayerGzip ||
      t == kDockerLayerForeignGzip) {
    return Compression::kGzip;
  }
  if (t == kOciLayerZstd || t == kOciLayerNondistributableZstd) return Compression::kZstd;
  return Compression::kUnknown;
}

inline bool isLayerMediaType(std::string_view t) { return layerCompression(t) != Compression::kUnknown; }

}  // namespace berth::image::oci
