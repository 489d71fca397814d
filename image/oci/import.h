// Importing images from files: an OCI image layout directory, an oci-archive
// (a tarball of such a layout) and a docker-archive (`docker save` / `podman
// save`, possibly holding several images). Every blob is verified into the
// content store, every manifest, index and config is parsed before any name
// is recorded, and the names land in the image index in one update.
//
// Names: an OCI layout names an image with the annotation
// org.opencontainers.image.ref.name (a full reference, or a tag only, in
// which case containerd's io.containerd.image.name supplies the full one);
// a docker-archive with RepoTags. An image the source leaves unnamed gets
// ImportOptions::name when there is exactly one such image; otherwise it is
// imported but stays unnamed (returned with an empty name, not indexed, and
// therefore removed by the next garbage collection).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "image/oci/descriptor.h"
#include "image/store/content_store.h"
#include "image/store/image_index.h"
#include "runtime/sys/result.h"

namespace berth::image::oci {

struct ImportOptions {
  std::string name;  // for an image the source does not name; normalized like any reference
  // The platform whose image an image index must hold complete (others may
  // be partly absent); the host platform when unset.
  std::optional<Platform> platform;
};

struct ImportedImage {
  std::string name;  // normalized reference; empty when unnamed
  store::Digest digest;
  std::string mediaType;  // of the manifest or image index `digest` names
};

sys::Result<std::vector<ImportedImage>> importOciLayout(const store::ContentStore& store,
                                                        const store::ImageIndex& index, const std::string& dir,
                                                        const ImportOptions& options = {});
sys::Result<std::vector<ImportedImage>> importOciArchive(const store::ContentStore& store,
                                                         const store::ImageIndex& index, const std::string& path,
                                                         const ImportOptions& options = {});
sys::Result<std::vector<ImportedImage>> importDockerArchive(const store::ContentStore& store,
                                                            const store::ImageIndex& index,
                                                            const std::string& path,
                                                            const ImportOptions& options = {});
// A directory is an OCI layout; a file is an oci-archive when it holds
// "oci-layout" (Docker 25+ archives hold both forms), else a docker-archive.
sys::Result<std::vector<ImportedImage>> importImage(const store::ContentStore& store,
                                                    const store::ImageIndex& index, const std::string& path,
                                                    const ImportOptions& options = {});

}  // namespace berth::image::oci
