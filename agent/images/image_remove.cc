// ImageService::remove and ::prune: dropping names from the index and then
// collecting what no name reaches any more, never what a container uses.
//
// Docker's rules: removing one of several names only untags; removing the
// last name (or removing by id, which takes every name) deletes the image,
// unless a container uses it: then CONFLICT, or with force the names go and
// the image stays, untagged, for the containers still running on it.
#include <algorithm>
#include <ctime>

#include "agent/images/image_service.h"
#include "agent/images/service_state.h"
#include "image/oci/gc.h"

namespace berth::agent::images {
namespace {

// Removes `names` from the index in one update; with `keepUntagged`, leaves
// the image an untagged record so it survives collection.
sys::Result<void> dropNames(ServiceState& impl, const ImageView& view,
                            const std::vector<std::string>& names, bool keepUntagged) {
  return impl.index.update([&](store::ImageMap& images) -> sys::Result<void> {
    std::string mediaType;
    for (const auto& name : names) {
      auto it = images.find(name);
      if (it == images.end()) continue;
      if (it->second.manifest == view.image->manifestDigest) mediaType = it->second.mediaType;
      images.erase(it);
    }
    if (keepUntagged) {
      std::string name = untaggedName(view.image->manifestDigest);
      if (mediaType.empty()) mediaType = view.image->manifest.mediaType;
      if (mediaType.empty()) mediaType = std::string(oci::kOciManifest);
      images.insert_or_assign(name, store::ImageRecord{name, view.image->manifestDigest, mediaType,
                                                       static_cast<int64_t>(::time(nullptr))});
    }
    return sys::ok();
  });
}

api::CallResult<oci::GcReport> collect(ServiceState& impl, const ImageService::InUse& inUse) {
  oci::GcOptions options;
  options.keepLayers = inUse.layerDirs;
  for (auto& dir : impl.pinnedLayers()) options.keepLayers.push_back(std::move(dir));
  auto report = oci::collectGarbage(impl.store, impl.index, options);
  if (!report) return report.error();
  impl.catalog.forget(report->removedBlobs);
  return std::move(*report);
}

api::CallError inUseConflict(const ImageView& view, std::string_view text,
                             const std::string& containers) {
  return api::CallError(pb::CONFLICT, "image " + std::string(text) + " (" + view.id.str() +
                                          ") is used by containers " + containers +
                                          ": remove them first, or use --force to untag it anyway");
}

}  // namespace

api::CallResult<pb::ImageRemoveReply> ImageService::remove(const pb::ImageRemoveRequest& request) {
  std::unique_lock content(impl_->contentMutex);
  auto snapshot = impl_->catalog.snapshot();
  if (!snapshot) return snapshot.error();
  auto found = findImage(*snapshot, request.reference());
  if (!found) return std::move(found).error();
  const ImageView& view = snapshot->images[found->index];
  bool byName = !found->name.empty() && !isUntaggedName(found->name);
  pb::ImageRemoveReply reply;

  // One of several names: only that name goes, whoever uses the image.
  if (byName && view.names.size() > 1) {
    auto removed = impl_->index.remove(found->name);
    if (!removed) return removed.error();
    reply.add_untagged(found->name);
    return reply;
  }
  InUse inUse = impl_->currentInUse();
  std::string containers = containersUsing(inUse, view.id);
  if (!containers.empty() && !request.force())
    return inUseConflict(view, request.reference(), containers);

  bool keep = !containers.empty();
  auto dropped = dropNames(*impl_, view, view.recordNames, keep);
  if (!dropped) return dropped.error();
  for (const auto& name : view.names) reply.add_untagged(name);
  if (keep) return reply;
  reply.add_deleted(view.id.str());
  auto report = collect(*impl_, inUse);
  if (!report) {
    auto error = std::move(report).error();
    error.message =
        "image " + view.id.str() + " was removed, but freeing its space failed: " + error.message;
    return error;
  }
  return reply;
}

api::CallResult<pb::ImagePruneReply> ImageService::prune(const pb::ImagePruneRequest& request) {
  std::unique_lock content(impl_->contentMutex);
  auto snapshot = impl_->catalog.snapshot();
  if (!snapshot) return snapshot.error();
  InUse inUse = impl_->currentInUse();
  pb::ImagePruneReply reply;
  std::vector<std::string> names;
  for (const auto& view : snapshot->images) {
    if (!containersUsing(inUse, view.id).empty()) continue;
    if (!view.names.empty() && !request.all()) continue;
    names.insert(names.end(), view.recordNames.begin(), view.recordNames.end());
    reply.add_deleted(view.id.str());
  }
  auto dropped = impl_->index.update([&](store::ImageMap& images) -> sys::Result<void> {
    for (const auto& name : names) images.erase(name);
    return sys::ok();
  });
  if (!dropped) return dropped.error();
  auto report = collect(*impl_, inUse);
  if (!report) return std::move(report).error();
  reply.set_reclaimed_bytes(report->bytesFreed);
  return reply;
}

}  // namespace berth::agent::images
