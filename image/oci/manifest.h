// Image indexes and image manifests as typed models, parsed from untrusted
// JSON without exceptions: the OCI image index and Docker's manifest list
// (one model, Index), the OCI image manifest and Docker's schema 2 manifest
// (one model, Manifest). Platform resolution picks the index entry for the
// host platform or an explicit --platform.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "image/oci/descriptor.h"
#include "image/oci/media_types.h"
#include "runtime/sys/result.h"

namespace berth::image::oci {

struct Index {
  int64_t schemaVersion = 2;
  std::string mediaType;  // as written in the document; may be empty for OCI
  std::vector<Descriptor> manifests;
  std::map<std::string, std::string> annotations;
};

struct Manifest {
  int64_t schemaVersion = 2;
  std::string mediaType;  // as written in the document; may be empty for OCI
  Descriptor config;
  std::vector<Descriptor> layers;
  std::map<std::string, std::string> annotations;
};

// Both accept the OCI and the Docker form; a document whose mediaType names
// the other kind (a manifest handed to parseIndex) is an error.
sys::Result<Index> parseIndex(std::string_view json);
sys::Result<Manifest> parseManifest(std::string_view json);

// The media type of a manifest-or-index document: its own "mediaType" when
// present, else guessed from its shape ("manifests" -> OCI index, "config"
// -> OCI manifest), as OCI allows the field to be omitted. Errors for
// schema 1 and for documents that are neither.
sys::Result<std::string> detectMediaType(std::string_view json);

// The descriptor to use from `index` for `want`: the best-scoring entry
// (see platformScore), the first one on ties. Entries without a platform
// are used only when no entry has one. The error lists what is available:
// `no image for platform linux/s390x (the index has linux/amd64, linux/arm64)`.
sys::Result<Descriptor> selectManifest(const Index& index, const Platform& want);

// Canonical JSON (sorted keys, no whitespace), for manifests berth writes
// itself (docker-archive import).
std::string serializeManifest(const Manifest& m);
std::string serializeDescriptor(const Descriptor& d);

}  // namespace berth::image::oci
