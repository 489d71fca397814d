// ImageService::pull: registry::pull on a worker thread, its progress turned
// into PullProgress frames, the name recorded and the layers unpacked so the
// first `run` does not wait for them.
//
// The worker thread is what makes cancellation prompt: the registry client
// cannot stop a transfer midway, so when the client cancels (or hangs up)
// the call returns CANCELLED at once, and the worker finishes the download
// in the background without naming the image or sending another frame.
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <chrono>
#include <map>

#include "agent/images/image_service.h"
#include "agent/images/service_state.h"
#include "image/oci/reference.h"
#include "image/registry/pull.h"

namespace berth::agent::images {
namespace {

namespace registry = ::berth::image::registry;
using Clock = std::chrono::steady_clock;

// Byte counts come per chunk; a frame per chunk would flood a slow client.
constexpr auto kProgressInterval = std::chrono::milliseconds(200);

// What the worker and the waiting call share. `writer` is only touched under
// `mutex` and only while !abandoned: once the call returned, it is gone.
struct PullJob {
  std::mutex mutex;
  bool abandoned = false;
  api::StreamWriter<pb::PullProgress>* writer = nullptr;
  std::map<std::string, Clock::time_point> lastSent;
  sys::UniqueFd done{::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)};
  std::optional<api::CallResult<pb::ImagePullReply>> result;

  void send(const std::string& id, const char* status, uint64_t current, int64_t total) {
    std::lock_guard lock(mutex);
    if (abandoned) return;
    auto now = Clock::now();
    if (std::string_view(status) == "downloading") {
      auto& last = lastSent[id];
      if (now - last < kProgressInterval) return;
      last = now;
    }
    pb::PullProgress frame;
    frame.set_id(id);
    frame.set_status(status);
    frame.set_current(current);
    frame.set_total(total > 0 ? static_cast<uint64_t>(total) : 0);
    writer->send(frame);
  }
  bool isAbandoned() {
    std::lock_guard lock(mutex);
    return abandoned;
  }
};

void sendBlobProgress(PullJob& job, const registry::PullProgress& p) {
  if (p.skipped) {
    job.send(p.digest, "exists", 0, p.total);
  } else if (p.finished) {
    job.send(p.digest, "done", p.done, p.total);
  } else {
    job.send(p.digest, "downloading", p.done, p.total);
  }
}

sys::Result<registry::PullOptions> pullOptions(const ImageServiceOptions& service,
                                               const std::string& platform) {
  registry::PullOptions options;
  if (!platform.empty()) options.platform = BERTH_TRY(registry::Platform::parse(platform));
  options.caFile = service.caFile;
  options.insecureRegistries = service.insecureRegistries;
  options.authFile = service.authFile;
  return options;
}

// The registry client reports HTTP answers without an errno; what a script
// wants to branch on is in the message it writes.
api::CallError registryError(const sys::Error& error) {
  api::CallError out = api::CallError::fromSys(error);
  const std::string& what = error.what();
  if (error.code() != 0) return out;
  if (what.find("image not found:") != std::string::npos ||
      what.find("no manifest for platform") != std::string::npos) {
    out.code = pb::NOT_FOUND;
  } else if (what.find("unauthorized:") != std::string::npos) {
    out.code = pb::PERMISSION_DENIED;
  } else if (what.find("GET manifest") != std::string::npos ||
             what.find("GET blob") != std::string::npos ||
             what.find("token server") != std::string::npos) {
    out.code = pb::UNAVAILABLE;
  }
  return out;
}

// The worker's whole job: pull, name, unpack, summarize.
api::CallResult<pb::ImagePullReply> runPull(ServiceState& impl, PullJob& job,
                                            const image::oci::Reference& ref,
                                            registry::PullOptions options) {
  std::shared_lock content(impl.contentMutex);
  const std::string name = ref.str();
  // Held across pull and naming: the name is recorded here, not by pull(),
  // so that a cancelled pull leaves no name behind.
  auto lock = store::StoreLock::acquire(impl.root, store::StoreLock::Mode::kShared);
  if (!lock) return std::move(lock).error().context("pull " + name);
  job.send(name, "resolving", 0, 0);
  options.progress = [&job](const registry::PullProgress& p) { sendBlobProgress(job, p); };
  auto pulled = registry::pull(ref, options, impl.store);
  if (!pulled) return registryError(pulled.error());
  if (job.isAbandoned()) return api::CallError(pb::CANCELLED, "pull " + name + " cancelled");
  auto named =
      impl.index.set(store::ImageRecord{name, pulled->manifest, pulled->manifestMediaType, 0});
  if (!named) return std::move(named).error().context("pull " + name);
  auto loaded = impl.catalog.load(pulled->manifest, pulled->manifestMediaType);
  if (!loaded) return std::move(loaded).error().context("pull " + name);
  auto unpacked = unpackLayers(impl, **loaded, [&job](const std::string& digest, bool starting) {
    job.send(digest, starting ? "unpacking" : "done", 0, 0);
  });
  if (!unpacked) return std::move(unpacked).error().context("pull " + name + ": unpack");
  auto summaries = summariesOf(impl, {pulled->manifest});
  if (!summaries) return std::move(summaries).error();
  if (summaries->empty())
    return api::CallError(pb::INTERNAL, "pull " + name + ": the image vanished after the pull");
  job.send(name, "done", pulled->bytesDownloaded, 0);
  pb::ImagePullReply reply;
  *reply.mutable_image() = std::move(summaries->front());
  return reply;
}

// Waits for the worker or the client's cancel, whichever comes first.
bool waitDone(PullJob& job, const api::StreamWriter<pb::PullProgress>& progress) {
  for (;;) {
    if (progress.cancelled()) return false;
    struct pollfd fds[2] = {{job.done.get(), POLLIN, 0}, {progress.cancelFd(), POLLIN, 0}};
    int n = ::poll(fds, progress.cancelFd() >= 0 ? 2 : 1, 500);
    if (n > 0 && (fds[0].revents & POLLIN)) return true;
  }
}

}  // namespace

api::CallResult<pb::ImagePullReply> ImageService::pull(
    const pb::ImagePullRequest& request, api::StreamWriter<pb::PullProgress>& progress) {
  auto ref = image::oci::Reference::parse(request.reference());
  if (!ref) return api::CallError(pb::INVALID_ARGUMENT, "image pull: " + ref.error().str());
  auto options = pullOptions(impl_->options, request.platform());
  if (!options)
    return api::CallError(pb::INVALID_ARGUMENT,
                          "image pull " + ref->str() + ": " + options.error().str());
  auto job = std::make_shared<PullJob>();
  if (!job->done) return sys::Error::fromErrno("eventfd");
  job->writer = &progress;
  ServiceState* impl = impl_.get();
  std::thread worker([impl, job, ref = *ref, opts = std::move(*options)]() mutable {
    auto result = runPull(*impl, *job, ref, std::move(opts));
    {
      std::lock_guard lock(job->mutex);
      job->result.emplace(std::move(result));
    }
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(job->done.get(), &one, sizeof one);
  });
  if (waitDone(*job, progress)) {
    worker.join();
    return std::move(*job->result);
  }
  {
    std::lock_guard lock(job->mutex);
    job->abandoned = true;
    job->writer = nullptr;
  }
  impl_->background.add(std::move(worker));
  return api::CallError(pb::CANCELLED, "pull " + ref->str() + " cancelled");
}

}  // namespace berth::agent::images
