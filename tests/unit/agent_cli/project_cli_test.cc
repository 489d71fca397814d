// berth logs PROJECT and update PROJECT/SERVICE against a fake berthd: the
// merge by time with service prefixes, the follow split (history, then
// lines after it), and what update says when a disk cannot grow live.
#include <gtest/gtest.h>

#include "agent/cli/project_logs.h"
#include "fake_daemon.h"

namespace berth::agent::cli::testing {
namespace {

constexpr int64_t kT = 1'700'000'000'000'000'000;

pb::LogEntry entry(int64_t t, const std::string& data, pb::OutputStream s = pb::OUTPUT_STDOUT,
                   bool partial = false) {
  pb::LogEntry e;
  e.set_timestamp_ns(t);
  e.set_stream(s);
  e.set_data(data);
  e.set_partial(partial);
  return e;
}

pb::ContainerSummary member(const std::string& id, const std::string& service) {
  pb::ContainerSummary c;
  c.set_id(id);
  c.set_name("shop-" + service);
  c.set_state(pb::STATE_RUNNING);
  (*c.mutable_labels())["berth.project"] = "shop";
  (*c.mutable_labels())["berth.service"] = service;
  return c;
}

class ProjectCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    handler_.projectContainers = {member("id-main", "main"), member("id-redis", "redis")};
    handler_.logsById["id-main"] = {entry(kT - 300, "main one\n"), entry(kT - 100, "main two\n"),
                                    entry(kT + 50, "main later\n")};
    handler_.logsById["id-redis"] = {entry(kT - 200, "redis one\n"),
                                     entry(kT - 100, "redis oops\n", pb::OUTPUT_STDERR),
                                     entry(kT - 50, "redis pa", pb::OUTPUT_STDOUT, true),
                                     entry(kT - 40, "rtial\n")};
  }
  CliRun berth(std::vector<std::string> args, CliOptions options = {}) {
    args.insert(args.begin(), {"--socket", daemon_.socketPath()});
    options.nowNs = kT;
    return runCli(args, options);
  }

  FakeHandler handler_;
  FakeDaemon daemon_{handler_};
};

TEST(MergeByTime, InterleavesAndKeepsTiesInSourceOrder) {
  std::vector<std::vector<pb::LogEntry>> sources = {
      {entry(1, "a"), entry(5, "b"), entry(5, "c")}, {}, {entry(0, "x"), entry(5, "y"), entry(9, "z")}};
  std::string order;
  for (auto [s, i] : mergeByTime(sources)) order += sources[s][i].data();
  EXPECT_EQ(order, "xabcyz");
}

TEST(ServicePrefix, PadsToTheWidestName) {
  EXPECT_EQ(servicePrefix("db", 5), "db    | ");
  EXPECT_EQ(servicePrefix("redis", 5), "redis | ");
}

TEST_F(ProjectCliTest, LogsOfAProjectAreMergedAndPrefixed) {
  CliRun r = berth({"logs", "shop"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "main  | main one\n"
            "redis | redis one\n"
            "main  | main two\n"
            "redis | redis partial\n"
            "main  | main later\n");
  EXPECT_EQ(r.err, "redis | redis oops\n");
  CliRun t = berth({"logs", "-t", "--tail", "2", "shop"});
  EXPECT_EQ(t.code, 0) << t.err;
  EXPECT_TRUE(t.out.starts_with("main  | 2023-11-14T22:13:19.9999997Z main one\n")) << t.out;
  std::lock_guard lock(handler_.mutex);
  ASSERT_EQ(handler_.logRequests.size(), 4u);
  EXPECT_EQ(handler_.logRequests[2].tail(), 2u);  // per container
  EXPECT_FALSE(handler_.logRequests[2].follow());
}

TEST_F(ProjectCliTest, FollowPrintsTheHistoryThenWhatComesAfterIt) {
  CliRun r = berth({"logs", "-f", "shop"});
  EXPECT_EQ(r.code, 0) << r.err;
  // The history (until now, merged), then the follow (after now).
  EXPECT_EQ(r.out,
            "main  | main one\n"
            "redis | redis one\n"
            "main  | main two\n"
            "redis | redis partial\n"
            "main  | main later\n");
  std::lock_guard lock(handler_.mutex);
  ASSERT_EQ(handler_.logRequests.size(), 4u);
  EXPECT_EQ(handler_.logRequests[0].until_ns(), kT);
  EXPECT_FALSE(handler_.logRequests[0].follow());
  EXPECT_TRUE(handler_.logRequests[3].follow());
  EXPECT_EQ(handler_.logRequests[3].since_ns(), kT + 1);
  EXPECT_FALSE(handler_.logRequests[3].has_tail());
}

TEST_F(ProjectCliTest, LogsOfAServiceAndOfAContainerStayAsTheyWere) {
  CliRun s = berth({"logs", "shop/redis"});
  EXPECT_EQ(s.code, 0) << s.err;
  EXPECT_EQ(s.out, "redis one\nredis partial\n");
  CliRun c = berth({"logs", "web"});  // no project named web
  EXPECT_EQ(c.out, "line one\npartial\n");
}

TEST_F(ProjectCliTest, UpdateSaysItWasLive) {
  handler_.inspectState = pb::STATE_RUNNING;
  CliRun r = berth({"update", "--memory", "512m", "shop/redis"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "shop/redis: updated live\n");
  std::lock_guard lock(handler_.mutex);
  EXPECT_EQ(handler_.lastUpdate.id(), "id-redis");
}

TEST_F(ProjectCliTest, DiskThatCannotGrowLiveIsExplainedAndTheRestApplied) {
  // A plain container: the downtime of a stop is the user's call.
  handler_.inspectState = pb::STATE_RUNNING;
  handler_.diskUpdateError = CallError(pb::CONFLICT, "container shop-redis is running and its disk cannot grow while mounted here");
  CliRun r = berth({"update", "--memory", "512m", "--disk", "2g", "shop-redis"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "shop-redis: updated live except the disk\n");
  EXPECT_NE(r.err.find("shop-redis: the disk was not grown: container shop-redis is running"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("berth stop shop-redis && berth update --disk 2g shop-redis && berth start shop-redis"),
            std::string::npos)
      << r.err;
  std::lock_guard lock(handler_.mutex);
  ASSERT_EQ(handler_.updates.size(), 2u);
  EXPECT_FALSE(handler_.updates[1].has_disk_bytes());
  EXPECT_EQ(handler_.updates[1].memory_bytes(), 512 << 20);
}

TEST_F(ProjectCliTest, ServiceDiskThatCannotGrowLiveIsGrownByARestart) {
  handler_.inspectState = pb::STATE_RUNNING;
  handler_.diskUpdateError = CallError(pb::CONFLICT, "container shop-redis is running and its disk cannot grow while mounted here");
  CliRun r = berth({"update", "--disk", "2g", "shop/redis"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "shop/redis: updated; restarted to grow its disk (it cannot grow while mounted here)\n");
  std::lock_guard lock(handler_.mutex);
  ASSERT_EQ(handler_.updates.size(), 2u);
  EXPECT_EQ(handler_.updates[1].disk_bytes(), 2ull << 30);
  EXPECT_FALSE(handler_.stopped.contains("id-redis"));  // started again
  EXPECT_EQ(handler_.lastStop.id(), "id-redis");
}

TEST_F(ProjectCliTest, UpdateHelpSaysWhatADeployDoesWithIt) {
  CliRun r = berth({"update", "--help"});
  EXPECT_NE(r.out.find("keeps updated values through `berth deploy`"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace berth::agent::cli::testing
