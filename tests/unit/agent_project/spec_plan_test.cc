// containerSpecOf on the DESIGN example, the spec hash, and deploy plans.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "agent/project/container_spec_of.h"
#include "agent/project/plan.h"
#include "agent/project/project_file.h"

namespace berth::agent::project {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::string kFixtures = BERTH_SOURCE_DIR "/tests/unit/agent_project/fixtures";

Project designExample() {
  auto project = loadProject(kFixtures + "/good/virascience/berth.yaml");
  EXPECT_TRUE(project.ok()) << project.error().what();
  return project.ok() ? *project : Project{};
}

Project parse(const std::string& text) {
  auto project = parseProject(text, "berth.yaml", ".");
  EXPECT_TRUE(project.ok()) << project.error().what();
  return project.ok() ? *project : Project{};
}

std::vector<CurrentContainer> deployed(const Project& project) {
  std::vector<CurrentContainer> current;
  for (const Service& s : project.services) {
    current.push_back({s.name, "id-" + s.name, specHash(containerSpecOf(project, s)), ContainerState::kRunning});
  }
  return current;
}

const Step& stepOf(const Plan& plan, const std::string& service) {
  for (const Step& step : plan.steps) {
    if (step.service == service) return step;
  }
  static Step none;
  ADD_FAILURE() << "no step for " << service;
  return none;
}

TEST(ContainerSpecOf, DesignExample) {
  Project project = designExample();
  ASSERT_EQ(project.services.size(), 4u);
  pb::ContainerSpec main = containerSpecOf(project, project.services[0]);
  EXPECT_EQ(main.name(), "virascience-main");
  EXPECT_EQ(main.hostname(), "main");
  EXPECT_THAT(main.aliases(), ElementsAre("virascience"));
  EXPECT_THAT(main.networks(), ElementsAre("virascience"));
  EXPECT_THAT(main.env(), ElementsAre("DJANGO_SETTINGS=prod"));
  EXPECT_THAT(main.volumes(), ElementsAre("virascience_static:/app_data/static", "virascience_media:/app_data/media",
                                          "virascience_logs:/logs"));
  EXPECT_EQ(main.memory_bytes(), int64_t{2} << 30);
  EXPECT_EQ(main.nano_cpus(), 2000000000u);
  EXPECT_EQ(main.disk_bytes(), uint64_t{10} << 30);
  EXPECT_EQ(main.restart().kind(), pb::RESTART_UNLESS_STOPPED);
  EXPECT_FALSE(main.has_entrypoint());
  EXPECT_EQ(main.cmd_size(), 0);
  EXPECT_EQ(main.labels().at("berth.project"), "virascience");
  EXPECT_EQ(main.labels().at("berth.service"), "main");
  EXPECT_EQ(main.labels().at("berth.spec-hash"), specHash(main));
  EXPECT_THAT(main.labels().at("berth.spec-hash"), ::testing::StartsWith("sha256:"));

  pb::ContainerSpec nginx = containerSpecOf(project, project.services[1]);
  EXPECT_EQ(nginx.image(), "nginx:1.22");
  EXPECT_EQ(nginx.name(), "virascience-nginx");
  EXPECT_EQ(nginx.hostname(), "nginx");
  EXPECT_EQ(nginx.aliases_size(), 0);
  EXPECT_THAT(nginx.volumes(), ElementsAre("virascience_static:/srv/static:ro", "virascience_media:/srv/media:ro"));
  ASSERT_EQ(nginx.configs_size(), 1);
  EXPECT_EQ(nginx.configs(0).target(), "/etc/nginx/nginx.conf");
  EXPECT_THAT(nginx.configs(0).content(), HasSubstr("proxy_pass"));
  EXPECT_EQ(nginx.configs(0).mode(), 0444u);
}

TEST(ContainerSpecOf, CommandEntrypointAndStopSettings) {
  Project project = parse(
      "name: p\nservices:\n  w:\n    image: busybox\n    hostname: web\n    aliases: [www]\n"
      "    entrypoint: []\n    command: [sh, -c, 'echo hi']\n    stop_signal: SIGQUIT\n    stop_grace_period: 1m\n"
      "    restart: on-failure\n    user: '1000:1000'\n    working_dir: /srv\n    resources: {pids: 50}\n"
      "    healthcheck: {test: 'true', interval: 1s}\n    labels: {team: web}\n");
  ASSERT_EQ(project.services.size(), 1u);
  pb::ContainerSpec spec = containerSpecOf(project, project.services[0]);
  EXPECT_TRUE(spec.has_entrypoint());
  EXPECT_EQ(spec.entrypoint().values_size(), 0);
  EXPECT_THAT(spec.cmd(), ElementsAre("sh", "-c", "echo hi"));
  EXPECT_EQ(spec.hostname(), "web");
  EXPECT_THAT(spec.aliases(), ElementsAre("w", "www"));  // reachable by its service name too
  EXPECT_EQ(spec.stop_signal(), "SIGQUIT");
  EXPECT_EQ(spec.stop_timeout(), 60u);
  EXPECT_EQ(spec.restart().kind(), pb::RESTART_ON_FAILURE);
  EXPECT_EQ(spec.user(), "1000:1000");
  EXPECT_EQ(spec.workdir(), "/srv");
  EXPECT_EQ(spec.pids_limit(), 50);
  EXPECT_EQ(spec.labels().at("team"), "web");
  ASSERT_TRUE(spec.has_healthcheck());
  EXPECT_THAT(spec.healthcheck().test(), ElementsAre("CMD-SHELL", "true"));
  EXPECT_EQ(spec.healthcheck().interval_ms(), 1000u);
  EXPECT_EQ(spec.healthcheck().retries(), 3u);
  EXPECT_FALSE(spec.labels().contains("berth.healthcheck"));
}

TEST(ContainerSpecOf, PublishesOnlyThePublicEntrance) {
  Project project = parse(
      "name: p\nmain: {image: app, port: 5000}\npublish: 8080\nservices:\n"
      "  nginx: {image: nginx, port: 80}\n  redis: {image: redis}\n");
  ASSERT_EQ(project.services.size(), 3u);
  EXPECT_EQ(containerSpecOf(project, project.services[0]).publish_size(), 0);  // main
  EXPECT_THAT(containerSpecOf(project, project.services[1]).publish(), ElementsAre("8080:80"));
  EXPECT_EQ(containerSpecOf(project, project.services[2]).publish_size(), 0);
  Project alone = parse("name: q\nmain: {image: app, port: 5000}\n");
  EXPECT_THAT(containerSpecOf(alone, alone.services[0]).publish(), ElementsAre("5000:5000"));
}

TEST(SpecHash, StableAndSensitive) {
  Project project = designExample();
  pb::ContainerSpec a = containerSpecOf(project, project.services[2]);
  pb::ContainerSpec b = containerSpecOf(designExample(), designExample().services[2]);
  EXPECT_EQ(specHash(a), specHash(b));
  // The hash label itself does not count.
  pb::ContainerSpec relabelled = a;
  (*relabelled.mutable_labels())["berth.spec-hash"] = "sha256:other";
  EXPECT_EQ(specHash(relabelled), specHash(a));
  // Label order in the map does not count (deterministic serialization).
  pb::ContainerSpec x, y;
  (*x.mutable_labels())["a"] = "1";
  (*x.mutable_labels())["b"] = "2";
  (*y.mutable_labels())["b"] = "2";
  (*y.mutable_labels())["a"] = "1";
  EXPECT_EQ(specHash(x), specHash(y));

  auto changed = [&](auto mutate) {
    pb::ContainerSpec copy = a;
    mutate(copy);
    return specHash(copy) != specHash(a);
  };
  EXPECT_TRUE(changed([](pb::ContainerSpec& s) { s.set_env(0, "MARIADB_DATABASE=other"); }));
  EXPECT_TRUE(changed([](pb::ContainerSpec& s) { s.set_image("mariadb:11"); }));
  EXPECT_TRUE(changed([](pb::ContainerSpec& s) { s.set_memory_bytes(1 << 30); }));
  EXPECT_TRUE(changed([](pb::ContainerSpec& s) { s.add_volumes("x:/x"); }));
  EXPECT_TRUE(changed([](pb::ContainerSpec& s) { s.add_configs()->set_content("c"); }));
  EXPECT_TRUE(changed([](pb::ContainerSpec& s) { (*s.mutable_labels())["k"] = "v"; }));
  // A pinned image digest (the deployer's) changes it too.
  pb::ContainerSpec pinned = a;
  pinned.set_image("mariadb:10.11@sha256:" + std::string(64, 'a'));
  stampSpecHash(pinned);
  EXPECT_NE(pinned.labels().at("berth.spec-hash"), a.labels().at("berth.spec-hash"));
  EXPECT_EQ(pinned.labels().at("berth.spec-hash"), specHash(pinned));
}

TEST(Plan, UnchangedProjectKeepsEverything) {
  Project project = designExample();
  Plan plan = planDeploy(project, deployed(project));
  EXPECT_TRUE(plan.changesNothing());
  ASSERT_EQ(plan.steps.size(), 4u);
  for (const Step& step : plan.steps) {
    EXPECT_EQ(step.action, Action::kKeep) << step.service;
    EXPECT_EQ(step.containerId, "id-" + step.service);
    EXPECT_FALSE(step.notRunning);
  }
}

TEST(Plan, FirstDeployCreatesEverything) {
  Plan plan = planDeploy(designExample(), {});
  ASSERT_EQ(plan.steps.size(), 4u);
  for (const Step& step : plan.steps) EXPECT_EQ(step.action, Action::kCreate) << step.service;
  EXPECT_FALSE(plan.changesNothing());
}

TEST(Plan, ChangedEnvRecreatesOnlyThatService) {
  Project before = designExample();
  std::vector<CurrentContainer> current = deployed(before);
  Project after = before;
  after.services[2].environment.push_back("EXTRA=1");  // mysql
  Plan plan = planDeploy(after, current);
  EXPECT_EQ(stepOf(plan, "mysql").action, Action::kRecreate);
  EXPECT_EQ(stepOf(plan, "mysql").containerId, "id-mysql");
  EXPECT_EQ(stepOf(plan, "main").action, Action::kKeep);
  EXPECT_EQ(stepOf(plan, "nginx").action, Action::kKeep);
  EXPECT_EQ(stepOf(plan, "redis").action, Action::kKeep);
}

TEST(Plan, ChangedConfigContentRecreates) {
  Project before = designExample();
  std::vector<CurrentContainer> current = deployed(before);
  Project after = before;
  after.services[1].configs[0].content += "# changed\n";
  EXPECT_EQ(stepOf(planDeploy(after, current), "nginx").action, Action::kRecreate);
}

TEST(Plan, RemovedServiceIsRemovedAndDuplicatesCleanedUp) {
  Project before = designExample();
  std::vector<CurrentContainer> current = deployed(before);
  // A deploy interrupted after creating a second redis container.
  current.push_back({"redis", "id-redis-2", "sha256:stale", ContainerState::kCreated});
  Project after = before;
  after.services.pop_back();  // redis gone from the file
  Plan plan = planDeploy(after, current);
  std::vector<std::string> removed;
  for (const Step& step : plan.steps) {
    if (step.action == Action::kRemove) removed.push_back(step.containerId);
    else EXPECT_EQ(step.action, Action::kKeep) << step.service;
  }
  EXPECT_THAT(removed, ElementsAre("id-redis", "id-redis-2"));

  // With redis still in the file, the matching running one is kept, the stale one removed.
  Plan again = planDeploy(before, current);
  EXPECT_EQ(stepOf(again, "redis").containerId, "id-redis");
  EXPECT_EQ(stepOf(again, "redis").action, Action::kKeep);
  EXPECT_EQ(again.steps.back().action, Action::kRemove);
  EXPECT_EQ(again.steps.back().containerId, "id-redis-2");
}

TEST(Plan, ExitedContainerIsKeptButMarked) {
  Project project = designExample();
  std::vector<CurrentContainer> current = deployed(project);
  current[3].state = ContainerState::kExited;
  Plan plan = planDeploy(project, current);
  EXPECT_EQ(stepOf(plan, "redis").action, Action::kKeep);
  EXPECT_TRUE(stepOf(plan, "redis").notRunning);
}

TEST(Plan, StartLevelsFollowDependsOn) {
  Project project = parse(
      "name: p\nmain: {image: app, depends_on: {db: {condition: service_healthy}, cache: {condition: service_started}}}\n"
      "services:\n  web: {image: nginx, depends_on: [main]}\n  db: {image: mariadb}\n  cache: {image: redis}\n"
      "  migrate: {image: app, depends_on: {db: {condition: service_completed_successfully}}}\n");
  Plan plan = planDeploy(project, {});
  ASSERT_EQ(plan.levels.size(), 3u);
  EXPECT_THAT(plan.levels[0], ElementsAre("db", "cache"));
  EXPECT_THAT(plan.levels[1], ElementsAre("main", "migrate"));
  EXPECT_THAT(plan.levels[2], ElementsAre("web"));
  EXPECT_EQ(project.services[0].dependsOn[0].condition, DependCondition::kHealthy);
  EXPECT_EQ(project.services[4].dependsOn[0].condition, DependCondition::kCompletedSuccessfully);
}

TEST(Plan, CyclesNeverReachThePlanner) {
  auto cyclic = parseProject("name: p\nservices:\n  a: {image: x, depends_on: [c]}\n  b: {image: x, depends_on: [a]}\n"
                             "  c: {image: x, depends_on: [b]}\n",
                             "berth.yaml", ".");
  ASSERT_FALSE(cyclic.ok());
  EXPECT_THAT(cyclic.error().what(), HasSubstr("berth.yaml:4:17: "));
  EXPECT_THAT(cyclic.error().what(), HasSubstr("services.b.depends_on: dependency cycle: a -> c -> b -> a"));
  // A hand-built cyclic project still yields a finite plan.
  Project project;
  project.name = "p";
  project.services = {Service{}, Service{}};
  project.services[0].name = "a";
  project.services[0].dependsOn = {{"b", DependCondition::kStarted}};
  project.services[1].name = "b";
  project.services[1].dependsOn = {{"a", DependCondition::kStarted}};
  EXPECT_EQ(startLevels(project).size(), 1u);
}

}  // namespace
}  // namespace berth::agent::project
