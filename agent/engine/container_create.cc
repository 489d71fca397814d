// Creating a container: check the request, resolve the image, reserve an id
// and a name, then make the pieces in an order a crash can be recovered
// from: the record first (state "creating", so a restarted daemon knows the
// directory is a half-made container and removes it), then the rootfs
// mount, the OCI config, and the record again as "created".
#include <algorithm>

#include "agent/engine/container_engine.h"
#include "agent/engine/container_mounts.h"
#include "agent/engine/container_resources.h"
#include "agent/engine/container_spec.h"
#include "agent/engine/health_check.h"
#include "agent/engine/spec_options.h"
#include "agent/shim/exit_status.h"
#include "runtime/config/serialize.h"
#include "runtime/sys/fs.h"
#include "storage/rootfs/rootfs.h"

namespace berth::agent::engine {
namespace {

constexpr const char* kDefaultShell = "/bin/sh";

// The effective fields the record keeps from the built config.
void recordEffective(ContainerRecord& r, const runtime::config::Spec& spec,
                     const images::ResolvedImage& image) {
  if (spec.process) {
    r.args = spec.process->args;
    r.env = spec.process->env;
    r.workdir = spec.process->cwd;
    r.user = std::to_string(spec.process->user.uid) + ":" + std::to_string(spec.process->user.gid);
  }
  r.stopSignal = r.spec.stop_signal();
  if (r.stopSignal.empty()) {
    auto it = spec.annotations.find(kStopSignalAnnotation);
    r.stopSignal = it != spec.annotations.end() ? it->second : "SIGTERM";
  }
  r.labels = image.config.config.labels;
  for (const auto& [key, value] : r.spec.labels()) r.labels[key] = value;
  auto shell = image.config.config.labels.find(kShellLabel);
  r.shell = shell != image.config.config.labels.end() ? shell->second : kDefaultShell;
}

}  // namespace

api::CallResult<pb::ContainerCreateReply> ContainerEngine::create(
    const pb::ContainerCreateRequest& request) {
  return createContainer(request.spec());
}

api::CallResult<pb::ContainerRunReply> ContainerEngine::run(
    const pb::ContainerRunRequest& request) {
  auto created = createContainer(request.spec());
  if (!created) return std::move(created).error();
  pb::ContainerRunReply reply;
  reply.set_id(created->id());
  reply.set_name(created->name());
  *reply.mutable_warnings() = created->warnings();
  auto locked = lockEntry(created->id());
  if (!locked) return std::move(locked).error();
  if (auto started = startOrRemoveLocked(*locked->entry); !started) {
    return std::move(started).error();
  }
  return reply;
}

api::CallResult<ContainerEngine::Locked> ContainerEngine::reserve(const pb::ContainerSpec& spec,
                                                                  const std::string& id) {
  auto entry = std::make_shared<Entry>();
  // Locked before anyone can see it: calls on the new name wait for create.
  std::unique_lock op(entry->op);
  std::lock_guard lock(mu_);
  std::string name = spec.name();
  if (name.empty()) {
    name = generateName([&](const std::string& n) { return names_.nameTaken(n); });
  } else if (auto owner = names_.idOfName(name)) {
    return api::CallError(pb::ALREADY_EXISTS,
                          "the container name \"" + name + "\" is already in use by container " +
                              owner->substr(0, 12) + ": remove it or pick another name");
  }
  if (!names_.add(id, name)) return api::CallError(pb::ALREADY_EXISTS, "container id collision");
  entry->record.id = id;
  entry->record.name = name;
  entry->record.spec = spec;
  table_[id] = entry;
  return Locked{std::move(entry), std::move(op)};
}

api::CallResult<pb::ContainerCreateReply> ContainerEngine::createContainer(
    const pb::ContainerSpec& spec) {
  if (auto valid = validateSpec(spec); !valid) {
    return api::CallError(pb::INVALID_ARGUMENT, valid.error().what());
  }
  // The slow part (unpacking missing layers) before anything is reserved.
  auto image = images_.resolve(spec.image());
  if (!image) return std::move(image).error();
  auto healthcheck = effectiveHealthCheck(spec, image->config.config.healthcheck);
  if (!healthcheck) return api::CallError(pb::INVALID_ARGUMENT, healthcheck.error().what());
  auto id = generateContainerId();
  if (!id) return std::move(id).error();
  auto locked = reserve(spec, *id);
  if (!locked) return std::move(locked).error();
  Entry& entry = *locked->entry;
  {
    std::lock_guard lock(mu_);
    ContainerRecord& r = entry.record;
    r.createdNs = shim::realtimeNowNs();
    r.imageReference = image->reference;
    r.imageId = image->imageId;
    r.layerDirs = image->layerDirs;
    r.healthcheck = std::move(*healthcheck);
    r.cgroupsPath = cgroupsPathFor(options_.paths.cgroupParent, *id);
    r.state = RecordState::kCreating;
  }
  const std::string dir = options_.paths.containerDir(*id);
  auto made = sys::mkdirAll(dir, 0710);
  if (made) made = persist(entry);
  if (made) made = makeBundle(entry, *image);
  if (made) {
    {
      std::lock_guard lock(mu_);
      entry.record.state = RecordState::kCreated;
    }
    made = persist(entry);
  }
  if (!made) {
    (void)removeContainerResources(options_.paths, *id, entry.record.cgroupsPath);
    forget(entry, std::nullopt);
    return std::move(made).error().context("create container " + entry.record.name);
  }
  pb::ContainerCreateReply reply;
  reply.set_id(*id);
  reply.set_name(entry.record.name);
  for (std::string& warning : unsupportedWarnings(spec, options_.networks != nullptr)) {
    reply.add_warnings(std::move(warning));
  }
  return reply;
}

sys::Result<void> ContainerEngine::makeBundle(Entry& entry, const images::ResolvedImage& image) {
  const ContainerRecord& r = entry.record;
  const std::string dir = options_.paths.containerDir(r.id);
  storage::rootfs::Rootfs rootfs =
      BERTH_TRY(storage::rootfs::prepare(dir, image.layerDirs, rootfsOptionsFor(r.spec)));
  RunOptions options = runOptionsFor(r.spec, r.id, r.name, r.cgroupsPath, rootfs.path);
  runtime::config::Spec spec = BERTH_TRY(buildContainerSpec(image.config, options, rootfs.path));
  BERTH_TRY(ensureWorkingDir(spec, rootfs.path));
  BERTH_TRY(addMountsLocked(entry, spec, rootfs.path));
  BERTH_TRY(sys::mkdirAll(dir + "/bundle", 0700));
  // As the record (container_record.cc): whole or absent after a SIGKILL.
  BERTH_TRY(
      sys::writeFileReplace(dir + "/bundle/config.json", runtime::config::serializeSpec(spec)));
  std::lock_guard lock(mu_);
  recordEffective(entry.record, spec, image);
  return sys::ok();
}

}  // namespace berth::agent::engine
