// Restart decisions and backoff (agent/engine/restart_policy.h): Docker's
// policy semantics, the immediate first restart, exponential backoff with a
// cap, the reset after a long run, and the daemon-start rules.
#include "agent/engine/restart_policy.h"

#include <gtest/gtest.h>

namespace berth::agent::engine {
namespace {

using namespace std::chrono_literals;

pb::RestartPolicy policy(pb::RestartPolicyKind kind, uint32_t maxRetries = 0) {
  pb::RestartPolicy p;
  p.set_kind(kind);
  p.set_max_retries(maxRetries);
  return p;
}

ExitFacts failed(int code = 1) {
  ExitFacts f;
  f.exitCode = code;
  return f;
}

TEST(RestartPolicy, UnspecifiedIsOnFailureExceptForAutoRemove) {
  EXPECT_EQ(effectivePolicy(policy(pb::RESTART_UNSPECIFIED), false).kind(), pb::RESTART_ON_FAILURE);
  EXPECT_EQ(effectivePolicy(policy(pb::RESTART_UNSPECIFIED), false).max_retries(), 0u);
  EXPECT_EQ(effectivePolicy(policy(pb::RESTART_UNSPECIFIED), true).kind(), pb::RESTART_NO);
  EXPECT_EQ(effectivePolicy(policy(pb::RESTART_ALWAYS), true).kind(), pb::RESTART_ALWAYS);
}

TEST(RestartPolicy, NoNeverRestarts) {
  EXPECT_FALSE(decideRestart(policy(pb::RESTART_NO), failed(), {}).restart);
}

TEST(RestartPolicy, OnFailureRestartsOnlyFailuresUpToMaxRetries) {
  auto p = policy(pb::RESTART_ON_FAILURE, 2);
  EXPECT_FALSE(decideRestart(p, failed(0), {}).restart);
  ExitFacts f = failed(3);
  EXPECT_TRUE(decideRestart(p, f, {}).restart);
  f.restartCount = 1;
  EXPECT_TRUE(decideRestart(p, f, {}).restart);
  f.restartCount = 2;
  EXPECT_FALSE(decideRestart(p, f, {}).restart);
  // 0 = no limit.
  f.restartCount = 1000;
  EXPECT_TRUE(decideRestart(policy(pb::RESTART_ON_FAILURE), f, {}).restart);
}

TEST(RestartPolicy, AStopByTheUserIsNeverUndoneWhileTheDaemonRuns) {
  ExitFacts f = failed(137);
  f.stoppedByUser = true;
  for (auto kind : {pb::RESTART_ALWAYS, pb::RESTART_UNLESS_STOPPED, pb::RESTART_ON_FAILURE}) {
    EXPECT_FALSE(decideRestart(policy(kind), f, {}).restart) << policyKindName(kind);
  }
}

TEST(RestartPolicy, AlwaysAndUnlessStoppedRestartCleanExits) {
  EXPECT_TRUE(decideRestart(policy(pb::RESTART_ALWAYS), failed(0), {}).restart);
  EXPECT_TRUE(decideRestart(policy(pb::RESTART_UNLESS_STOPPED), failed(0), {}).restart);
}

TEST(RestartPolicy, FirstRestartIsImmediateThenBackoffDoublesUpToTheCap) {
  BackoffSettings b{100ms, 1000ms, 10s};
  auto p = policy(pb::RESTART_ALWAYS);
  ExitFacts f = failed();
  std::vector<int64_t> delays;
  for (int i = 0; i < 7; ++i) {
    RestartDecision d = decideRestart(p, f, b);
    ASSERT_TRUE(d.restart);
    delays.push_back(d.delay.count());
    f.backoffStep = d.nextBackoffStep;
  }
  EXPECT_EQ(delays, (std::vector<int64_t>{0, 100, 200, 400, 800, 1000, 1000}));
}

TEST(RestartPolicy, ALongRunResetsTheBackoff) {
  BackoffSettings b{100ms, 30s, 10s};
  ExitFacts f = failed();
  f.backoffStep = 6;
  f.ranFor = 9s;
  EXPECT_EQ(decideRestart(policy(pb::RESTART_ALWAYS), f, b).delay, 3200ms);
  f.ranFor = 10s;
  RestartDecision d = decideRestart(policy(pb::RESTART_ALWAYS), f, b);
  EXPECT_EQ(d.delay, 0ms);
  EXPECT_EQ(d.nextBackoffStep, 1u);
}

TEST(RestartPolicy, BackoffDelayDoesNotOverflowForHugeSteps) {
  BackoffSettings b{100ms, 30s, 10s};
  EXPECT_EQ(backoffDelay(0, b), 0ms);
  EXPECT_EQ(backoffDelay(1, b), 100ms);
  EXPECT_EQ(backoffDelay(4000000000u, b), 30s);
}

TEST(RestartPolicy, AtDaemonStartAlwaysIgnoresAUserStopButUnlessStoppedDoesNot) {
  ExitFacts f = failed(137);
  f.stoppedByUser = true;
  EXPECT_TRUE(restartAtDaemonStart(policy(pb::RESTART_ALWAYS), f, true));
  EXPECT_FALSE(restartAtDaemonStart(policy(pb::RESTART_UNLESS_STOPPED), f, true));
  EXPECT_FALSE(restartAtDaemonStart(policy(pb::RESTART_ON_FAILURE), f, true));
  f.stoppedByUser = false;
  EXPECT_TRUE(restartAtDaemonStart(policy(pb::RESTART_UNLESS_STOPPED), f, true));
  EXPECT_TRUE(restartAtDaemonStart(policy(pb::RESTART_ON_FAILURE), f, true));
  EXPECT_FALSE(restartAtDaemonStart(policy(pb::RESTART_NO), f, true));
  // Never started: created containers are not started by a daemon restart.
  EXPECT_FALSE(restartAtDaemonStart(policy(pb::RESTART_ALWAYS), f, false));
}

TEST(RestartPolicy, Names) {
  EXPECT_STREQ(policyKindName(pb::RESTART_UNLESS_STOPPED), "unless-stopped");
  EXPECT_STREQ(policyKindName(pb::RESTART_ON_FAILURE), "on-failure");
}

}  // namespace
}  // namespace berth::agent::engine
