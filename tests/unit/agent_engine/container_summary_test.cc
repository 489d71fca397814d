// `berth ps` texts and summaries (agent/engine/container_summary.h) and the
// API-to-engine conversions (agent/engine/spec_options.h).
#include "agent/engine/container_summary.h"

#include <gtest/gtest.h>

#include "agent/engine/spec_options.h"

namespace berth::agent::engine {
namespace {

constexpr int64_t kS = 1000000000;

TEST(ContainerSummary, HumanDurationLikeDocker) {
  EXPECT_EQ(humanDuration(0), "Less than a second");
  EXPECT_EQ(humanDuration(1 * kS), "1 second");
  EXPECT_EQ(humanDuration(3 * kS + 5), "3 seconds");
  EXPECT_EQ(humanDuration(59 * kS), "59 seconds");
  EXPECT_EQ(humanDuration(90 * kS), "About a minute");
  EXPECT_EQ(humanDuration(5 * 60 * kS), "5 minutes");
  EXPECT_EQ(humanDuration(90 * 60 * kS), "About an hour");
  EXPECT_EQ(humanDuration(3 * 3600 * kS), "3 hours");
  EXPECT_EQ(humanDuration(3 * 86400 * kS), "3 days");
  EXPECT_EQ(humanDuration(21 * 86400 * kS), "3 weeks");
  EXPECT_EQ(humanDuration(120 * 86400 * kS), "4 months");
  EXPECT_EQ(humanDuration(800 * 86400 * kS), "2 years");
}

TEST(ContainerSummary, StatusTexts) {
  ContainerRecord r;
  r.state = RecordState::kCreated;
  EXPECT_EQ(statusText(r, false, 100 * kS), "Created");
  r.state = RecordState::kRunning;
  r.startedNs = 97 * kS;
  EXPECT_EQ(statusText(r, false, 100 * kS), "Up 3 seconds");
  r.state = RecordState::kExited;
  r.hasExit = true;
  r.lastExit.exitCode = 1;
  r.lastExit.finishedNs = 98 * kS;
  EXPECT_EQ(statusText(r, false, 100 * kS), "Exited (1) 2 seconds ago");
  EXPECT_EQ(statusText(r, true, 100 * kS), "Restarting (1) 2 seconds ago");
  EXPECT_EQ(displayedState(r, true), pb::STATE_RESTARTING);
}

TEST(ContainerSummary, SummaryCarriesPidOnlyWhileRunning) {
  ContainerRecord r;
  r.id = std::string(64, 'c');
  r.name = "web";
  r.spec.set_image("busybox");
  r.args = {"sh"};
  r.state = RecordState::kRunning;
  r.initPid = 42;
  r.restartCount = 2;
  r.everStarted = true;
  r.startedNs = 5;
  pb::ContainerSummary s = summarize(r, false, 10 * kS);
  EXPECT_EQ(s.pid(), 42);
  EXPECT_EQ(s.state(), pb::STATE_RUNNING);
  EXPECT_EQ(s.restart_count(), 2u);
  EXPECT_EQ(s.image(), "busybox");
  ASSERT_EQ(s.command_size(), 1);
  r.state = RecordState::kExited;
  r.hasExit = true;
  r.lastExit.exitCode = 3;
  s = summarize(r, false, 10 * kS);
  EXPECT_EQ(s.pid(), 0);
  EXPECT_EQ(s.exit_code(), 3);
}

TEST(ContainerSummary, LabelFilter) {
  ContainerRecord r;
  r.labels = {{"tier", "front"}, {"team", "a"}};
  google::protobuf::Map<std::string, std::string> filter;
  EXPECT_TRUE(matchesLabels(r, filter));
  filter["tier"] = "front";
  EXPECT_TRUE(matchesLabels(r, filter));
  filter["team"] = "";
  EXPECT_TRUE(matchesLabels(r, filter));
  filter["tier"] = "back";
  EXPECT_FALSE(matchesLabels(r, filter));
}

TEST(SpecOptions, ValidateSpec) {
  pb::ContainerSpec spec;
  EXPECT_FALSE(validateSpec(spec));  // no image
  spec.set_image("busybox");
  EXPECT_TRUE(validateSpec(spec));
  spec.set_name("bad name");
  EXPECT_FALSE(validateSpec(spec));
  spec.set_name("good");
  spec.set_auto_remove(true);
  spec.mutable_restart()->set_kind(pb::RESTART_ALWAYS);
  auto conflict = validateSpec(spec);
  ASSERT_FALSE(conflict);
  EXPECT_NE(conflict.error().what().find("--rm"), std::string::npos);
  spec.mutable_restart()->set_kind(pb::RESTART_NO);
  EXPECT_TRUE(validateSpec(spec));
  spec.set_stop_signal("SIGNOPE");
  EXPECT_FALSE(validateSpec(spec));
  spec.set_stop_signal("QUIT");
  EXPECT_TRUE(validateSpec(spec));
  spec.set_memory_bytes(1024);
  EXPECT_FALSE(validateSpec(spec));
}

TEST(SpecOptions, RunOptionsFromSpec) {
  pb::ContainerSpec spec;
  spec.set_image("busybox");
  spec.add_env("A=1");
  spec.set_workdir("/w");
  spec.set_user("daemon");
  spec.mutable_entrypoint()->add_values("/bin/sh");
  spec.add_cmd("-c");
  spec.set_nano_cpus(1500000000);
  spec.set_pids_limit(-1);
  spec.set_stop_signal("SIGQUIT");
  (*spec.mutable_labels())["k"] = "v";
  RunOptions o = runOptionsFor(spec, "id1", "web", "/berth/id1", "/r");
  EXPECT_EQ(o.env, std::vector<std::string>{"A=1"});
  EXPECT_EQ(o.workdir, "/w");
  EXPECT_EQ(o.user, std::optional<std::string>("daemon"));
  ASSERT_TRUE(o.entrypoint);
  EXPECT_EQ(*o.entrypoint, std::vector<std::string>{"/bin/sh"});
  EXPECT_DOUBLE_EQ(*o.cpus, 1.5);
  EXPECT_FALSE(o.pidsLimit);
  EXPECT_FALSE(o.memory);
  EXPECT_EQ(o.annotations.at("k"), "v");
  EXPECT_EQ(o.annotations.at(kStopSignalAnnotation), "SIGQUIT");
  EXPECT_EQ(o.cgroupsPath, "/berth/id1");
  EXPECT_EQ(o.rootfsPath, "/r");
  spec.clear_user();
  spec.clear_entrypoint();
  o = runOptionsFor(spec, "id1", "web", "/berth/id1", "/r");
  EXPECT_FALSE(o.user);
  EXPECT_FALSE(o.entrypoint);
}

TEST(SpecOptions, CgroupsPathIsAbsolute) {
  EXPECT_EQ(cgroupsPathFor("berth", "abc"), "/berth/abc");
  EXPECT_EQ(cgroupsPathFor("/berth-test-1/", "abc"), "/berth-test-1/abc");
  EXPECT_EQ(cgroupsPathFor("", "abc"), "/abc");
}

TEST(SpecOptions, UpdateResources) {
  pb::ContainerUpdateRequest request;
  request.set_memory_bytes(0);
  request.set_nano_cpus(500000000);
  request.set_pids_limit(0);
  auto r = resourcesForUpdate(request);
  ASSERT_TRUE(r) << r.error().str();
  EXPECT_EQ(*r->memory->limit, -1);
  EXPECT_EQ(*r->cpu->quota, 50000);
  EXPECT_EQ(*r->cpu->period, 100000u);
  EXPECT_EQ(*r->pids->limit, -1);

  pb::ContainerUpdateRequest only;
  only.set_pids_limit(10);
  r = resourcesForUpdate(only);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->memory);
  EXPECT_FALSE(r->cpu);
  runtime::config::Resources target;
  target.memory.emplace().limit = 64 << 20;
  mergeResources(target, *r);
  EXPECT_EQ(*target.memory->limit, 64 << 20);
  EXPECT_EQ(*target.pids->limit, 10);

  pb::ContainerUpdateRequest tiny;
  tiny.set_memory_bytes(100);
  EXPECT_FALSE(resourcesForUpdate(tiny));
}

}  // namespace
}  // namespace berth::agent::engine
