// ImageService's state, shared by the .cc files that implement its calls
// (image_service.cc: open/import/list/inspect/resolve, image_remove.cc:
// remove/prune, image_pull.cc: pull). Not part of the public API.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "agent/images/image_catalog.h"
#include "agent/images/image_service.h"

namespace berth::agent::images {

// A pull the client gave up on keeps running to its end in the background
// (the registry client has no way to stop a transfer midway); the service
// joins these threads when it closes.
struct BackgroundThreads {
  std::mutex mutex;
  std::vector<std::thread> threads;
  void add(std::thread t);
  void joinAll();
};

struct ServiceState {
  ServiceState(std::string dataRoot, ImageServiceOptions opts, store::ContentStore s,
               store::ImageIndex i)
      : root(std::move(dataRoot)),
        options(std::move(opts)),
        store(std::move(s)),
        index(std::move(i)),
        catalog(store, index) {}

  std::string root;
  ImageServiceOptions options;
  store::ContentStore store;
  store::ImageIndex index;
  Catalog catalog;

  // Shared by whatever adds content or reads layers (import, pull, resolve);
  // exclusive for whatever deletes (remove, prune), so a layer resolve() is
  // handing out is never collected under it. The image/ library's file locks
  // do the same across processes.
  std::shared_mutex contentMutex;

  std::mutex inUseMutex;
  std::function<ImageService::InUse()> inUse;

  BackgroundThreads background;

  // Layer directories resolve() handed out, and when (see resolvePinSeconds).
  std::mutex pinMutex;
  std::map<std::string, std::chrono::steady_clock::time_point> pinned;
  void pin(const std::vector<std::string>& layerDirs);
  std::vector<std::string> pinnedLayers();

  std::string layersRoot() const { return root + "/layers"; }
  ImageService::InUse currentInUse();
};

// ImageService's pimpl is private; the helpers below work on its base.
struct ImageService::Impl : ServiceState {
  using ServiceState::ServiceState;
};

// Called around each layer unpackLayers has to unpack (not for layers
// already there): with starting = true before, false once it is in place.
using LayerProgress = std::function<void(const std::string& layerDigest, bool starting)>;

// Unpacks (once) every layer of `image` under <root>/layers with its diff id
// verified; returns the layer directories lowest first.
sys::Result<std::vector<std::string>> unpackLayers(ServiceState& impl, const LoadedImage& image,
                                                   const LayerProgress& progress = {});

// The containers using image `id` per the engine's InUse ("web, db"); empty
// when none.
std::string containersUsing(const ImageService::InUse& inUse, const store::Digest& id);

// Summaries of the images `digests` (manifest or index digests) name, one
// per image, from a fresh snapshot.
api::CallResult<std::vector<pb::ImageSummary>> summariesOf(
    ServiceState& impl, const std::vector<store::Digest>& digests);

}  // namespace berth::agent::images
