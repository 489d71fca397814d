// Image import from OCI layouts, oci-archives and docker-archives: see
// import.h.
//
// Every path runs in the same order: (1) blobs into the store, each verified
// against its digest; (2) the image graph walked from what the source names,
// so a missing blob, a size mismatch or a document that does not parse fails
// the import; (3) names recorded, all in one index update. Blobs written by
// a failed import are left for garbage collection, and a shared StoreLock
// keeps the collector away while they are not yet referenced.
#include "image/oci/import.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "image/oci/archive.h"
#include "image/oci/config.h"
#include "image/oci/json_fields.h"
#include "image/oci/manifest.h"
#include "image/oci/reference.h"
#include "image/oci/walk.h"
#include "runtime/sys/fs.h"

namespace berth::image::oci {
namespace {

using json::Json;

constexpr std::string_view kRefNameAnnotation = "org.opencontainers.image.ref.name";
constexpr std::string_view kContainerdNameAnnotation = "io.containerd.image.name";

// An image found in the source, with the names the source gives it.
struct Candidate {
  Descriptor descriptor;
  std::vector<std::string> names;
};

sys::Result<std::string> normalizeName(std::string_view text) {
  auto ref = BERTH_TRY(Reference::parse(text));
  return ref.str();
}

sys::Result<void> checkLayoutVersion(std::string_view text) {
  auto doc = BERTH_TRY(json::parseDocument(text, "oci-layout"));
  std::string version;
  BERTH_TRY_CTX(json::readString(doc, "imageLayoutVersion", "", version, json::Need::kRequired), "oci-layout");
  if (version.substr(0, 2) != "1.") {
    return sys::Error::invalid("oci-layout: unsupported imageLayoutVersion \"" + version + "\"");
  }
  return sys::ok();
}

// The full name an index.json entry gives its image, or none when it gives
// none or only a tag without containerd's full name beside it.
sys::Result<std::optional<std::string>> layoutEntryName(const Descriptor& d) {
  auto get = [&](std::string_view key) -> std::string {
    auto it = d.annotations.find(std::string(key));
    return it == d.annotations.end() ? std::string() : it->second;
  };
  std::string ref = get(kRefNameAnnotation);
  // OCI image-layout: ref.name is a full reference or just a tag ("latest").
  if (ref.find_first_of("/:@") != std::string::npos) {
    return std::optional(BERTH_TRY_CTX(normalizeName(ref), std::string(kRefNameAnnotation)));
  }
  std::string full = get(kContainerdNameAnnotation);
  if (!full.empty()) {
    return std::optional(BERTH_TRY_CTX(normalizeName(full), std::string(kContainerdNameAnnotation)));
  }
  return std::optional<std::string>();
}

sys::Result<std::vector<Candidate>> layoutCandidates(std::string_view indexJson) {
  auto index = BERTH_TRY_CTX(parseIndex(indexJson), "index.json");
  std::vector<Candidate> out;
  for (size_t i = 0; i < index.manifests.size(); ++i) {
    const Descriptor& d = index.manifests[i];
    std::string where = "index.json manifests[" + std::to_string(i) + "]";
    if (!isIndexMediaType(d.mediaType) && !isManifestMediaType(d.mediaType)) {
      return sys::Error::invalid(where + ": unsupported media type \"" + d.mediaType + "\"");
    }
    Candidate c{d, {}};
    auto name = BERTH_TRY_CTX(layoutEntryName(d), where);
    if (name) c.names.push_back(std::move(*name));
    out.push_back(std::move(c));
  }
  if (out.empty()) return sys::Error::invalid("index.json lists no images");
  return out;
}

sys::Result<void> verifyGraph(const store::ContentStore& store, const std::vector<Candidate>& images,
                              const WalkOptions& options) {
  ImageGraph graph;
  for (const auto& c : images) BERTH_TRY(walkImage(store, c.descriptor, options, graph));
  return sys::ok();
}

// Names the unnamed image (if exactly one) after the caller, records every
// name in one index update, and reports what was imported.
sys::Result<std::vector<ImportedImage>> recordNames(const store::ImageIndex& index, std::vector<Candidate> images,
                                                    const ImportOptions& options) {
  if (!options.name.empty()) {
    std::string name = BERTH_TRY_CTX(normalizeName(options.name), "import name");
    size_t unnamed = 0;
    for (const auto& c : images) unnamed += c.names.empty() ? 1 : 0;
    for (auto& c : images) {
      if (c.names.empty() && unnamed == 1) c.names.push_back(name);
    }
  }
  std::vector<ImportedImage> out;
  int64_t now = static_cast<int64_t>(::time(nullptr));
  BERTH_TRY(index.update([&](store::ImageMap& map) -> sys::Result<void> {
    for (const auto& c : images) {
      for (const auto& name : c.names) {
        map.insert_or_assign(name, store::ImageRecord{name, c.descriptor.digest, c.descriptor.mediaType, now});
      }
    }
    return sys::ok();
  }));
  for (const auto& c : images) {
    if (c.names.empty()) out.push_back({"", c.descriptor.digest, c.descriptor.mediaType});
    for (const auto& name : c.names) out.push_back({name, c.descriptor.digest, c.descriptor.mediaType});
  }
  return out;
}

sys::Result<std::string> readLayoutDocument(int dirfd, const std::string& name) {
  auto fd = BERTH_TRY(sys::openInRoot(dirfd, name, O_RDONLY | O_CLOEXEC));
  std::string out;
  char buf[1 << 14];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys::Error::fromErrno("read " + name);
    }
    if (n == 0) return out;
    if (out.size() + static_cast<size_t>(n) > kMaxDocumentSize) return sys::Error(EFBIG, name + " is larger than 8 MiB");
    out.append(buf, static_cast<size_t>(n));
  }
}

// Copies the blob `d` from the layout at `dirfd` into the store. Paths are
// resolved inside the layout (RESOLVE_IN_ROOT): a symlinked blob cannot make
// us read a file outside it.
sys::Result<void> copyLayoutBlob(const store::ContentStore& store, int dirfd, const Descriptor& d) {
  if (store.has(d.digest)) return sys::ok();
  std::string rel = "blobs/sha256/" + std::string(d.digest.hex());
  auto fd = sys::openInRoot(dirfd, rel, O_RDONLY | O_CLOEXEC);
  if (!fd) {
    if (fd.error().code() == ENOENT) {
      return sys::Error(ENOENT, "blob " + d.digest.str() + " (" + d.mediaType + ") is missing from the layout");
    }
    return std::move(fd).error();
  }
  auto w = BERTH_TRY(store.writer(d.digest, d.size));
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd->get(), buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys::Error::fromErrno("read " + rel);
    }
    if (n == 0) break;
    BERTH_TRY(w->write(buf, static_cast<size_t>(n)));
  }
  return w->commit();
}

sys::Result<std::vector<ImportedImage>> importScannedOci(const store::ContentStore& store,
                                                         const store::ImageIndex& index, const ArchiveScan& scan,
                                                         const ImportOptions& options) {
  auto layout = scan.documents.find("oci-layout");
  if (layout == scan.documents.end()) return sys::Error::invalid("not an OCI archive: no oci-layout member");
  BERTH_TRY(checkLayoutVersion(layout->second));
  auto indexJson = scan.documents.find("index.json");
  if (indexJson == scan.documents.end()) return sys::Error::invalid("OCI archive without index.json");
  auto images = BERTH_TRY(layoutCandidates(indexJson->second));
  WalkOptions walk;
  walk.platform = options.platform ? *options.platform : hostPlatform();
  walk.fetch = [&](const Descriptor& d) -> sys::Result<void> {
    // Present in the store (from this archive, or from before) is enough:
    // the store only holds verified content.
    if (store.has(d.digest)) return sys::ok();
    return sys::Error(ENOENT, "blob " + d.digest.str() + " (" + d.mediaType + ") is missing from the archive");
  };
  BERTH_TRY(verifyGraph(store, images, walk));
  return recordNames(index, std::move(images), options);
}

// ---- docker-archive ----

// One entry of a docker-archive's manifest.json.
struct DockerEntry {
  std::string config;
  std::vector<std::string> repoTags;
  std::vector<std::string> layers;
};

sys::Result<std::vector<DockerEntry>> parseDockerManifest(std::string_view text) {
  Json doc = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return sys::Error::invalid("manifest.json: not valid JSON");
  if (!doc.is_array()) return json::typeError("manifest.json", doc, "an array");
  std::vector<DockerEntry> out;
  for (size_t i = 0; i < doc.size(); ++i) {
    std::string path = json::indexPath("manifest.json", i);
    if (!doc[i].is_object()) return json::typeError(path, doc[i], "an object");
    DockerEntry e;
    BERTH_TRY(json::readString(doc[i], "Config", path, e.config, json::Need::kRequired));
    BERTH_TRY(json::readStrings(doc[i], "RepoTags", path, e.repoTags));
    BERTH_TRY(json::readStrings(doc[i], "Layers", path, e.layers, json::Need::kRequired));
    out.push_back(std::move(e));
  }
  if (out.empty()) return sys::Error::invalid("manifest.json lists no images");
  return out;
}

// The OCI layer descriptor for a docker-archive layer. `docker save` writes
// uncompressed tars, whose digest must then be the config's diff_id; a
// compressed one (some tools write those) is described as such, and its
// diff_id is checked when it is unpacked.
sys::Result<Descriptor> dockerLayer(const ArchiveScan& scan, const std::string& member, const store::Digest& diffId) {
  auto blob = BERTH_TRY(scan.resolve(member));
  Descriptor d;
  d.digest = blob.digest;
  d.size = static_cast<int64_t>(blob.size);
  switch (blob.compression) {
    case Compression::kGzip: d.mediaType = std::string(kOciLayerGzip); break;
    case Compression::kZstd: d.mediaType = std::string(kOciLayerZstd); break;
    default:
      d.mediaType = std::string(kOciLayer);
      if (blob.digest != diffId) {
        return sys::Error::invalid("layer \"" + member + "\" is " + blob.digest.str() +
                                   " but the config's diff_id says " + diffId.str());
      }
  }
  return d;
}

// Synthesizes and stores the OCI manifest of one docker-archive image.
sys::Result<Candidate> importDockerEntry(const store::ContentStore& store, const ArchiveScan& scan,
                                         const DockerEntry& e) {
  auto configBlob = BERTH_TRY_CTX(scan.resolve(e.config), "Config");
  auto configText = BERTH_TRY(store.readBlob(configBlob.digest, kMaxDocumentSize));
  auto config = BERTH_TRY_CTX(parseImageConfig(configText), "config \"" + e.config + "\"");
  if (config.rootfs.diffIds.size() != e.layers.size()) {
    return sys::Error::invalid("config \"" + e.config + "\" lists " + std::to_string(config.rootfs.diffIds.size()) +
                               " diff_ids but Layers has " + std::to_string(e.layers.size()) + " entries");
  }
  Manifest m;
  m.mediaType = std::string(kOciManifest);
  m.config = Descriptor{std::string(kOciConfig), configBlob.digest, static_cast<int64_t>(configBlob.size)};
  for (size_t i = 0; i < e.layers.size(); ++i) {
    m.layers.push_back(BERTH_TRY_CTX(dockerLayer(scan, e.layers[i], config.rootfs.diffIds[i]),
                                     "Layers[" + std::to_string(i) + "]"));
  }
  std::string text = serializeManifest(m);
  auto digest = BERTH_TRY(store.putAny(text));
  Candidate c{Descriptor{std::string(kOciManifest), digest, static_cast<int64_t>(text.size())}, {}};
  for (size_t i = 0; i < e.repoTags.size(); ++i) {
    c.names.push_back(BERTH_TRY_CTX(normalizeName(e.repoTags[i]), "RepoTags[" + std::to_string(i) + "]"));
  }
  return c;
}

sys::Result<std::vector<ImportedImage>> importScannedDocker(const store::ContentStore& store,
                                                            const store::ImageIndex& index, const ArchiveScan& scan,
                                                            const ImportOptions& options) {
  auto manifest = scan.documents.find("manifest.json");
  if (manifest == scan.documents.end()) return sys::Error::invalid("not a docker-archive: no manifest.json member");
  auto entries = BERTH_TRY(parseDockerManifest(manifest->second));
  std::vector<Candidate> images;
  for (size_t i = 0; i < entries.size(); ++i) {
    images.push_back(BERTH_TRY_CTX(importDockerEntry(store, scan, entries[i]),
                                   "manifest.json[" + std::to_string(i) + "]"));
  }
  BERTH_TRY(verifyGraph(store, images, WalkOptions{}));
  return recordNames(index, std::move(images), options);
}

}  // namespace

sys::Result<std::vector<ImportedImage>> importOciLayout(const store::ContentStore& store,
                                                        const store::ImageIndex& index, const std::string& dir,
                                                        const ImportOptions& options) {
  auto body = [&]() -> sys::Result<std::vector<ImportedImage>> {
    auto lock = BERTH_TRY(store::StoreLock::acquire(store.root(), store::StoreLock::Mode::kShared));
    sys::UniqueFd dirfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dirfd) return sys::Error::fromErrno("open " + dir);
    auto layout = BERTH_TRY(readLayoutDocument(dirfd.get(), "oci-layout"));
    BERTH_TRY(checkLayoutVersion(layout));
    auto indexJson = BERTH_TRY(readLayoutDocument(dirfd.get(), "index.json"));
    auto images = BERTH_TRY(layoutCandidates(indexJson));
    WalkOptions walk;
    walk.platform = options.platform ? *options.platform : hostPlatform();
    walk.fetch = [&](const Descriptor& d) { return copyLayoutBlob(store, dirfd.get(), d); };
    BERTH_TRY(verifyGraph(store, images, walk));
    return recordNames(index, std::move(images), options);
  };
  return body().context("import OCI layout " + dir);
}

sys::Result<std::vector<ImportedImage>> importOciArchive(const store::ContentStore& store,
                                                         const store::ImageIndex& index, const std::string& path,
                                                         const ImportOptions& options) {
  auto body = [&]() -> sys::Result<std::vector<ImportedImage>> {
    auto lock = BERTH_TRY(store::StoreLock::acquire(store.root(), store::StoreLock::Mode::kShared));
    auto scan = BERTH_TRY(scanArchive(store, path));
    return importScannedOci(store, index, scan, options);
  };
  return body().context("import oci-archive " + path);
}

}  // namespace berth::image::oci

namespace berth::image::oci {

sys::Result<std::vector<ImportedImage>> importDockerArchive(const store::ContentStore& store,
                                                            const store::ImageIndex& index,
                                                            const std::string& path, const ImportOptions& options) {
  auto body = [&]() -> sys::Result<std::vector<ImportedImage>> {
    auto lock = BERTH_TRY(store::StoreLock::acquire(store.root(), store::StoreLock::Mode::kShared));
    auto scan = BERTH_TRY(scanArchive(store, path));
    return importScannedDocker(store, index, scan, options);
  };
  return body().context("import docker-archive " + path);
}

sys::Result<std::vector<ImportedImage>> importImage(const store::ContentStore& store,
                                                    const store::ImageIndex& index, const std::string& path,
                                                    const ImportOptions& options) {
  struct stat st;
  if (::stat(path.c_str(), &st) < 0) return sys::Error::fromErrno("import " + path);
  if (S_ISDIR(st.st_mode)) return importOciLayout(store, index, path, options);
  auto body = [&]() -> sys::Result<std::vector<ImportedImage>> {
    auto lock = BERTH_TRY(store::StoreLock::acquire(store.root(), store::StoreLock::Mode::kShared));
    auto scan = BERTH_TRY(scanArchive(store, path));
    if (scan.documents.count("oci-layout")) return importScannedOci(store, index, scan, options);
    if (scan.documents.count("manifest.json")) return importScannedDocker(store, index, scan, options);
    return sys::Error::invalid("neither an oci-archive (no oci-layout) nor a docker-archive (no manifest.json)");
  };
  return body().context("import " + path);
}

}  // namespace berth::image::oci
