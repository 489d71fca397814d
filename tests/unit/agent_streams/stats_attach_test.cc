// stats arithmetic and error paths, attach preconditions, and the child
// process helpers.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "agent/streams/attach_session.h"
#include "agent/streams/child_process.h"
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

TEST(ChildProcess, ExitStatusAndKillOnScopeExit) {
  auto child = ChildProcess::spawn({"/bin/sh", "-c", "exit 3"}, {});
  ASSERT_TRUE(child) << child.error().str();
  auto status = child->wait();
  ASSERT_TRUE(status);
  EXPECT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 3);

  pid_t pid = 0;
  {
    auto sleeper = ChildProcess::spawn({"/bin/sleep", "100"}, {});
    ASSERT_TRUE(sleeper);
    pid = sleeper->pid();
    EXPECT_EQ(parentOf(pid), ::getpid());
    auto fd = openChildPidfd(pid, ::getpid());
    EXPECT_TRUE(fd.valid());
    EXPECT_FALSE(openChildPidfd(pid, ::getpid() + 1).valid()) << "a wrong parent must not match";
  }
  EXPECT_NE(::kill(pid, 0), 0) << "killed and reaped when it went out of scope";
}

TEST(ChildProcess, ChildSeesOnlyItsStdio) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, 0), 0);  // deliberately without O_CLOEXEC
  sys::UniqueFd r(fds[0]), w(fds[1]);
  int out[2];
  ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
  sys::UniqueFd outR(out[0]), outW(out[1]);
  ChildStdio stdio;
  stdio.out = outW.get();
  auto child = ChildProcess::spawn({"/bin/sh", "-c", "ls /proc/self/fd | wc -l"}, stdio);
  ASSERT_TRUE(child);
  outW.reset();
  char buf[64] = {};
  ssize_t n = ::read(outR.get(), buf, sizeof buf - 1);
  ASSERT_GT(n, 0);
  // 0, 1, 2 and the one ls opens to read the directory.
  EXPECT_EQ(std::atoi(buf), 4) << buf;
  ASSERT_TRUE(child->wait());
}

TEST(ChildProcess, ExtraFdsBecomeThreeFourAndSoOn) {
  int a[2], b[2], out[2];
  ASSERT_EQ(::pipe2(a, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(b, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
  sys::UniqueFd aR(a[0]), aW(a[1]), bR(b[0]), bW(b[1]), outR(out[0]), outW(out[1]);
  ASSERT_EQ(::write(aW.get(), "three", 5), 5);
  aW.reset();
  ChildStdio stdio;
  stdio.out = outW.get();
  stdio.extra = {aR.get(), bW.get()};
  auto child = ChildProcess::spawn({"/bin/sh", "-c", "cat <&3; echo four >&4; ls /proc/self/fd | wc -l"}, stdio);
  ASSERT_TRUE(child);
  outW.reset();
  bW.reset();
  std::string text;
  char buf[64];
  for (ssize_t n; (n = ::read(outR.get(), buf, sizeof buf)) > 0;) text.append(buf, static_cast<size_t>(n));
  // 0-4 and the one ls opens to read the directory.
  EXPECT_EQ(text, "three6\n");
  ssize_t n = ::read(bR.get(), buf, sizeof buf);
  EXPECT_EQ(std::string(buf, n > 0 ? static_cast<size_t>(n) : 0), "four\n");
  ASSERT_TRUE(child->wait());
}

}  // namespace
}  // namespace berth::tests::streams
