// The deploy executor against an in-memory host (FakeTarget): what it
// creates, recreates, keeps and removes, in which order, and what a failure
// leaves running.
#include "agent/deploy/deployer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <optional>

#include "agent/project/container_spec_of.h"

namespace berth::agent::deploy {
namespace {

using ::testing::HasSubstr;

struct FakeContainer {
  pb::ContainerSpec spec;
  pb::ContainerState state = pb::STATE_CREATED;
  int exitCode = 0;
  std::string health;
  std::optional<std::chrono::steady_clock::time_point> diesAt;  // DIES=N: exits N 100 ms in
  int diesWith = 0;
};

// Containers in a map; a service's behaviour at start comes from its spec's
// env: EXIT=N exits at once with N, HEALTH=x sets its health. Locked: the
// deployer calls its target from one thread per service of a level.
class FakeTarget final : public DeployTarget {
 public:
  api::CallResult<ImageFacts> image(const std::string& ref) override {
    std::lock_guard lock(mu);
    return ImageFacts{"sha256:digest-of-" + ref, exposed[ref]};
  }
  api::CallResult<std::vector<pb::ContainerSummary>> projectContainers(const std::string& p) override {
    std::lock_guard lock(mu);
    std::vector<pb::ContainerSummary> out;
    for (const auto& [id, c] : containers) {
      if (c.spec.labels().at(project::kProjectLabel) == p) out.push_back(summary(id));
    }
    return out;
  }
  api::CallResult<void> ensureVolume(const pb::ProjectVolume& v) override {
    std::lock_guard lock(mu);
    volumes.insert(v.name());
    return {};
  }
  api::CallResult<std::string> create(const pb::ContainerSpec& spec) override {
    std::lock_guard lock(mu);
    for (const auto& [id, c] : containers) {
      if (c.spec.name() == spec.name()) return api::CallError(pb::ALREADY_EXISTS, "name in use");
    }
    std::string id = "id" + std::to_string(++next);
    containers[id].spec = spec;
    calls.push_back("create " + spec.labels().at(project::kServiceLabel) + " " + spec.name());
    return id;
  }
  api::CallResult<void> start(const std::string& id) override {
    std::lock_guard lock(mu);
    FakeContainer& c = containers.at(id);
    calls.push_back("start " + c.spec.labels().at(project::kServiceLabel));
    c.state = pb::STATE_RUNNING;
    for (const std::string& env : c.spec.env()) {
      if (env.rfind("EXIT=", 0) == 0) {
        c.state = pb::STATE_EXITED;
        c.exitCode = std::stoi(env.substr(5));
      }
      if (env.rfind("HEALTH=", 0) == 0) c.health = env.substr(7);
      if (env.rfind("DIES=", 0) == 0) {
        c.diesAt = clock + std::chrono::milliseconds(100);
        c.diesWith = std::stoi(env.substr(5));
      }
    }
    return {};
  }
  api::CallResult<void> stop(const std::string& id) override {
    std::lock_guard lock(mu);
    calls.push_back("stop " + containers.at(id).spec.labels().at(project::kServiceLabel));
    containers.at(id).state = pb::STATE_EXITED;
    containers.at(id).exitCode = 143;
    return {};
  }
  api::CallResult<void> remove(const std::string& id) override {
    std::lock_guard lock(mu);
    calls.push_back("remove " + containers.at(id).spec.labels().at(project::kServiceLabel));
    containers.erase(id);
    return {};
  }
  api::CallResult<pb::ContainerInfo> inspect(const std::string& id) override {
    std::lock_guard lock(mu);
    if (!containers.contains(id)) return api::CallError(pb::NOT_FOUND, "no such container");
    FakeContainer& dying = containers.at(id);
    if (dying.diesAt && clock >= *dying.diesAt && dying.state == pb::STATE_RUNNING) {
      dying.state = pb::STATE_EXITED;
      dying.exitCode = dying.diesWith;
    }
    pb::ContainerInfo info;
    *info.mutable_summary() = summary(id);
    info.set_health(containers.at(id).health);
    return info;
  }
  std::vector<std::string> lastLogLines(const std::string&, size_t) override { return {"log line 1", "boom"}; }
  void sleepFor(std::chrono::milliseconds d) override {
    std::lock_guard lock(mu);
    clock += d;
  }
  std::chrono::steady_clock::time_point now() override {
    std::lock_guard lock(mu);
    return clock;
  }

  pb::ContainerSummary summary(const std::string& id) const {
    const FakeContainer& c = containers.at(id);
    pb::ContainerSummary s;
    s.set_id(id);
    s.set_name(c.spec.name());
    s.set_state(c.state);
    s.set_exit_code(c.exitCode);
    *s.mutable_labels() = c.spec.labels();
    return s;
  }
  std::string idOf(const std::string& service) const {
    for (const auto& [id, c] : containers) {
      if (c.spec.labels().at(project::kServiceLabel) == service) return id;
    }
    return "";
  }

  std::map<std::string, FakeContainer> containers;
  std::map<std::string, std::vector<std::string>> exposed;  // by image reference
  std::set<std::string> volumes;
  std::vector<std::string> calls;
  int next = 0;
  std::chrono::steady_clock::time_point clock{};
  std::mutex mu;
};

pb::ProjectService* addService(pb::ProjectDeployRequest& r, const std::string& name,
                               std::vector<std::string> env = {}) {
  pb::ProjectService* s = r.add_services();
  s->set_name(name);
  pb::ContainerSpec& spec = *s->mutable_spec();
  spec.set_image("busybox");
  spec.set_name(r.name() + "-" + name);
  for (const std::string& e : env) spec.add_env(e);
  (*spec.mutable_labels())[project::kProjectLabel] = r.name();
  (*spec.mutable_labels())[project::kServiceLabel] = name;
  project::stampSpecHash(spec);
  return s;
}

void dependsOn(pb::ProjectService* s, const std::string& on, pb::DependCondition c) {
  pb::ProjectDependency* d = s->add_depends_on();
  d->set_service(on);
  d->set_condition(c);
}

// init (a one-shot), db, then main after both.
pb::ProjectDeployRequest shop(std::vector<std::string> mainEnv = {}) {
  pb::ProjectDeployRequest r;
  r.set_name("shop");
  pb::ProjectService* main = addService(r, "main", std::move(mainEnv));
  main->set_main(true);
  main->set_port(5000);  // given: no publish here (the client adds it to the spec)
  addService(r, "init", {"EXIT=0"});
  addService(r, "db");
  dependsOn(main, "init", pb::DEPEND_COMPLETED_SUCCESSFULLY);
  dependsOn(main, "db", pb::DEPEND_STARTED);
  pb::ProjectVolume* v = r.add_volumes();
  v->set_name("shop_data");
  return r;
}

size_t indexOf(const std::vector<std::string>& calls, const std::string& call) {
  return static_cast<size_t>(std::find(calls.begin(), calls.end(), call) - calls.begin());
}

DeployOptions fast() {
  DeployOptions o;
  o.settle = std::chrono::milliseconds(0);
  o.waitTimeout = std::chrono::milliseconds(1000);
  return o;
}

TEST(Deployer, FirstDeployCreatesEverythingInDependencyOrder) {
  FakeTarget t;
  auto reply = runDeploy(t, shop(), nullptr, fast());
  ASSERT_TRUE(reply.ok()) << reply.error().message;
  EXPECT_EQ(reply->created_size(), 3);
  EXPECT_EQ(t.containers.size(), 3u);
  EXPECT_TRUE(t.volumes.contains("shop_data"));
  EXPECT_LT(indexOf(t.calls, "start init"), indexOf(t.calls, "create main shop-main"));
  EXPECT_LT(indexOf(t.calls, "start db"), indexOf(t.calls, "create main shop-main"));
  // The pinned digest is part of the spec (and of its hash).
  EXPECT_EQ(t.containers.at(t.idOf("db")).spec.labels().at(project::kImageDigestLabel),
            "sha256:digest-of-busybox");
}

TEST(Deployer, UnchangedRedeployTouchesNothing) {
  FakeTarget t;
  ASSERT_TRUE(runDeploy(t, shop(), nullptr, fast()).ok());
  t.calls.clear();
  auto reply = runDeploy(t, shop(), nullptr, fast());
  ASSERT_TRUE(reply.ok()) << reply.error().message;
  EXPECT_TRUE(t.calls.empty()) << t.calls.front();
  EXPECT_EQ(reply->unchanged_size(), 3);  // the completed one-shot stays exited
  EXPECT_EQ(reply->created_size() + reply->recreated_size() + reply->started_size(), 0);
}

TEST(Deployer, ChangedServiceAloneIsRecreatedUnderTheOtherName) {
  FakeTarget t;
  ASSERT_TRUE(runDeploy(t, shop(), nullptr, fast()).ok());
  std::string oldMain = t.idOf("main"), db = t.idOf("db");
  t.calls.clear();
  auto reply = runDeploy(t, shop({"A=2"}), nullptr, fast());
  ASSERT_TRUE(reply.ok()) << reply.error().message;
  ASSERT_EQ(reply->recreated_size(), 1);
  EXPECT_EQ(reply->recreated(0), "main");
  EXPECT_EQ(t.idOf("db"), db);
  EXPECT_FALSE(t.containers.contains(oldMain));
  EXPECT_THAT(t.containers.at(t.idOf("main")).spec.name(), HasSubstr("shop-main-"));
  // Created before the old one stopped; the old one removed last.
  EXPECT_LT(indexOf(t.calls, "stop main"), indexOf(t.calls, "start main"));
  EXPECT_EQ(t.calls.back(), "remove main");
  // The next change goes back to the plain name.
  ASSERT_TRUE(runDeploy(t, shop({"A=3"}), nullptr, fast()).ok());
  EXPECT_EQ(t.containers.at(t.idOf("main")).spec.name(), "shop-main");
}

TEST(Deployer, FailedRecreateNamesTheServiceAndRestoresTheOldOne) {
  FakeTarget t;
  ASSERT_TRUE(runDeploy(t, shop(), nullptr, fast()).ok());
  std::string oldMain = t.idOf("main");
  auto reply = runDeploy(t, shop({"EXIT=3"}), nullptr, fast());
  ASSERT_FALSE(reply.ok());
  EXPECT_THAT(reply.error().message, HasSubstr("main: exited with code 3"));
  EXPECT_THAT(reply.error().message, HasSubstr("boom"));  // its last log lines
  ASSERT_TRUE(t.containers.contains(oldMain));
  EXPECT_EQ(t.containers.at(oldMain).state, pb::STATE_RUNNING);
  EXPECT_EQ(t.containers.size(), 3u);  // the failed new one is gone
}

TEST(Deployer, ServiceNoLongerNamedIsRemoved) {
  FakeTarget t;
  pb::ProjectDeployRequest r = shop();
  addService(r, "worker");
  ASSERT_TRUE(runDeploy(t, r, nullptr, fast()).ok());
  ASSERT_FALSE(t.idOf("worker").empty());
  auto reply = runDeploy(t, shop(), nullptr, fast());
  ASSERT_TRUE(reply.ok()) << reply.error().message;
  EXPECT_TRUE(t.idOf("worker").empty());
  ASSERT_EQ(reply->removed_size(), 1);
  EXPECT_EQ(reply->removed(0), "worker");
}

TEST(Deployer, HealthyDependencyIsWaitedForWithABound) {
  FakeTarget t;
  pb::ProjectDeployRequest r;
  r.set_name("p");
  addService(r, "db", {"HEALTH=starting"});
  pb::ProjectService* web = addService(r, "web");
  dependsOn(web, "db", pb::DEPEND_HEALTHY);
  DeployOptions o = fast();
  // db is up once running (its health is not waited for by itself); web
  // asks for it healthy, and that wait is bounded.
  auto reply = runDeploy(t, r, nullptr, o);
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.error().code, pb::DEADLINE_EXCEEDED);
  EXPECT_THAT(reply.error().message,
              HasSubstr("web: dependency db did not reach service_healthy within 1 s"));
  EXPECT_FALSE(t.idOf("db").empty());
  EXPECT_TRUE(t.idOf("web").empty());  // never created
}

TEST(Deployer, AContainerThatDiesSoonAfterItsStartFailsTheDeploy) {
  // Running when its dependents start (no settle wait per level), dead by
  // the end-of-deploy check: the deploy says so, with its logs.
  FakeTarget t;
  pb::ProjectDeployRequest r;
  r.set_name("p");
  addService(r, "db", {"DIES=2"});
  pb::ProjectService* web = addService(r, "web");
  dependsOn(web, "db", pb::DEPEND_STARTED);
  DeployOptions o = fast();
  o.settle = std::chrono::milliseconds(200);
  auto reply = runDeploy(t, r, nullptr, o);
  ASSERT_FALSE(reply.ok());
  EXPECT_THAT(reply.error().message, HasSubstr("db: exited with code 2"));
  EXPECT_THAT(reply.error().message, HasSubstr("boom"));
  EXPECT_FALSE(t.idOf("web").empty());  // started meanwhile, as Compose does
}

TEST(Deployer, HealthNobodyAsksForDoesNotHoldTheNextLevel) {
  FakeTarget t;
  pb::ProjectDeployRequest r;
  r.set_name("p");
  addService(r, "db", {"HEALTH=starting"});  // never healthy
  pb::ProjectService* web = addService(r, "web");
  dependsOn(web, "db", pb::DEPEND_STARTED);
  auto reply = runDeploy(t, r, nullptr, fast());
  ASSERT_TRUE(reply.ok()) << reply.error().message;
  EXPECT_EQ(reply->created_size(), 2);
}

TEST(Deployer, FailedOneShotDependencyStopsTheDeploy) {
  FakeTarget t;
  pb::ProjectDeployRequest r;
  r.set_name("p");
  addService(r, "migrate", {"EXIT=2"});
  pb::ProjectService* web = addService(r, "web");
  dependsOn(web, "migrate", pb::DEPEND_COMPLETED_SUCCESSFULLY);
  auto reply = runDeploy(t, r, nullptr, fast());
  ASSERT_FALSE(reply.ok());
  EXPECT_THAT(reply.error().message, HasSubstr("migrate: exited with code 2"));
  EXPECT_TRUE(t.idOf("web").empty());
}

TEST(Deployer, RejectsBadRequestsBeforeTouchingAnything) {
  FakeTarget t;
  pb::ProjectDeployRequest r = shop();
  dependsOn(r.mutable_services(0), "nope", pb::DEPEND_STARTED);
  auto reply = runDeploy(t, r, nullptr, fast());
  ASSERT_FALSE(reply.ok());
  EXPECT_THAT(reply.error().message, HasSubstr("nope"));
  EXPECT_TRUE(t.calls.empty());
  EXPECT_TRUE(t.volumes.empty());
}

// shop() with main's port left to its image.
pb::ProjectDeployRequest shopWithoutMainPort(uint32_t publish = 0) {
  pb::ProjectDeployRequest r = shop();
  r.mutable_services(0)->set_port(0);
  r.set_source("proj/berth.yaml");
  r.set_publish_port(publish);
  return r;
}

TEST(Deployer, MainPortComesFromTheImageAndIsPublished) {
  FakeTarget t;
  t.exposed["busybox"] = {"9000/tcp", "53/udp", "8080"};
  auto reply = runDeploy(t, shopWithoutMainPort(), nullptr, fast());
  ASSERT_TRUE(reply.ok()) << reply.error().message;
  const pb::ContainerSpec& main = t.containers.at(t.idOf("main")).spec;
  ASSERT_EQ(main.publish_size(), 1);
  EXPECT_EQ(main.publish(0), "8080:8080");
  EXPECT_EQ(t.containers.at(t.idOf("db")).spec.publish_size(), 0);
  EXPECT_EQ(reply->public_address(), "0.0.0.0:8080");
  // Part of the hash: the same image again changes nothing.
  t.calls.clear();
  reply = runDeploy(t, shopWithoutMainPort(), nullptr, fast());
  ASSERT_TRUE(reply.ok()) << reply.error().message;
  EXPECT_TRUE(t.calls.empty());
  EXPECT_EQ(reply->public_address(), "0.0.0.0:8080");
  // publish: in the file gives the host side.
  reply = runDeploy(t, shopWithoutMainPort(18081), nullptr, fast());
  ASSERT_TRUE(reply.ok()) << reply.error().message;
  EXPECT_EQ(t.containers.at(t.idOf("main")).spec.publish(0), "18081:8080");
  EXPECT_EQ(reply->public_address(), "0.0.0.0:18081");
}

TEST(Deployer, MainWithoutAnyPortIsAnErrorNamingTheFile) {
  FakeTarget t;
  t.exposed["busybox"] = {"53/udp"};
  auto reply = runDeploy(t, shopWithoutMainPort(), nullptr, fast());
  ASSERT_FALSE(reply.ok());
  EXPECT_THAT(reply.error().message, HasSubstr("proj/berth.yaml: main: no port"));
  EXPECT_THAT(reply.error().message, HasSubstr("port: N"));
  EXPECT_TRUE(t.calls.empty());
  EXPECT_TRUE(t.volumes.empty());
}

TEST(Deployer, MainNeedsNoPortWhenAnotherServiceIsTheEntrance) {
  FakeTarget t;
  pb::ProjectDeployRequest r = shopWithoutMainPort();
  r.set_entrance("db");
  r.set_publish_port(80);
  auto reply = runDeploy(t, r, nullptr, fast());
  ASSERT_TRUE(reply.ok()) << reply.error().message;
  EXPECT_EQ(t.containers.at(t.idOf("main")).spec.publish_size(), 0);
  EXPECT_EQ(reply->public_address(), "0.0.0.0:80");
}

TEST(LowestTcpPort, SkipsUdpRangesAndGarbage) {
  EXPECT_EQ(lowestTcpPort({"5000/tcp", "80/udp", "443", "8000-8010/tcp", "x/tcp", "0", "70000"}),
            std::optional<uint16_t>(443));
  EXPECT_EQ(lowestTcpPort({"53/udp"}), std::nullopt);
  EXPECT_EQ(lowestTcpPort({}), std::nullopt);
}

TEST(ReplacementName, Alternates) {
  EXPECT_EQ(replacementName("p-web", "p-web", "sha256:0123456789abcdef"), "p-web-01234567");
  EXPECT_EQ(replacementName("p-web", "p-web-01234567", "sha256:fedcba"), "p-web");
}

}  // namespace
}  // namespace berth::agent::deploy
