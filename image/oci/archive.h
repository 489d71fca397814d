// One streaming pass over an image tarball (oci-archive or docker-archive,
// plain or compressed; libarchive): blobs go straight into the content store
// as they are read, verified on the way, and nothing is ever extracted to
// disk. Member names come from whoever made the archive, so absolute names
// and ".." components are refused, and links may only point at members.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "image/oci/media_types.h"
#include "image/store/content_store.h"
#include "runtime/sys/result.h"

namespace berth::image::oci {

struct ArchiveBlob {
  store::Digest digest;
  uint64_t size = 0;
  Compression compression = Compression::kNone;  // sniffed from the first bytes
};

struct ArchiveScan {
  // Small metadata members kept in memory: "index.json", "oci-layout",
  // "manifest.json", "repositories".
  std::map<std::string, std::string> documents;
  // Member name -> the blob its content was stored as.
  std::map<std::string, ArchiveBlob> blobs;
  // Symlink and hard link members: name -> target member name.
  std::map<std::string, std::string> links;

  // The blob stored for member `name`, following links.
  sys::Result<ArchiveBlob> resolve(const std::string& name) const;
};

// Reads `path` and stores every member that can be part of an image:
// "blobs/sha256/<hex>" (verified against <hex>), "*.json" and "*.tar"
// (stored under the digest of their content). `what` names the archive in
// errors.
sys::Result<ArchiveScan> scanArchive(const store::ContentStore& store, const std::string& path);

// Canonical member name ("./a//b" -> "a/b"); errors for absolute names, ".."
// components and empty names.
sys::Result<std::string> cleanMemberName(std::string_view name);

}  // namespace berth::image::oci
