// PROJECT/SERVICE -> container id; see project_ref.h.
#include "agent/cli/project_ref.h"

#include <algorithm>

namespace berth::agent::cli {
namespace {

constexpr const char* kProjectLabel = "berth.project";  // agent/project/container_spec_of.h
constexpr const char* kServiceLabel = "berth.service";

std::string serviceOf(const pb::ContainerSummary& s) {
  auto it = s.labels().find(kServiceLabel);
  return it == s.labels().end() ? "" : it->second;
}

}  // namespace

std::pair<std::string, std::string> splitProjectRef(const std::string& ref) {
  size_t slash = ref.find('/');
  if (slash == std::string::npos) return {};
  return {ref.substr(0, slash), ref.substr(slash + 1)};
}

api::CallResult<std::vector<pb::ContainerSummary>> projectContainers(api::Client& client,
                                                                     const std::string& project) {
  pb::ContainerListRequest request;
  request.set_all(true);
  (*request.mutable_label_filter())[kProjectLabel] = project;
  auto reply = client.containerList(request);
  if (!reply.ok()) return std::move(reply).error();
  std::vector<pb::ContainerSummary> out(reply->containers().begin(), reply->containers().end());
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return serviceOf(a) < serviceOf(b);
  });
  return out;
}

api::CallResult<std::string> resolveContainerRef(api::Client& client, const std::string& ref) {
  auto [project, service] = splitProjectRef(ref);
  if (project.empty() && service.empty()) return ref;
  if (project.empty() || service.empty() || service.find('/') != std::string::npos) {
    return api::CallError(pb::INVALID_ARGUMENT, "\"" + ref + "\": expected PROJECT/SERVICE");
  }
  pb::ContainerListRequest request;
  request.set_all(true);
  (*request.mutable_label_filter())[kProjectLabel] = project;
  (*request.mutable_label_filter())[kServiceLabel] = service;
  auto reply = client.containerList(request);
  if (!reply.ok()) return std::move(reply).error();
  const pb::ContainerSummary* best = nullptr;
  for (const pb::ContainerSummary& s : reply->containers()) {
    if (best == nullptr || (s.state() == pb::STATE_RUNNING && best->state() != pb::STATE_RUNNING)) best = &s;
  }
  if (best == nullptr) {
    return api::CallError(pb::NOT_FOUND, "no service " + service + " in project " + project);
  }
  return best->id();
}

}  // namespace berth::agent::cli
