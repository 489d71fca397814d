// berthd's image calls (berth image pull|import|ls|inspect|rm|prune) over the
// image/ library, and the one thing the container engine asks of images:
// resolve a reference to its config and its unpacked layer directories.
//
// Thread-safe: connections call it concurrently. The image/ library's own
// locks make concurrent pulls of one image (or one layer) safe.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/api/connection.h"
#include "agent/api/status.h"
#include "image/oci/config.h"
#include "runtime/sys/result.h"

namespace berth::agent::images {

namespace pb = ::berth::api;

struct ImageServiceOptions {
  std::vector<std::string> insecureRegistries;  // "host[:port]": plain HTTP allowed
  std::string caFile;                           // PEM bundle for HTTPS registries
  std::string authFile;                         // docker config.json format
  // The layer directories resolve() hands out are kept from garbage
  // collection this long, so an image removed while a container is being
  // created on it (after resolve, before the engine's InUse lists it) does
  // not lose the layers that container is about to mount.
  int resolvePinSeconds = 120;
};

// An image ready to run: its config and its layers, each unpacked once under
// <root>/layers and shared read-only.
struct ResolvedImage {
  std::string reference;       // normalized name ("docker.io/library/busybox:latest"), or the id
  std::string imageId;         // config digest "sha256:..."
  std::string manifestDigest;  // "sha256:..."
  image::oci::ImageConfig config;
  std::vector<std::string> layerDirs;  // lowest first (storage::rootfs::prepare's order)
};

class ImageService {
 public:
  // `dataRoot` holds blobs/, images.json and layers/ (image/'s layout).
  static sys::Result<std::unique_ptr<ImageService>> open(const std::string& dataRoot,
                                                          ImageServiceOptions options = {});
  ~ImageService();

  api::CallResult<pb::ImagePullReply> pull(const pb::ImagePullRequest& request,
                                           api::StreamWriter<pb::PullProgress>& progress);
  api::CallResult<pb::ImageImportReply> import(const pb::ImageImportRequest& request);
  api::CallResult<pb::ImageListReply> list(const pb::ImageListRequest& request);
  api::CallResult<pb::ImageInfo> inspect(const pb::ImageInspectRequest& request);
  api::CallResult<pb::ImageRemoveReply> remove(const pb::ImageRemoveRequest& request);
  api::CallResult<pb::ImagePruneReply> prune(const pb::ImagePruneRequest& request);

  // By name ("busybox", "localhost/app:1"), full id or id prefix (>= 4 hex).
  // Unpacks missing layers. NOT_FOUND says how to get the image
  // ("no such image: x (berth image pull x)").
  api::CallResult<ResolvedImage> resolve(const std::string& reference);

  // Set by the engine before serving: the ids (config digests) of the images
  // that containers use, and the layer directories their rootfs mount.
  // remove refuses an image in use (CONFLICT naming the containers) unless
  // forced; prune and garbage collection never delete what is in use.
  // `inUse` is called with the service's deletion lock held: it must not
  // call back into the ImageService (nor wait on anything that does).
  struct InUse {
    std::vector<std::string> imageIds;
    std::vector<std::string> containerNamesByImage;  // parallel to imageIds: "web, db"
    std::vector<std::string> layerDirs;
  };
  void setInUse(std::function<InUse()> inUse);

 private:
  struct Impl;
  explicit ImageService(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace berth::agent::images
