// berthd's project calls; see project_service.h.
#include "agent/deploy/project_service.h"

#include <thread>

#include "agent/deploy/engine_target.h"
#include "agent/project/container_spec_of.h"

namespace berth::agent::deploy {

std::unique_lock<std::mutex> ProjectService::lockProject(const std::string& name) {
  std::shared_ptr<std::mutex> lock;
  {
    std::lock_guard guard(mu_);
    auto& slot = locks_[name];
    if (!slot) slot = std::make_shared<std::mutex>();
    lock = slot;
  }
  // The map keeps every project's mutex for the daemon's life: one small
  // object per project ever deployed.
  return std::unique_lock<std::mutex>(*lock);
}

api::CallResult<pb::ProjectDeployReply> ProjectService::deploy(
    const pb::ProjectDeployRequest& request, api::StreamWriter<pb::DeployProgress>& progress) {
  if (request.name().empty()) return api::CallError(pb::INVALID_ARGUMENT, "a deploy needs the project's name");
  // The client may hang up: the deploy still runs to its end, so the host
  // never stays half-way.
  auto send = [&progress](const std::string& service, const std::string& message) {
    pb::DeployProgress item;
    item.set_service(service);
    item.set_message(message);
    (void)progress.send(item);
  };
  std::unique_lock<std::mutex> held = lockProject(request.name());
  EngineTarget target(images_, engine_);
  return runDeploy(target, request, send, options_);
}

api::CallResult<pb::ProjectDownReply> ProjectService::down(const pb::ProjectDownRequest& request) {
  if (request.name().empty()) return api::CallError(pb::INVALID_ARGUMENT, "down needs the project's name");
  std::unique_lock<std::mutex> held = lockProject(request.name());
  EngineTarget target(images_, engine_);
  auto containers = target.projectContainers(request.name());
  if (!containers.ok()) return std::move(containers).error();
  pb::ProjectDownReply reply;
  // In parallel: a forced remove of each (one slow stop does not hold up the rest).
  std::vector<api::CallResult<void>> results(containers->size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < containers->size(); ++i) {
    threads.emplace_back([&, i] { results[i] = target.remove((*containers)[i].id()); });
  }
  for (std::thread& t : threads) t.join();
  std::string errors;
  for (size_t i = 0; i < results.size(); ++i) {
    if (results[i].ok()) {
      reply.add_removed_containers((*containers)[i].name());
    } else {
      errors += "\n  " + (*containers)[i].name() + ": " + results[i].error().message;
    }
  }
  if (!errors.empty()) return api::CallError(pb::INTERNAL, "down " + request.name() + ":" + errors);
  if (networks_ != nullptr && networks_->inspect(request.name())) {
    if (auto removed = networks_->remove(request.name()); !removed) return removed.error();
    reply.set_network_removed(true);
  }
  if (request.volumes()) {
    auto volumes = engine_.volumeList(pb::VolumeListRequest());
    if (!volumes.ok()) return std::move(volumes).error();
    for (const pb::VolumeInfo& v : volumes->volumes()) {
      auto label = v.labels().find(project::kProjectLabel);
      if (label == v.labels().end() || label->second != request.name()) continue;
      pb::VolumeRemoveRequest remove;
      remove.set_name(v.name());
      auto removed = engine_.volumeRemove(remove);
      if (!removed.ok()) return std::move(removed).error();
      reply.add_removed_volumes(v.name());
    }
  }
  if (reply.removed_containers_size() == 0 && !reply.network_removed() && reply.removed_volumes_size() == 0) {
    return api::CallError(pb::NOT_FOUND, "no such project: " + request.name());
  }
  return reply;
}

}  // namespace berth::agent::deploy
