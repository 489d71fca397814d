// EngineTarget; see engine_target.h.
#include "agent/deploy/engine_target.h"

#include <thread>

#include "agent/logs/reader.h"
#include "agent/project/container_spec_of.h"
#include "agent/shim/shim.h"

namespace berth::agent::deploy {

api::CallResult<ImageFacts> EngineTarget::image(const std::string& reference) {
  auto image = images_.resolve(reference);
  if (!image.ok()) return std::move(image).error();
  return ImageFacts{image->manifestDigest.empty() ? image->imageId : image->manifestDigest,
                    image->config.config.exposedPorts};
}

api::CallResult<std::vector<pb::ContainerSummary>> EngineTarget::projectContainers(
    const std::string& project) {
  pb::ContainerListRequest request;
  request.set_all(true);
  (*request.mutable_label_filter())[project::kProjectLabel] = project;
  auto reply = engine_.list(request);
  if (!reply.ok()) return std::move(reply).error();
  return std::vector<pb::ContainerSummary>(reply->containers().begin(), reply->containers().end());
}

api::CallResult<void> EngineTarget::ensureVolume(const pb::ProjectVolume& volume) {
  pb::VolumeCreateRequest request;
  request.set_name(volume.name());
  request.set_size_limit(volume.size_limit());
  *request.mutable_labels() = volume.labels();
  auto created = engine_.volumeCreate(request);
  if (!created.ok() && created.error().code != pb::ALREADY_EXISTS) return std::move(created).error();
  return {};
}

api::CallResult<std::string> EngineTarget::create(const pb::ContainerSpec& spec) {
  pb::ContainerCreateRequest request;
  *request.mutable_spec() = spec;
  auto reply = engine_.create(request);
  if (!reply.ok()) return std::move(reply).error();
  return reply->id();
}

api::CallResult<void> EngineTarget::start(const std::string& id) {
  pb::ContainerStartRequest request;
  request.set_id(id);
  auto reply = engine_.start(request);
  if (!reply.ok()) return std::move(reply).error();
  return {};
}

api::CallResult<void> EngineTarget::stop(const std::string& id) {
  pb::ContainerStopRequest request;
  request.set_id(id);
  auto reply = engine_.stop(request);
  if (!reply.ok()) return std::move(reply).error();
  return {};
}

api::CallResult<void> EngineTarget::remove(const std::string& id) {
  pb::ContainerRemoveRequest request;
  request.set_id(id);
  request.set_force(true);
  auto reply = engine_.remove(request);
  if (!reply.ok() && reply.error().code != pb::NOT_FOUND) return std::move(reply).error();
  return {};
}

api::CallResult<pb::ContainerInfo> EngineTarget::inspect(const std::string& id) {
  pb::ContainerInspectRequest request;
  request.set_id(id);
  return engine_.inspect(request);
}

std::vector<std::string> EngineTarget::lastLogLines(const std::string& id, size_t lines) {
  std::vector<std::string> out;
  auto view = engine_.find(id);
  if (!view.ok()) return out;
  logs::ReadOptions options;
  options.tailLines = lines;
  std::string partial;
  (void)logs::readLogs(view->dir, shim::kLogBaseName, options, [&](const logs::LogLine& line) {
    partial.append(line.bytes);
    if (!line.partial) out.push_back(std::exchange(partial, {}));
    return true;
  });
  if (!partial.empty()) out.push_back(partial);
  if (out.size() > lines) out.erase(out.begin(), out.end() - static_cast<std::ptrdiff_t>(lines));
  return out;
}

void EngineTarget::sleepFor(std::chrono::milliseconds duration) { std::this_thread::sleep_for(duration); }

std::chrono::steady_clock::time_point EngineTarget::now() { return std::chrono::steady_clock::now(); }

}  // namespace berth::agent::deploy
