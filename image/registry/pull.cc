// Registry pull (see pull.h): resolve, store manifests, download the missing
// blobs in parallel, record the name.
#include "image/registry/pull.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "image/registry/blob_pipe.h"
#include "image/registry/client.h"

namespace berth::image::registry {
namespace {

// Manifests and configs are small; a bigger one is refused rather than held in memory.
constexpr int64_t kMaxManifestSize = 4 << 20;
// Blobs above this size are hashed and written on a thread of their own
// while the next bytes arrive (see blob_pipe.h).
constexpr int64_t kThreadedWriteMin = 4 << 20;

bool isInsecure(const std::string& host, const std::vector<std::string>& list) {
  std::string bare = host.substr(0, host.rfind(':'));
  return std::any_of(list.begin(), list.end(),
                     [&](const std::string& entry) { return entry == host || entry == bare; });
}

sys::Result<std::shared_ptr<Session>> openSession(const oci::Reference& ref,
                                                  const PullOptions& options) {
  SessionConfig config;
  config.host = ref.registry;
  config.insecure = isInsecure(ref.registry, options.insecureRegistries);
  config.caFile = options.caFile;
  config.connectTimeoutSec = options.connectTimeoutSec;
  config.stallTimeoutSec = options.stallTimeoutSec;
  if (!options.authFile.empty()) {
    config.credentials = BERTH_TRY(loadCredentials(options.authFile, ref.registry));
    config.credentialsSource = options.authFile;
  }
  return std::make_shared<Session>(std::move(config));
}

// Fetches a manifest and checks it against what named it: a pinned digest
// must match exactly, and a tag's Docker-Content-Digest (when sent) too, so
// a registry cannot hand out a document other than the one it advertises.
sys::Result<std::pair<store::Digest, FetchedManifest>> fetchVerifiedManifest(
    RegistryClient& client, const std::string& reference, int64_t expectedSize) {
  FetchedManifest fetched = BERTH_TRY(client.getManifest(reference));
  if (static_cast<int64_t>(fetched.body.size()) > kMaxManifestSize) {
    return sys::Error::invalid("manifest " + reference + " larger than " +
                               std::to_string(kMaxManifestSize) + " bytes");
  }
  store::Digest actual = store::sha256Of(fetched.body);
  bool pinned = reference.rfind("sha256:", 0) == 0;
  if (pinned && actual.str() != reference) {
    return sys::Error::invalid("manifest digest mismatch: expected " + reference + ", got " +
                               actual.str());
  }
  if (!fetched.digestHeader.empty() && fetched.digestHeader != actual.str()) {
    return sys::Error::invalid("manifest digest mismatch: registry announced " +
                               fetched.digestHeader + ", content is " + actual.str());
  }
  if (expectedSize >= 0 && static_cast<int64_t>(fetched.body.size()) != expectedSize) {
    return sys::Error::invalid("manifest " + reference + ": size mismatch: expected " +
                               std::to_string(expectedSize) + ", got " +
                               std::to_string(fetched.body.size()));
  }
  return std::make_pair(std::move(actual), std::move(fetched));
}

// Like fetchVerifiedManifest, but a manifest already in the store is read
// from there: by digest without asking the registry at all, by tag after a
// HEAD says which digest the tag names now (so re-pulling an unchanged tag
// moves no manifest bytes).
sys::Result<std::pair<store::Digest, FetchedManifest>> loadManifest(
    RegistryClient& client, const store::ContentStore& store, const std::string& reference,
    int64_t expectedSize) {
  std::string digest;
  std::string contentType;
  if (oci::isValidDigest(reference)) {
    digest = reference;
  } else {
    ManifestHead head = BERTH_TRY(client.headManifest(reference));
    if (head.status == 200 && oci::isValidDigest(head.digest)) {
      digest = head.digest;
      contentType = head.contentType;
    }
  }
  if (!digest.empty()) {
    store::Digest d = BERTH_TRY(store::Digest::parse(digest));
    if (store.has(d)) {
      std::string body = BERTH_TRY(store.readBlob(d, kMaxManifestSize));
      return std::make_pair(d, FetchedManifest{std::move(body), contentType, digest});
    }
  }
  // Not stored, or the HEAD failed: GET reports errors with the registry's
  // error document.
  return fetchVerifiedManifest(client, reference, expectedSize);
}

// Reports progress from several threads, one call at a time.
class ProgressReporter {
 public:
  explicit ProgressReporter(const std::function<void(const PullProgress&)>& fn) : fn_(fn) {}
  bool enabled() const { return static_cast<bool>(fn_); }
  void report(const PullProgress& p) {
    if (!fn_) return;
    std::lock_guard lock(mu_);
    fn_(p);
  }

 private:
  const std::function<void(const PullProgress&)>& fn_;
  std::mutex mu_;
};

struct BlobJob {
  Descriptor descriptor;
  const char* role;  // "config" or "layer", for messages
};

sys::Result<uint64_t> downloadBlob(RegistryClient& client, const BlobJob& job,
                                   const store::ContentStore& store, ProgressReporter& progress,
                                   const std::atomic<bool>& cancelled) {
  const Descriptor& d = job.descriptor;
  store::Digest digest = BERTH_TRY(store::Digest::parse(d.digest));
  auto writer = BERTH_TRY(store.writer(digest, d.size));
  PullProgress state{d.digest, 0, d.size, false, false};
  BlobPipe pipe(*writer, d.size > kThreadedWriteMin);
  BodySink sink = [&](const char* data, size_t len) -> sys::Result<void> {
    // Another blob failed: stop this transfer now rather than finish it.
    if (cancelled.load(std::memory_order_relaxed)) return sys::Error::invalid("cancelled");
    BERTH_TRY(pipe.push(data, len));
    state.done += len;
    if (progress.enabled()) progress.report(state);
    return sys::ok();
  };
  BERTH_TRY(client.fetchBlob(d.digest, sink));
  BERTH_TRY(pipe.finish());
  BERTH_TRY(writer->commit());
  state.finished = true;
  progress.report(state);
  return state.done;
}

struct DownloadTotals {
  int downloaded = 0;
  uint64_t bytes = 0;
};

// Runs the jobs on up to `parallelism` threads, each with its own client
// (own curl handle and connection). The first error cancels the others.
sys::Result<DownloadTotals> downloadAll(const std::shared_ptr<Session>& session,
                                        const std::string& repository,
                                        const std::vector<BlobJob>& jobs,
                                        const store::ContentStore& store,
                                        const PullOptions& options) {
  DownloadTotals totals;
  if (jobs.empty()) return totals;
  ProgressReporter progress(options.progress);
  std::atomic<size_t> next{0};
  std::atomic<bool> cancelled{false};
  std::mutex mu;
  std::optional<sys::Error> firstError;

  auto worker = [&] {
    RegistryClient client(session, repository);
    for (size_t i = next++; i < jobs.size() && !cancelled; i = next++) {
      auto n = downloadBlob(client, jobs[i], store, progress, cancelled);
      std::lock_guard lock(mu);
      if (!n.ok()) {
        if (!firstError && !cancelled) {
          firstError = std::move(n).error().context(std::string(jobs[i].role) + " " +
                                                    jobs[i].descriptor.digest);
        }
        cancelled = true;
        return;
      }
      totals.downloaded++;
      totals.bytes += *n;
    }
  };
  size_t threads = std::clamp<size_t>(options.parallelism, 1, jobs.size());
  std::vector<std::thread> pool;
  for (size_t i = 1; i < threads; ++i) pool.emplace_back(worker);
  worker();  // the calling thread is one of the workers
  for (auto& t : pool) t.join();
  if (firstError) return std::move(*firstError);
  return totals;
}

sys::Result<PullResult> pullLocked(const oci::Reference& ref, const PullOptions& options,
                                   const store::ContentStore& store) {
  auto session = BERTH_TRY(openSession(ref, options));
  RegistryClient client(session, ref.repository);
  PullResult result{ref.str(), {}, {}, {}, {}, {}, 0, 0, 0, 0};

  auto [digest, fetched] =
      BERTH_TRY(loadManifest(client, store, ref.manifestReference(), -1));
  ParsedManifest parsed = BERTH_TRY_CTX(parseManifest(fetched.body, fetched.contentType),
                                        "manifest " + digest.str());
  if (parsed.kind == ManifestKind::kIndex) {
    if (!store.has(digest)) BERTH_TRY(store.put(digest, fetched.body));
    result.indexDigest = digest.str();
    Descriptor chosen = BERTH_TRY_CTX(selectPlatform(parsed, options.platform),
                                      "image index " + digest.str());
    std::tie(digest, fetched) =
        BERTH_TRY(loadManifest(client, store, chosen.digest, chosen.size));
    parsed = BERTH_TRY_CTX(parseManifest(fetched.body, fetched.contentType),
                           "manifest " + digest.str());
    if (parsed.kind != ManifestKind::kManifest) {
      return sys::Error::invalid("manifest " + digest.str() + " for " + options.platform.str() +
                                 " is itself an index; nested indexes are not supported");
    }
  }
  if (parsed.config.size > kMaxManifestSize) {
    return sys::Error::invalid("image config " + parsed.config.digest + " larger than " +
                               std::to_string(kMaxManifestSize) + " bytes");
  }
  result.manifest = digest;
  result.manifestMediaType = parsed.mediaType;
  result.config = BERTH_TRY(store::Digest::parse(parsed.config.digest));

  // Only what is missing is downloaded; a layer listed twice is fetched once.
  std::vector<BlobJob> jobs;
  std::set<std::string> seen;
  auto plan = [&](const Descriptor& d, const char* role) {
    if (!seen.insert(d.digest).second) return;
    if (store.has(*store::Digest::parse(d.digest))) {
      result.blobsSkipped++;
      if (options.progress) options.progress(PullProgress{d.digest, 0, d.size, true, true});
      return;
    }
    jobs.push_back(BlobJob{d, role});
  };
  plan(parsed.config, "config");
  for (const auto& layer : parsed.layers) {
    result.layers.push_back(BERTH_TRY(store::Digest::parse(layer.digest)));
    plan(layer, "layer");
  }
  DownloadTotals totals = BERTH_TRY(downloadAll(session, ref.repository, jobs, store, options));
  result.blobsDownloaded = totals.downloaded;
  result.bytesDownloaded = totals.bytes;
  // The manifest goes in last: a present manifest then means its blobs are too.
  if (!store.has(digest)) BERTH_TRY(store.put(digest, fetched.body));
  if (options.index != nullptr) {
    BERTH_TRY(options.index->set(store::ImageRecord{result.name, digest, parsed.mediaType, 0}));
  }
  result.requests = session->requests();
  return result;
}

}  // namespace

sys::Result<PullResult> pull(const oci::Reference& ref, const PullOptions& options,
                             const store::ContentStore& store) {
  // Held from the first blob written until the name is recorded, so garbage
  // collection never removes blobs of an image that is half-way in.
  auto lock = BERTH_TRY_CTX(store::StoreLock::acquire(store.root(), store::StoreLock::Mode::kShared),
                            "pull " + ref.str());
  return pullLocked(ref, options, store).context("pull " + ref.str());
}

}  // namespace berth::image::registry
