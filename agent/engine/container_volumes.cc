// `berth volume ...`: named volumes (storage::volume::VolumeStore) with
// what only the engine knows, their users: the containers, running or not,
// whose spec names the volume. A volume in use is never removed (Docker's
// rule, -f included); prune removes those nobody uses.
//
// Export and import stream a tar through the API: the store writes to (or
// reads from) one end of a pipe on a helper thread while the call's thread
// moves the bytes between the pipe and the connection's frames.
#include <fcntl.h>
#include <unistd.h>

#include <thread>

#include "agent/engine/container_engine.h"
#include "agent/engine/container_mounts.h"
#include "runtime/sys/fs.h"
#include "runtime/sys/fd.h"
#include "storage/volume/volume.h"

namespace berth::agent::engine {
namespace {

// Frames stay far below the 4 MiB limit.
constexpr size_t kChunkBytes = 256 * 1024;

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) out += (out.empty() ? "" : ", ") + name;
  return out;
}

api::CallError volumeError(const sys::Error& error) {
  return api::CallError::fromSys(error);
}

}  // namespace

sys::Result<void> ContainerEngine::openVolumes() {
  auto store = storage::volume::VolumeStore::open(options_.paths.dataRoot);
  if (!store) return std::move(store).error().context("open the volume store");
  volumes_ = std::make_unique<storage::volume::VolumeStore>(std::move(*store));
  return sys::ok();
}

std::map<std::string, std::vector<std::string>> ContainerEngine::volumeUsers() const {
  std::map<std::string, std::vector<std::string>> users;
  std::lock_guard lock(mu_);
  for (const auto& [id, entry] : table_) {
    for (const std::string& name : volumeNamesOf(entry->record.spec)) {
      users[name].push_back(entry->record.name);
    }
  }
  return users;
}

pb::VolumeInfo ContainerEngine::volumeInfo(const storage::volume::VolumeInfo& v,
                                           const std::vector<std::string>& users) const {
  pb::VolumeInfo info;
  info.set_name(v.name);
  info.set_mountpoint(v.dataPath);
  info.set_created_ns(v.createdUnix * 1000000000);
  for (const auto& [key, value] : v.labels) (*info.mutable_labels())[key] = value;
  info.set_size_limit(v.sizeLimitBytes);
  if (auto used = volumes_->usage(v.name)) info.set_usage(*used);
  for (const std::string& user : users) info.add_users(user);
  return info;
}

api::CallResult<pb::VolumeInfo> ContainerEngine::volumeCreate(
    const pb::VolumeCreateRequest& request) {
  storage::volume::CreateOptions options;
  options.labels.insert(request.labels().begin(), request.labels().end());
  options.sizeLimitBytes = request.size_limit();
  std::lock_guard lock(volumesMu_);
  auto created = volumes_->create(request.name(), options);
  if (!created) return volumeError(created.error());
  return volumeInfo(*created, {});
}

api::CallResult<pb::VolumeListReply> ContainerEngine::volumeList(const pb::VolumeListRequest&) {
  auto users = volumeUsers();
  std::lock_guard lock(volumesMu_);
  auto volumes = volumes_->list();
  if (!volumes) return volumeError(volumes.error());
  pb::VolumeListReply reply;
  for (const auto& v : *volumes) *reply.add_volumes() = volumeInfo(v, users[v.name]);
  return reply;
}

api::CallResult<pb::VolumeInfo> ContainerEngine::volumeInspect(
    const pb::VolumeInspectRequest& request) {
  auto users = volumeUsers();
  std::lock_guard lock(volumesMu_);
  auto found = volumes_->inspect(request.name());
  if (!found) return volumeError(found.error());
  if (!*found) return api::CallError(pb::NOT_FOUND, "no such volume: " + request.name());
  return volumeInfo(**found, users[request.name()]);
}

api::CallResult<pb::VolumeRemoveReply> ContainerEngine::volumeRemove(
    const pb::VolumeRemoveRequest& request) {
  // Under the volume mutex: a create that names it either registered its
  // container before (a user we see) or makes the volume again after.
  std::lock_guard lock(volumesMu_);
  auto found = volumes_->inspect(request.name());
  if (!found) return volumeError(found.error());
  if (!*found) {
    if (request.force()) return pb::VolumeRemoveReply();
    return api::CallError(pb::NOT_FOUND, "no such volume: " + request.name());
  }
  auto users = volumeUsers()[request.name()];
  if (!users.empty()) {
    return api::CallError(pb::CONFLICT, "volume " + request.name() + " is in use by container" +
                                            (users.size() > 1 ? "s " : " ") + joined(users) +
                                            ": remove " + (users.size() > 1 ? "them" : "it") +
                                            " first");
  }
  if (auto removed = volumes_->remove(request.name()); !removed) {
    return volumeError(removed.error());
  }
  return pb::VolumeRemoveReply();
}

api::CallResult<pb::VolumePruneReply> ContainerEngine::volumePrune(const pb::VolumePruneRequest&) {
  std::lock_guard lock(volumesMu_);
  auto users = volumeUsers();
  auto volumes = volumes_->list();
  if (!volumes) return volumeError(volumes.error());
  pb::VolumePruneReply reply;
  uint64_t reclaimed = 0;
  for (const auto& v : *volumes) {
    if (users.count(v.name) != 0) continue;
    auto used = volumes_->usage(v.name);
    if (auto removed = volumes_->remove(v.name); !removed) {
      return volumeError(removed.error());
    }
    reply.add_deleted(v.name);
    reclaimed += used ? *used : 0;
  }
  reply.set_reclaimed_bytes(reclaimed);
  return reply;
}

api::CallResult<pb::StreamEnd> ContainerEngine::volumeExport(
    const pb::VolumeExportRequest& request, api::StreamWriter<pb::VolumeData>& out) {
  {
    std::lock_guard lock(volumesMu_);
    auto found = volumes_->inspect(request.name());
    if (!found) return volumeError(found.error());
    if (!*found) return api::CallError(pb::NOT_FOUND, "no such volume: " + request.name());
  }
  auto pipe = sys::makePipe();
  if (!pipe) return volumeError(pipe.error());
  auto [readEnd, writeEnd] = std::move(*pipe);
  sys::Result<void> exported;
  // berthd ignores SIGPIPE: a client gone makes the writer fail with EPIPE.
  std::thread writer([&, fd = std::move(writeEnd)]() mutable {
    exported = volumes_->exportTar(request.name(), fd.get());
    fd.reset();
  });
  std::string buffer(kChunkBytes, '\0');
  bool sent = true;
  for (;;) {
    ssize_t n = ::read(readEnd.get(), buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    pb::VolumeData data;
    data.set_data(buffer.data(), static_cast<size_t>(n));
    if (!out.send(std::move(data))) {
      sent = false;
      break;
    }
  }
  readEnd.reset();
  writer.join();
  if (!sent) return api::CallError(pb::CANCELLED, "the client went away");
  if (!exported) return volumeError(std::move(exported).error().context("export volume " + request.name()));
  return pb::StreamEnd();
}

api::CallResult<pb::VolumeImportReply> ContainerEngine::volumeImport(
    const pb::VolumeImportRequest& request, api::BidiStream& stream) {
  if (auto valid = storage::volume::validateName(request.name()); !valid) {
    return api::CallError(pb::INVALID_ARGUMENT, valid.error().what());
  }
  bool existed = false;
  {
    std::lock_guard lock(volumesMu_);
    auto found = volumes_->inspect(request.name());
    if (!found) return volumeError(found.error());
    existed = found->has_value();
  }
  auto pipe = sys::makePipe();
  if (!pipe) return volumeError(pipe.error());
  auto [readEnd, writeEnd] = std::move(*pipe);
  sys::Result<void> imported;
  std::thread reader([&, fd = std::move(readEnd)]() mutable {
    imported = volumes_->importTar(request.name(), fd.get());
    fd.reset();
  });
  bool complete = false;
  bool importerStopped = false;
  pb::StreamInput input;
  while (stream.receive(&input)) {
    if (input.has_close_stdin()) {
      complete = true;
      break;
    }
    // A failed write: the importer stopped reading (a refused volume, a bad
    // tar); its error says why.
    if (input.has_stdin() && !sys::writeAll(writeEnd.get(), input.stdin(), "the import pipe")) {
      importerStopped = true;
      break;
    }
  }
  stream.closeInput();
  if (importerStopped) {
    writeEnd.reset();
    reader.join();
    if (!imported) {
      return volumeError(std::move(imported).error().context("import volume " + request.name()));
    }
    return api::CallError(pb::INVALID_ARGUMENT,
                          "import volume " + request.name() + ": data after the end of the tar");
  }
  if (!complete) {
    // The client hung up mid-way. A tar cut at an entry boundary reads as a
    // whole (shorter) archive, so a damaged header follows: the importer
    // refuses it and leaves nothing half-done.
    (void)sys::writeAll(writeEnd.get(), std::string(1024, '\xff'), "the import pipe");
  }
  writeEnd.reset();
  reader.join();
  if (!complete) {
    if (!existed) {
      std::lock_guard lock(volumesMu_);
      if (volumeUsers().count(request.name()) == 0) (void)volumes_->remove(request.name());
    }
    return api::CallError(pb::CANCELLED, "the client went away before the end of the tar");
  }
  if (!imported) return volumeError(std::move(imported).error().context("import volume " + request.name()));
  pb::VolumeImportReply reply;
  reply.set_created(!existed);
  return reply;
}

}  // namespace berth::agent::engine
