// Reconcile planning: per-service actions by spec hash, and start levels.
#include "agent/project/plan.h"

#include <algorithm>
#include <set>

#include "agent/project/container_spec_of.h"

namespace berth::agent::project {
namespace {

// Best first: the right hash, then running, then the rest in input order.
int rank(const CurrentContainer& c, const std::string& hash) {
  return (c.specHash == hash ? 0 : 2) + (c.state == ContainerState::kRunning ? 0 : 1);
}

}  // namespace

bool Plan::changesNothing() const {
  return std::all_of(steps.begin(), steps.end(), [](const Step& s) { return s.action == Action::kKeep; });
}

std::vector<std::vector<std::string>> startLevels(const Project& project) {
  std::vector<std::vector<std::string>> levels;
  std::set<std::string> started;
  std::vector<const Service*> pending;
  for (const Service& s : project.services) pending.push_back(&s);
  while (!pending.empty()) {
    std::vector<std::string> level;
    std::vector<const Service*> rest;
    for (const Service* s : pending) {
      bool ready = std::all_of(s->dependsOn.begin(), s->dependsOn.end(),
                               [&](const Dependency& d) { return started.contains(d.service); });
      if (ready) {
        level.push_back(s->name);
      } else {
        rest.push_back(s);
      }
    }
    if (level.empty()) {
      // A cycle (or a dependency on a missing service): parseProject rejects
      // both; never loop forever on a hand-built project.
      for (const Service* s : rest) level.push_back(s->name);
      rest.clear();
    }
    started.insert(level.begin(), level.end());
    levels.push_back(std::move(level));
    pending = std::move(rest);
  }
  return levels;
}

Plan planDeploy(const Project& project, const std::vector<CurrentContainer>& current) {
  std::map<std::string, std::string> hashes;
  for (const Service& s : project.services) {
    hashes[s.name] = containerSpecOf(project, s).labels().at(kSpecHashLabel);
  }
  return planDeploy(project, hashes, current);
}

Plan planDeploy(const Project& project, const std::map<std::string, std::string>& desiredHashes,
                const std::vector<CurrentContainer>& current) {
  Plan plan;
  std::map<std::string, std::vector<const CurrentContainer*>> byService;
  for (const CurrentContainer& c : current) byService[c.service].push_back(&c);
  std::vector<Step> removals;
  for (const Service& s : project.services) {
    auto hashIt = desiredHashes.find(s.name);
    std::string hash = hashIt == desiredHashes.end() ? "" : hashIt->second;
    Step step{s.name, Action::kCreate, "", hash, false};
    auto found = byService.find(s.name);
    if (found != byService.end()) {
      std::vector<const CurrentContainer*>& candidates = found->second;
      std::stable_sort(candidates.begin(), candidates.end(),
                       [&](const CurrentContainer* a, const CurrentContainer* b) { return rank(*a, hash) < rank(*b, hash); });
      const CurrentContainer* best = candidates.front();
      step.containerId = best->id;
      step.action = best->specHash == hash && !hash.empty() ? Action::kKeep : Action::kRecreate;
      step.notRunning = step.action == Action::kKeep && best->state != ContainerState::kRunning;
      for (size_t i = 1; i < candidates.size(); ++i) {
        removals.push_back(Step{s.name, Action::kRemove, candidates[i]->id, "", false});
      }
      byService.erase(found);
    }
    plan.steps.push_back(std::move(step));
  }
  // Whatever is left belongs to services the file no longer names.
  for (const CurrentContainer& c : current) {
    if (byService.contains(c.service)) removals.push_back(Step{c.service, Action::kRemove, c.id, "", false});
  }
  plan.steps.insert(plan.steps.end(), removals.begin(), removals.end());
  plan.levels = startLevels(project);
  return plan;
}

}  // namespace berth::agent::project
