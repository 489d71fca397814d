// ImageService: open, import, list, inspect and resolve, plus the helpers
// the other calls share (layer unpack, in-use lookups). remove and prune are
// in image_remove.cc, pull in image_pull.cc.
#include "agent/images/image_service.h"

#include <sys/stat.h>

#include <algorithm>
#include <ctime>
#include <map>

#include "agent/images/image_convert.h"
#include "agent/images/service_state.h"
#include "image/oci/import.h"
#include "image/oci/reference.h"
#include "image/unpack/unpack.h"
#include "runtime/sys/fs.h"

namespace berth::agent::images {
namespace {

bool isDirectory(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

api::CallResult<ImageView> findView(ServiceState& impl, std::string_view text,
                                    std::string* matched) {
  auto snapshot = impl.catalog.snapshot();
  if (!snapshot) return snapshot.error();
  auto found = findImage(*snapshot, text);
  if (!found) return std::move(found).error();
  if (matched) *matched = found->name;
  return std::move(snapshot->images[found->index]);
}

// The import's names, plus `reference` for the one image it holds, plus an
// untagged record for each image the source leaves unnamed, so it survives
// garbage collection like `docker load`'s dangling images.
sys::Result<void> nameImported(ServiceState& impl,
                               const std::vector<image::oci::ImportedImage>& imported,
                               const std::string& reference) {
  std::map<store::Digest, std::string> mediaTypes;
  // ImageIndex::set fills in "now"; a raw update() does not.
  int64_t now = static_cast<int64_t>(::time(nullptr));
  for (const auto& image : imported) mediaTypes[image.digest] = image.mediaType;
  return impl.index.update([&](store::ImageMap& images) -> sys::Result<void> {
    for (const auto& typed : mediaTypes) {
      // Named, not a structured binding: lambdas may not capture those
      // before C++20 compilers caught up (clang 14, the fuzz tree's).
      const store::Digest& digest = typed.first;
      const std::string& mediaType = typed.second;
      bool named = std::any_of(images.begin(), images.end(), [&](const auto& entry) {
        return entry.second.manifest == digest && !isUntaggedName(entry.first);
      });
      if (!reference.empty() && mediaTypes.size() == 1) {
        images.insert_or_assign(reference, store::ImageRecord{reference, digest, mediaType, now});
        named = true;
      }
      if (!named) {
        std::string name = untaggedName(digest);
        images.insert_or_assign(name, store::ImageRecord{name, digest, mediaType, now});
      }
    }
    return sys::ok();
  });
}

}  // namespace

void BackgroundThreads::add(std::thread t) {
  std::lock_guard lock(mutex);
  threads.push_back(std::move(t));
}

void BackgroundThreads::joinAll() {
  std::vector<std::thread> all;
  {
    std::lock_guard lock(mutex);
    all.swap(threads);
  }
  for (auto& t : all) t.join();
}

ImageService::InUse ServiceState::currentInUse() {
  std::function<ImageService::InUse()> f;
  {
    std::lock_guard lock(inUseMutex);
    f = inUse;
  }
  return f ? f() : ImageService::InUse{};
}

void ServiceState::pin(const std::vector<std::string>& layerDirs) {
  if (options.resolvePinSeconds <= 0) return;
  std::lock_guard lock(pinMutex);
  for (const auto& dir : layerDirs) pinned[dir] = std::chrono::steady_clock::now();
}

std::vector<std::string> ServiceState::pinnedLayers() {
  auto oldest = std::chrono::steady_clock::now() - std::chrono::seconds(options.resolvePinSeconds);
  std::vector<std::string> out;
  std::lock_guard lock(pinMutex);
  for (auto it = pinned.begin(); it != pinned.end();) {
    if (it->second < oldest) {
      it = pinned.erase(it);
    } else {
      out.push_back(it->first);
      ++it;
    }
  }
  return out;
}

std::string containersUsing(const ImageService::InUse& inUse, const store::Digest& id) {
  std::string out;
  for (size_t i = 0; i < inUse.imageIds.size(); i++) {
    if (inUse.imageIds[i] != id.str()) continue;
    std::string names =
        i < inUse.containerNamesByImage.size() ? inUse.containerNamesByImage[i] : "";
    if (names.empty()) names = "a container";
    out += (out.empty() ? "" : ", ") + names;
  }
  return out;
}

sys::Result<std::vector<std::string>> unpackLayers(ServiceState& impl, const LoadedImage& image,
                                                   const LayerProgress& progress) {
  const auto& diffIds = image.config.rootfs.diffIds;
  auto chains = image::oci::chainIds(diffIds);
  std::vector<std::string> dirs;
  for (size_t i = 0; i < diffIds.size(); i++) {
    std::string dir = impl.layersRoot() + "/" + std::string(chains[i].hex());
    // A layer already unpacked needs no blob: it may be kept for a running
    // container after its image's blobs were collected.
    if (!isDirectory(dir)) {
      const auto& layer = image.manifest.layers[i];
      std::string what =
          "layer " + layer.digest.str() + " of image " + image.manifest.config.digest.str();
      if (progress) progress(layer.digest.str(), true);
      auto fd = BERTH_TRY_CTX(impl.store.openBlob(layer.digest), what);
      image::unpack::UnpackOptions options;
      options.expectedDiffId = diffIds[i].str();
      dir = BERTH_TRY_CTX(image::unpack::ensureLayer(impl.layersRoot(), chains[i].str(), fd.get(),
                                                     layer.mediaType, options),
                          what);
      if (progress) progress(layer.digest.str(), false);
    }
    dirs.push_back(std::move(dir));
  }
  return dirs;
}

api::CallResult<std::vector<pb::ImageSummary>> summariesOf(
    ServiceState& impl, const std::vector<store::Digest>& digests) {
  auto snapshot = impl.catalog.snapshot();
  if (!snapshot) return snapshot.error();
  std::vector<pb::ImageSummary> out;
  for (const auto& view : snapshot->images) {
    bool wanted = std::any_of(digests.begin(), digests.end(), [&](const store::Digest& d) {
      return d == view.image->manifestDigest ||
             std::find(view.recordDigests.begin(), view.recordDigests.end(), d) !=
                 view.recordDigests.end();
    });
    if (wanted) out.push_back(toSummary(view));
  }
  return out;
}

ImageService::ImageService(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ImageService::~ImageService() {
  impl_->background.joinAll();
}

sys::Result<std::unique_ptr<ImageService>> ImageService::open(const std::string& dataRoot,
                                                              ImageServiceOptions options) {
  auto body = [&]() -> sys::Result<std::unique_ptr<ImageService>> {
    BERTH_TRY(sys::mkdirAll(dataRoot, 0700));
    auto store = BERTH_TRY(store::ContentStore::open(dataRoot));
    auto index = BERTH_TRY(store::ImageIndex::open(dataRoot));
    auto impl =
        std::make_unique<Impl>(dataRoot, std::move(options), std::move(store), std::move(index));
    return std::unique_ptr<ImageService>(new ImageService(std::move(impl)));
  };
  return body().context("open image store in " + dataRoot);
}

void ImageService::setInUse(std::function<InUse()> inUse) {
  std::lock_guard lock(impl_->inUseMutex);
  impl_->inUse = std::move(inUse);
}

api::CallResult<pb::ImageImportReply> ImageService::import(const pb::ImageImportRequest& request) {
  const std::string& path = request.path();
  if (path.empty()) return api::CallError(pb::INVALID_ARGUMENT, "image import: no path given");
  std::string reference;
  if (!request.reference().empty()) {
    auto ref = image::oci::Reference::parse(request.reference());
    if (!ref) return api::CallError(pb::INVALID_ARGUMENT, "image import: " + ref.error().str());
    reference = ref->str();
  }
  std::shared_lock content(impl_->contentMutex);
  auto body = [&]() -> sys::Result<std::vector<store::Digest>> {
    // Held until the untagged records are written, so no collection (ours
    // or another process's) removes an unnamed image in between.
    auto lock = BERTH_TRY(store::StoreLock::acquire(impl_->root, store::StoreLock::Mode::kShared));
    image::oci::ImportOptions options;
    options.name = reference;
    auto imported = BERTH_TRY(image::oci::importImage(impl_->store, impl_->index, path, options));
    if (imported.empty()) return sys::Error::invalid("it holds no image");
    BERTH_TRY(nameImported(*impl_, imported, reference));
    std::vector<store::Digest> digests;
    for (const auto& image : imported) {
      if (std::find(digests.begin(), digests.end(), image.digest) != digests.end()) continue;
      digests.push_back(image.digest);
      auto loaded = BERTH_TRY(impl_->catalog.load(image.digest, image.mediaType));
      BERTH_TRY(unpackLayers(*impl_, *loaded));
    }
    return digests;
  };
  auto digests = body().context("import image from " + path);
  if (!digests) return digests.error();
  auto summaries = summariesOf(*impl_, *digests);
  if (!summaries) return std::move(summaries).error();
  pb::ImageImportReply reply;
  for (auto& s : *summaries) *reply.add_images() = std::move(s);
  return reply;
}

api::CallResult<pb::ImageListReply> ImageService::list(const pb::ImageListRequest& request) {
  auto snapshot = impl_->catalog.snapshot();
  if (!snapshot) return snapshot.error();
  std::vector<pb::ImageSummary> summaries;
  for (const auto& view : snapshot->images) {
    if (view.names.empty() && !request.all()) continue;
    summaries.push_back(toSummary(view));
  }
  // Newest first, as `docker images` lists them.
  std::sort(summaries.begin(), summaries.end(),
            [](const pb::ImageSummary& a, const pb::ImageSummary& b) {
              if (a.created_ns() != b.created_ns()) return a.created_ns() > b.created_ns();
              return a.id() < b.id();
            });
  pb::ImageListReply reply;
  for (auto& s : summaries) *reply.add_images() = std::move(s);
  return reply;
}

api::CallResult<pb::ImageInfo> ImageService::inspect(const pb::ImageInspectRequest& request) {
  auto view = findView(*impl_, request.reference(), nullptr);
  if (!view) return std::move(view).error();
  return toInfo(*view);
}

api::CallResult<ResolvedImage> ImageService::resolve(const std::string& reference) {
  std::shared_lock content(impl_->contentMutex);
  std::string matched;
  auto view = findView(*impl_, reference, &matched);
  if (!view) return std::move(view).error();
  auto dirs = unpackLayers(*impl_, *view->image);
  if (!dirs) return std::move(dirs).error().context("prepare image " + reference);
  ResolvedImage out;
  out.reference = matched.empty() || isUntaggedName(matched) ? view->id.str() : matched;
  out.imageId = view->id.str();
  out.manifestDigest = view->image->manifestDigest.str();
  out.config = view->image->config;
  out.layerDirs = std::move(*dirs);
  impl_->pin(out.layerDirs);
  return out;
}

}  // namespace berth::agent::images
