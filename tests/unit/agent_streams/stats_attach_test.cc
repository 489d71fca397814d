// stats arithmetic and error paths, and attach preconditions.
#include <gtest/gtest.h>

#include <chrono>

#include "agent/streams/attach_session.h"
#include "agent/streams/stats_stream.h"
#include "tests/unit/agent_streams/fakes.h"

namespace berth::tests::streams {
namespace {

using namespace agent::streams;
using namespace std::chrono_literals;

TEST(StatsMath, CpuPercentIsCpuTimeOverWallTime) {
  ContainerView v;
  v.id = "c1";
  v.name = "web";
  StatsSample before{1'000'000'000, {}};
  before.stats.cpuUsageNs = 5'000'000'000;
  StatsSample now{2'000'000'000, {}};
  now.stats.cpuUsageNs = 6'500'000'000;  // 1.5 CPU-seconds in 1 s
  now.stats.memoryUsage = 4096;
  now.stats.memoryLimit = 1 << 20;
  now.stats.pidsCurrent = 3;
  auto s = toContainerStats(v, now, before, 42);
  EXPECT_EQ(s.id(), "c1");
  EXPECT_EQ(s.name(), "web");
  EXPECT_EQ(s.timestamp_ns(), 42);
  EXPECT_DOUBLE_EQ(s.cpu_percent(), 150.0);
  EXPECT_EQ(s.memory_usage(), 4096u);
  EXPECT_EQ(s.memory_limit(), 1u << 20);
  EXPECT_EQ(s.pids(), 3u);
  EXPECT_EQ(s.pids_limit(), 0u);  // unlimited
  EXPECT_EQ(toContainerStats(v, now, std::nullopt, 42).cpu_percent(), 0.0);
}

TEST(StatsStream, UnknownIdIsNotFound) {
  FakeAccess access;
  RecordingSink sink;
  agent::api::StreamWriter<pb::StatsBatch> out(sink, &pb::Response::mutable_stats);
  pb::StatsRequest req;
  req.add_ids("nope");
  auto r = streamStats(access, req, out);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, pb::NOT_FOUND);
  EXPECT_TRUE(sink.frames.empty());
}

TEST(StatsStream, AStoppedContainerIsReportedWithZerosOnce) {
  FakeAccess access;
  ContainerView v;
  v.id = "c1";
  v.name = "web";
  v.state = pb::STATE_EXITED;
  access.views["c1"] = v;
  RecordingSink sink;
  agent::api::StreamWriter<pb::StatsBatch> out(sink, &pb::Response::mutable_stats);
  pb::StatsRequest req;
  req.add_ids("c1");
  auto r = streamStats(access, req, out);
  ASSERT_TRUE(r) << r.error().str();
  ASSERT_EQ(sink.frames.size(), 1u);
  ASSERT_EQ(sink.frames[0].stats().containers_size(), 1);
  const auto& s = sink.frames[0].stats().containers(0);
  EXPECT_EQ(s.name(), "web");
  EXPECT_EQ(s.memory_usage(), 0u);
  EXPECT_EQ(s.pids(), 0u);
}

TEST(StatsStream, StreamSendsABatchPerSecondUntilCancelled) {
  FakeAccess access;  // no containers: empty batches
  RecordingSink sink;
  sink.onSend = [&](const pb::Response&) {
    if (sink.frames.size() == 2) sink.cancel();
  };
  agent::api::StreamWriter<pb::StatsBatch> out(sink, &pb::Response::mutable_stats);
  pb::StatsRequest req;
  req.set_stream(true);
  auto start = std::chrono::steady_clock::now();
  auto r = streamStats(access, req, out);
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, pb::CANCELLED);
  EXPECT_EQ(sink.frames.size(), 2u);
  EXPECT_GE(took, 900ms);
  EXPECT_LT(took, 5s);
}

TEST(AttachSession, NotRunningWithoutStartIsAFailedPrecondition) {
  FakeAccess access;
  ContainerView v;
  v.id = "c1";
  v.state = pb::STATE_CREATED;
  access.views["c1"] = v;
  FakeBidi stream;
  pb::AttachStart req;
  req.set_id("c1");
  auto r = runAttach(access, req, stream);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, pb::FAILED_PRECONDITION);
  EXPECT_EQ(r.error().message, "container c1 is not running");
}

}  // namespace
}  // namespace berth::tests::streams
