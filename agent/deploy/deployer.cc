// The deploy executor; see deployer.h.
#include "agent/deploy/deployer.h"

#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "agent/deploy/waits.h"
#include "agent/project/container_spec_of.h"
#include "agent/project/plan.h"

namespace berth::agent::deploy {
namespace {

using project::Action;

std::string labelOf(const pb::ContainerSummary& s, const char* key) {
  auto it = s.labels().find(key);
  return it == s.labels().end() ? "" : it->second;
}

project::ContainerState stateOf(const pb::ContainerSummary& s) {
  switch (s.state()) {
    case pb::STATE_RUNNING:
    case pb::STATE_RESTARTING:  // the restart policy keeps it going
      return project::ContainerState::kRunning;
    case pb::STATE_CREATED:
      return project::ContainerState::kCreated;
    default:
      return project::ContainerState::kExited;
  }
}

// A one-shot that did its work: a deploy leaves it exited.
bool completed(const pb::ContainerSummary& s) {
  return s.state() == pb::STATE_EXITED && s.exit_code() == 0;
}

// One service during a deploy.
struct ServiceRun {
  const pb::ProjectService* service = nullptr;
  pb::ContainerSpec spec;  // pinned and stamped
  project::Step step;
  std::string id;  // its container once handled (kept, created or recreated)
  // Started by this deploy without waiting out the settle time: checked
  // once at the end (settleCheck), so a chain of levels does not pay it at
  // every level.
  std::optional<std::chrono::steady_clock::time_point> startedAt;
};

class Run {
 public:
  Run(DeployTarget& target, const pb::ProjectDeployRequest& request, const ProgressFn& progress,
      const DeployOptions& options)
      : target_(target), request_(request), progress_(progress), options_(options) {}

  api::CallResult<pb::ProjectDeployReply> execute();

 private:
  api::CallResult<void> pinImages();
  api::CallResult<void> publishMain(ServiceRun& run, const std::vector<std::string>& exposed);
  api::CallResult<void> readCurrent();
  api::CallResult<void> removeUnnamed();
  api::CallResult<void> runLevel(const std::vector<std::string>& level);
  api::CallResult<void> apply(ServiceRun& run);
  api::CallResult<void> waitDependencies(ServiceRun& run);
  api::CallResult<void> createNew(ServiceRun& run);
  api::CallResult<void> recreate(ServiceRun& run);
  api::CallResult<void> startKept(ServiceRun& run);
  api::CallResult<void> settleCheck();
  api::CallError failed(const std::string& service, const std::string& id, const api::CallError& why);
  void say(const std::string& service, const std::string& message);
  void note(google::protobuf::RepeatedPtrField<std::string>* list, const std::string& service);

  DeployTarget& target_;
  const pb::ProjectDeployRequest& request_;
  const ProgressFn& progress_;
  const DeployOptions& options_;
  std::mutex mu_;  // progress_ and reply_ from the level threads
  pb::ProjectDeployReply reply_;
  std::map<std::string, ServiceRun> runs_;
  std::map<std::string, pb::ContainerSummary> current_;  // by id
  project::Plan plan_;
  // The public entrance and its host port: the request's, or main's when
  // its port came from its image (publishMain).
  std::string entrance_;
  uint32_t publishPort_ = 0;
};

void Run::say(const std::string& service, const std::string& message) {
  std::lock_guard lock(mu_);
  if (progress_) progress_(service, message);
}

void Run::note(google::protobuf::RepeatedPtrField<std::string>* list, const std::string& service) {
  std::lock_guard lock(mu_);
  list->Add()->assign(service);
}

api::CallError Run::failed(const std::string& service, const std::string& id,
                           const api::CallError& why) {
  std::string message = service + ": " + why.message;
  if (!id.empty()) {
    std::vector<std::string> lines = target_.lastLogLines(id, options_.logLines);
    if (!lines.empty()) {
      message += "\n  last log lines of " + service + ":";
      for (const std::string& line : lines) message += "\n    " + line;
    }
  }
  say(service, "failed: " + why.message);
  return api::CallError(why.code, message);
}

api::CallResult<void> Run::pinImages() {
  std::map<std::string, ImageFacts> images;
  entrance_ = request_.entrance();
  publishPort_ = request_.publish_port();
  for (const pb::ProjectService& service : request_.services()) {
    ServiceRun& run = runs_[service.name()];
    run.service = &service;
    run.spec = service.spec();
    const std::string& ref = run.spec.image();
    if (!images.contains(ref)) {
      auto image = target_.image(ref);
      if (!image.ok()) {
        return api::CallError(image.error().code,
                              service.name() + ": image " + ref + ": " + image.error().message);
      }
      images[ref] = *image;
    }
    (*run.spec.mutable_labels())[project::kImageDigestLabel] = images[ref].digest;
    if (service.main() && service.port() == 0 && request_.entrance().empty()) {
      if (auto published = publishMain(run, images[ref].exposedPorts); !published.ok()) return published;
    }
    project::stampSpecHash(run.spec);
  }
  return {};
}

api::CallResult<void> Run::publishMain(ServiceRun& run, const std::vector<std::string>& exposed) {
  std::optional<uint16_t> port = lowestTcpPort(exposed);
  if (!port) {
    std::string file = request_.source().empty() ? "the project file" : request_.source();
    return api::CallError(pb::INVALID_ARGUMENT,
                          file + ": main: no port: the file gives none and its image " + run.spec.image() +
                              " exposes no TCP port (ExposedPorts); add `port: N` under main");
  }
  uint32_t host = publishPort_ != 0 ? publishPort_ : *port;
  run.spec.add_publish(std::to_string(host) + ":" + std::to_string(*port));
  entrance_ = run.service->name();
  publishPort_ = host;
  say(run.service->name(), "port " + std::to_string(*port) + " (from the image), published on " +
                               std::to_string(host));
  return {};
}

api::CallResult<void> Run::readCurrent() {
  auto containers = target_.projectContainers(request_.name());
  if (!containers.ok()) return std::move(containers).error();
  std::vector<project::CurrentContainer> current;
  for (const pb::ContainerSummary& s : *containers) {
    current_[s.id()] = s;
    current.push_back({labelOf(s, project::kServiceLabel), s.id(), labelOf(s, project::kSpecHashLabel),
                       stateOf(s)});
  }
  std::map<std::string, std::string> hashes;
  for (const auto& [name, run] : runs_) hashes[name] = run.spec.labels().at(project::kSpecHashLabel);
  plan_ = project::planDeploy(projectOf(request_), hashes, current);
  for (const project::Step& step : plan_.steps) {
    if (step.action == Action::kRemove) continue;
    ServiceRun& run = runs_[step.service];
    run.step = step;
    if (step.action == Action::kKeep) run.id = step.containerId;
  }
  return {};
}

api::CallResult<void> Run::removeUnnamed() {
  for (const project::Step& step : plan_.steps) {
    if (step.action != Action::kRemove) continue;
    say(step.service, "removing " + current_[step.containerId].name());
    if (auto removed = target_.remove(step.containerId); !removed.ok()) {
      return failed(step.service, "", removed.error());
    }
    bool stillNamed = runs_.contains(step.service);  // a duplicate of a named service
    if (!stillNamed) note(reply_.mutable_removed(), step.service);
    say(step.service, "removed");
  }
  return {};
}

api::CallResult<void> Run::waitDependencies(ServiceRun& run) {
  for (const pb::ProjectDependency& dep : run.service->depends_on()) {
    const std::string& depId = runs_.at(dep.service()).id;
    if (depId.empty()) {
      return api::CallError(pb::FAILED_PRECONDITION, "dependency " + dep.service() + " has no container");
    }
    if (dep.condition() != pb::DEPEND_STARTED) {
      say(run.service->name(), "waiting for " + dep.service() + " (" + conditionName(dep.condition()) + ")");
    }
    if (auto met = waitCondition(target_, dep.service(), depId, dep.condition(), options_); !met.ok()) {
      return met;
    }
  }
  return {};
}

api::CallResult<void> Run::createNew(ServiceRun& run) {
  const std::string& name = run.service->name();
  say(name, "creating " + run.spec.name());
  auto id = target_.create(run.spec);
  if (!id.ok()) return failed(name, "", id.error());
  run.id = *id;
  auto up = target_.start(run.id);
  run.startedAt = target_.now();
  if (up.ok()) up = waitUp(target_, run.id, options_, /*awaitHealth=*/false);
  if (!up.ok()) {
    // Kept, stopped, for `berth logs`; the next deploy starts it again.
    api::CallError error = failed(name, run.id, up.error());
    (void)target_.stop(run.id);
    return error;
  }
  note(reply_.mutable_created(), name);
  say(name, "started");
  return {};
}

api::CallResult<void> Run::recreate(ServiceRun& run) {
  const std::string& name = run.service->name();
  const std::string oldId = run.step.containerId;
  const pb::ContainerSummary& old = current_.at(oldId);
  run.spec.set_name(replacementName(run.spec.name(), old.name(), run.step.specHash));
  say(name, "recreating (" + old.name() + " -> " + run.spec.name() + ")");
  auto id = target_.create(run.spec);
  if (!id.ok()) return failed(name, "", id.error());
  bool wasRunning = old.state() == pb::STATE_RUNNING || old.state() == pb::STATE_RESTARTING;
  if (wasRunning) {
    if (auto stopped = target_.stop(oldId); !stopped.ok()) {
      (void)target_.remove(*id);
      return failed(name, "", stopped.error());
    }
  }
  auto up = target_.start(*id);
  if (up.ok()) up = waitUp(target_, *id, options_, /*awaitHealth=*/true);
  if (!up.ok()) {
    api::CallError error = failed(name, *id, up.error());
    (void)target_.remove(*id);
    if (wasRunning) {
      auto restored = target_.start(oldId);
      say(name, restored.ok() ? "the previous container " + old.name() + " runs again"
                              : "could not restart " + old.name() + ": " + restored.error().message);
    }
    run.id = oldId;
    return error;
  }
  run.id = *id;
  if (auto removed = target_.remove(oldId); !removed.ok()) {
    say(name, "could not remove the old container " + old.name() + ": " + removed.error().message);
  }
  note(reply_.mutable_recreated(), name);
  say(name, "recreated");
  return {};
}

api::CallResult<void> Run::startKept(ServiceRun& run) {
  const std::string& name = run.service->name();
  say(name, "starting");
  auto up = target_.start(run.id);
  run.startedAt = target_.now();
  if (up.ok()) up = waitUp(target_, run.id, options_, /*awaitHealth=*/false);
  if (!up.ok()) return failed(name, run.id, up.error());
  note(reply_.mutable_started(), name);
  say(name, "started");
  return {};
}

api::CallResult<void> Run::apply(ServiceRun& run) {
  const std::string& name = run.service->name();
  bool keep = run.step.action == Action::kKeep;
  if (keep && (!run.step.notRunning || completed(current_.at(run.id)))) {
    note(reply_.mutable_unchanged(), name);
    return {};
  }
  if (auto met = waitDependencies(run); !met.ok()) return failed(name, "", met.error());
  switch (run.step.action) {
    case Action::kCreate:
      return createNew(run);
    case Action::kRecreate:
      return recreate(run);
    default:
      return startKept(run);
  }
}

api::CallResult<void> Run::runLevel(const std::vector<std::string>& level) {
  std::vector<api::CallResult<void>> results(level.size());
  if (level.size() == 1) {
    results[0] = apply(runs_.at(level[0]));
  } else {
    std::vector<std::thread> threads;
    for (size_t i = 0; i < level.size(); ++i) {
      threads.emplace_back([this, &results, &level, i] { results[i] = apply(runs_.at(level[i])); });
    }
    for (std::thread& t : threads) t.join();
  }
  std::string messages;
  pb::ErrorCode code = pb::ERROR_CODE_UNSPECIFIED;
  for (const auto& result : results) {
    if (result.ok()) continue;
    messages += (messages.empty() ? "" : "\n") + result.error().message;
    code = result.error().code;
  }
  if (messages.empty()) return {};
  return api::CallError(code, messages);
}

api::CallResult<void> Run::settleCheck() {
  for (auto& [name, run] : runs_) {
    if (!run.startedAt) continue;
    auto due = *run.startedAt + options_.settle;
    if (auto now = target_.now(); now < due) {
      target_.sleepFor(std::chrono::duration_cast<std::chrono::milliseconds>(due - now));
    }
    auto up = waitUp(target_, run.id, options_, /*awaitHealth=*/false);
    if (!up.ok()) {
      api::CallError error = failed(name, run.id, up.error());
      (void)target_.stop(run.id);  // kept, stopped, for `berth logs`
      return error;
    }
  }
  return {};
}

api::CallResult<pb::ProjectDeployReply> Run::execute() {
  auto start = target_.now();
  if (auto valid = validateRequest(request_); !valid.ok()) return std::move(valid).error();
  if (auto pinned = pinImages(); !pinned.ok()) return std::move(pinned).error();
  if (auto read = readCurrent(); !read.ok()) return std::move(read).error();
  for (const pb::ProjectVolume& volume : request_.volumes()) {
    if (auto made = target_.ensureVolume(volume); !made.ok()) {
      return api::CallError(made.error().code, "volume " + volume.name() + ": " + made.error().message);
    }
  }
  if (auto removed = removeUnnamed(); !removed.ok()) return std::move(removed).error();
  for (const auto& level : plan_.levels) {
    if (auto done = runLevel(level); !done.ok()) {
      return api::CallError(done.error().code,
                            "deploy of " + request_.name() + " failed: " + done.error().message);
    }
  }
  if (auto settled = settleCheck(); !settled.ok()) {
    return api::CallError(settled.error().code,
                          "deploy of " + request_.name() + " failed: " + settled.error().message);
  }
  if (!entrance_.empty() && publishPort_ != 0) {
    reply_.set_public_address("0.0.0.0:" + std::to_string(publishPort_));
  }
  reply_.set_elapsed_ms(static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(target_.now() - start).count()));
  return reply_;
}

}  // namespace

project::Project projectOf(const pb::ProjectDeployRequest& request) {
  project::Project p;
  p.name = request.name();
  for (const pb::ProjectService& s : request.services()) {
    project::Service service;
    service.name = s.name();
    service.isMain = s.main();
    for (const pb::ProjectDependency& d : s.depends_on()) {
      project::DependCondition c = d.condition() == pb::DEPEND_HEALTHY ? project::DependCondition::kHealthy
                                   : d.condition() == pb::DEPEND_COMPLETED_SUCCESSFULLY
                                       ? project::DependCondition::kCompletedSuccessfully
                                       : project::DependCondition::kStarted;
      service.dependsOn.push_back({d.service(), c});
    }
    p.services.push_back(std::move(service));
  }
  return p;
}

api::CallResult<void> validateRequest(const pb::ProjectDeployRequest& request) {
  auto invalid = [](const std::string& m) { return api::CallError(pb::INVALID_ARGUMENT, m); };
  if (request.name().empty()) return invalid("a deploy needs the project's name");
  std::set<std::string> names;
  for (const pb::ProjectService& s : request.services()) {
    if (s.name().empty() || !names.insert(s.name()).second) {
      return invalid("service names must be unique and not empty: \"" + s.name() + "\"");
    }
    auto project = s.spec().labels().find(project::kProjectLabel);
    auto service = s.spec().labels().find(project::kServiceLabel);
    if (project == s.spec().labels().end() || project->second != request.name() ||
        service == s.spec().labels().end() || service->second != s.name()) {
      return invalid("service " + s.name() + ": its spec must carry the labels " +
                     project::kProjectLabel + "=" + request.name() + " and " + project::kServiceLabel +
                     "=" + s.name());
    }
    if (s.spec().name().empty()) return invalid("service " + s.name() + ": its container needs a name");
  }
  for (const pb::ProjectService& s : request.services()) {
    for (const pb::ProjectDependency& d : s.depends_on()) {
      if (!names.contains(d.service())) {
        return invalid("service " + s.name() + " depends on " + d.service() + ", which the project lacks");
      }
    }
  }
  return {};
}

std::optional<uint16_t> lowestTcpPort(const std::vector<std::string>& exposedPorts) {
  std::optional<uint16_t> lowest;
  for (const std::string& text : exposedPorts) {
    size_t slash = text.find('/');
    if (slash != std::string::npos && text.substr(slash + 1) != "tcp") continue;
    std::string number = text.substr(0, slash);
    if (number.empty() || number.size() > 5 ||
        number.find_first_not_of("0123456789") != std::string::npos) {
      continue;  // a range ("8000-8010/tcp") or garbage: nothing to publish
    }
    unsigned long value = std::stoul(number);
    if (value == 0 || value > 65535) continue;
    if (!lowest || value < *lowest) lowest = static_cast<uint16_t>(value);
  }
  return lowest;
}

std::string replacementName(const std::string& canonical, const std::string& oldName,
                            const std::string& specHash) {
  if (oldName != canonical) return canonical;
  std::string hex = specHash.rfind("sha256:", 0) == 0 ? specHash.substr(7) : specHash;
  return canonical + "-" + hex.substr(0, 8);
}

api::CallResult<pb::ProjectDeployReply> runDeploy(DeployTarget& target,
                                                  const pb::ProjectDeployRequest& request,
                                                  const ProgressFn& progress,
                                                  const DeployOptions& options) {
  Run run(target, request, progress, options);
  return run.execute();
}

}  // namespace berth::agent::deploy
