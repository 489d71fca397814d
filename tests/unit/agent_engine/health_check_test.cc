// Health checks (agent/engine/health_check.h, health_monitor.h): which
// check a container gets from its spec and image, the state machine
// (starting -> healthy / unhealthy, start period, streak), and the monitor
// running checks through a stand-in for `berth-runtime exec` (a script that
// runs the command it is given), with output, timeouts and untracking.
#include "agent/engine/health_check.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "agent/engine/container_record.h"
#include "agent/engine/health_monitor.h"
#include "runtime/sys/fs.h"

namespace berth::agent::engine {
namespace {

using namespace std::chrono_literals;

pb::HealthCheck check(std::vector<std::string> test, uint64_t intervalMs = 0,
                      uint64_t timeoutMs = 0, uint64_t startPeriodMs = 0, uint32_t retries = 0) {
  pb::HealthCheck c;
  for (auto& t : test) c.add_test(t);
  c.set_interval_ms(intervalMs);
  c.set_timeout_ms(timeoutMs);
  c.set_start_period_ms(startPeriodMs);
  c.set_retries(retries);
  return c;
}

TEST(HealthCheckTest, NoCheckAnywhereMeansNone) {
  pb::ContainerSpec spec;
  auto effective = effectiveHealthCheck(spec, std::nullopt);
  ASSERT_TRUE(effective) << effective.error().str();
  EXPECT_FALSE(effective->has_value());
}

TEST(HealthCheckTest, SpecCheckGetsDockerDefaults) {
  pb::ContainerSpec spec;
  *spec.mutable_healthcheck() = check({"CMD-SHELL", "curl -f localhost"});
  auto effective = effectiveHealthCheck(spec, std::nullopt);
  ASSERT_TRUE(effective && effective->has_value());
  const pb::HealthCheck& c = **effective;
  EXPECT_EQ(c.interval_ms(), 30000u);
  EXPECT_EQ(c.timeout_ms(), 30000u);
  EXPECT_EQ(c.start_period_ms(), 0u);
  EXPECT_EQ(c.retries(), 3u);
  EXPECT_EQ(healthProbeArgs(c), (std::vector<std::string>{"/bin/sh", "-c", "curl -f localhost"}));
}

TEST(HealthCheckTest, ImageCheckIsUsedAndSpecOverridesFieldByField) {
  image::oci::Healthcheck image;
  image.test = {"CMD", "/bin/check", "--quick"};
  image.interval = 5'000'000'000;
  image.timeout = 2'000'000'000;
  image.retries = 7;
  pb::ContainerSpec spec;
  spec.mutable_healthcheck()->set_interval_ms(200);
  auto effective = effectiveHealthCheck(spec, image);
  ASSERT_TRUE(effective && effective->has_value());
  const pb::HealthCheck& c = **effective;
  EXPECT_EQ(healthProbeArgs(c), (std::vector<std::string>{"/bin/check", "--quick"}));
  EXPECT_EQ(c.interval_ms(), 200u);
  EXPECT_EQ(c.timeout_ms(), 2000u);
  EXPECT_EQ(c.retries(), 7u);
}

TEST(HealthCheckTest, NoneDisablesTheImageCheck) {
  image::oci::Healthcheck image;
  image.test = {"CMD-SHELL", "true"};
  pb::ContainerSpec spec;
  *spec.mutable_healthcheck() = check({"NONE"});
  auto effective = effectiveHealthCheck(spec, image);
  ASSERT_TRUE(effective);
  EXPECT_FALSE(effective->has_value());
  image.test = {"NONE"};
  effective = effectiveHealthCheck(pb::ContainerSpec(), image);
  ASSERT_TRUE(effective);
  EXPECT_FALSE(effective->has_value());
}

TEST(HealthCheckTest, InvalidTestsAreRefused) {
  for (auto test : std::vector<std::vector<std::string>>{
           {"CMD"}, {"CMD-SHELL"}, {"CMD-SHELL", "a", "b"}, {"RUN", "x"}, {"NONE", "x"}}) {
    pb::ContainerSpec spec;
    *spec.mutable_healthcheck() = check(test);
    auto effective = effectiveHealthCheck(spec, std::nullopt);
    EXPECT_FALSE(effective) << test[0];
    if (!effective) {
      EXPECT_NE(effective.error().str().find("healthcheck"), std::string::npos);
    }
  }
}

TEST(HealthStateTest, FirstSuccessMakesItHealthy) {
  HealthState s(3);
  EXPECT_EQ(s.status(), HealthStatus::kStarting);
  s.record({true, "ok"}, false);
  EXPECT_EQ(s.status(), HealthStatus::kHealthy);
  EXPECT_EQ(s.failingStreak(), 0u);
  EXPECT_EQ(s.lastOutput(), "ok");
}

TEST(HealthStateTest, RetriesConsecutiveFailuresMakeItUnhealthy) {
  HealthState s(3);
  s.record({true, ""}, false);
  s.record({false, "1"}, false);
  s.record({false, "2"}, false);
  EXPECT_EQ(s.status(), HealthStatus::kHealthy);  // not yet: 2 of 3
  EXPECT_EQ(s.failingStreak(), 2u);
  s.record({false, "3"}, false);
  EXPECT_EQ(s.status(), HealthStatus::kUnhealthy);
  EXPECT_EQ(s.failingStreak(), 3u);
  EXPECT_EQ(s.lastOutput(), "3");
  s.record({true, "back"}, false);
  EXPECT_EQ(s.status(), HealthStatus::kHealthy);
  EXPECT_EQ(s.failingStreak(), 0u);
}

TEST(HealthStateTest, FailuresInTheStartPeriodDoNotCount) {
  HealthState s(1);
  s.record({false, "not yet"}, true);
  s.record({false, "not yet"}, true);
  EXPECT_EQ(s.status(), HealthStatus::kStarting);
  EXPECT_EQ(s.failingStreak(), 0u);
  EXPECT_EQ(s.lastOutput(), "not yet");
  s.record({false, "late"}, false);
  EXPECT_EQ(s.status(), HealthStatus::kUnhealthy);
}

TEST(HealthStateTest, ASuccessInTheStartPeriodEndsIt) {
  HealthState s(1);
  s.record({true, ""}, true);
  EXPECT_EQ(s.status(), HealthStatus::kHealthy);
  // Once healthy, a failure counts even inside the period (Docker).
  s.record({false, ""}, true);
  EXPECT_EQ(s.status(), HealthStatus::kUnhealthy);
}

TEST(HealthStateTest, OutputIsTruncatedTo4KiB) {
  HealthState s(3);
  s.record({true, std::string(10000, 'x')}, false);
  EXPECT_EQ(s.lastOutput().size(), kMaxHealthOutput);
}

TEST(HealthStateTest, StatusSuffixAsDockerPrintsIt) {
  EXPECT_EQ(healthStatusSuffix(""), "");
  EXPECT_EQ(healthStatusSuffix("starting"), " (health: starting)");
  EXPECT_EQ(healthStatusSuffix("healthy"), " (healthy)");
  EXPECT_EQ(healthStatusSuffix("unhealthy"), " (unhealthy)");
}

TEST(HealthCheckTest, TheEffectiveCheckSurvivesTheRecord) {
  ContainerRecord record;
  record.id = "abc";
  record.state = RecordState::kCreated;
  record.healthcheck = check({"CMD-SHELL", "exit 0"}, 200, 1000, 0, 2);
  auto decoded = decodeRecord(encodeRecord(record), "record.json");
  ASSERT_TRUE(decoded) << decoded.error().str();
  ASSERT_TRUE(decoded->healthcheck);
  EXPECT_EQ(decoded->healthcheck->test(1), "exit 0");
  EXPECT_EQ(decoded->healthcheck->interval_ms(), 200u);
  EXPECT_EQ(decoded->healthcheck->retries(), 2u);
  record.healthcheck.reset();
  decoded = decodeRecord(encodeRecord(record), "record.json");
  ASSERT_TRUE(decoded);
  EXPECT_FALSE(decoded->healthcheck);
}

// The monitor with a fake runtime: "<bin> --root R exec --pid-file P ID
// cmd..." writes its pid where the real runtime would and runs cmd.
class HealthMonitorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = "/tmp/berth-health-test-" + std::to_string(::getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    ASSERT_TRUE(sys::mkdirAll(dir_, 0700));
    std::string runtime = dir_ + "/fake-runtime";
    std::ofstream(runtime) << "#!/bin/sh\n"
                              "[ \"$1 $3 $4\" = '--root exec --pid-file' ] || exit 99\n"
                              "pidfile=$5\n"
                              "shift 6\n"
                              "echo $$ > \"$pidfile\"\n"
                              "echo $$ >> " << dir_ << "/pids\n"
                              "exec \"$@\"\n";
    ::chmod(runtime.c_str(), 0700);
    auto monitor = HealthMonitor::start({runtime, dir_ + "/state"});
    ASSERT_TRUE(monitor) << monitor.error().str();
    monitor_ = std::move(*monitor);
  }
  void TearDown() override {
    monitor_.reset();
    (void)std::system(("rm -rf " + dir_).c_str());
  }

  bool waitFor(const std::function<bool(const HealthReport&)>& done,
               std::chrono::milliseconds timeout = 5s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto r = monitor_->report("c1");
      if (r && done(*r)) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }

  std::string dir_;
  std::unique_ptr<HealthMonitor> monitor_;
};

TEST_F(HealthMonitorTest, PassingCheckBecomesHealthyWithItsOutput) {
  auto start = std::chrono::steady_clock::now();
  monitor_->track("c1", check({"CMD-SHELL", "echo fine; echo err >&2"}, 100, 2000, 0, 3), start);
  EXPECT_EQ(monitor_->report("c1")->status, HealthStatus::kStarting);
  ASSERT_TRUE(waitFor([](auto& r) { return r.status == HealthStatus::kHealthy; }));
  EXPECT_EQ(monitor_->report("c1")->lastOutput, "fine\nerr\n");
}

TEST_F(HealthMonitorTest, FailingCheckBecomesUnhealthyAfterRetries) {
  monitor_->track("c1", check({"CMD", "/bin/sh", "-c", "echo bad; exit 1"}, 50, 2000, 0, 3),
                  std::chrono::steady_clock::now());
  ASSERT_TRUE(waitFor([](auto& r) { return r.failingStreak >= 1; }));
  EXPECT_EQ(monitor_->report("c1")->status, HealthStatus::kStarting);
  ASSERT_TRUE(waitFor([](auto& r) { return r.status == HealthStatus::kUnhealthy; }));
  auto report = monitor_->report("c1");
  EXPECT_GE(report->failingStreak, 3u);
  EXPECT_EQ(report->lastOutput, "bad\n");
}

TEST_F(HealthMonitorTest, StartingContainerIsCheckedEarlyAndAPassCountsAtOnce) {
  // A 60 s interval: without early checks the first would come after a minute.
  auto start = std::chrono::steady_clock::now();
  monitor_->track("c1", check({"CMD", "true"}, 60000, 2000, 0, 3), start);
  ASSERT_TRUE(waitFor([](auto& r) { return r.status == HealthStatus::kHealthy; }));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST_F(HealthMonitorTest, EarlyFailuresDoNotCountTowardRetries) {
  // Early checks every 0.5 s fail; only the 60 s interval's would count.
  monitor_->track("c1", check({"CMD", "false"}, 60000, 2000, 0, 1),
                  std::chrono::steady_clock::now());
  std::this_thread::sleep_for(1600ms);
  auto report = monitor_->report("c1");
  ASSERT_TRUE(report);
  EXPECT_EQ(report->status, HealthStatus::kStarting);
  EXPECT_EQ(report->failingStreak, 0u);
}

TEST_F(HealthMonitorTest, StartPeriodKeepsItStarting) {
  monitor_->track("c1", check({"CMD", "false"}, 30, 2000, 60000, 1),
                  std::chrono::steady_clock::now());
  std::this_thread::sleep_for(400ms);
  auto report = monitor_->report("c1");
  ASSERT_TRUE(report);
  EXPECT_EQ(report->status, HealthStatus::kStarting);
  EXPECT_EQ(report->failingStreak, 0u);
}

TEST_F(HealthMonitorTest, HangingCheckIsKilledAtItsTimeout) {
  monitor_->track("c1", check({"CMD", "sleep", "60"}, 50, 150, 0, 1),
                  std::chrono::steady_clock::now());
  ASSERT_TRUE(waitFor([](auto& r) { return r.status == HealthStatus::kUnhealthy; }));
  EXPECT_EQ(monitor_->report("c1")->lastOutput, "Health check exceeded timeout (150ms)");
  monitor_->untrack("c1");
  monitor_.reset();
  // Every check's process is gone (killed and reaped), none left sleeping.
  auto pids = sys::readFile(dir_ + "/pids");
  ASSERT_TRUE(pids);
  std::istringstream in(*pids);
  for (pid_t pid; in >> pid;) EXPECT_NE(::kill(pid, 0), 0) << "pid " << pid << " still there";
}

TEST_F(HealthMonitorTest, UntrackForgetsAndTrackStartsOver) {
  monitor_->track("c1", check({"CMD", "true"}, 30, 2000, 0, 1), std::chrono::steady_clock::now());
  ASSERT_TRUE(waitFor([](auto& r) { return r.status == HealthStatus::kHealthy; }));
  monitor_->untrack("c1");
  EXPECT_FALSE(monitor_->report("c1"));
  monitor_->track("c1", check({"CMD", "true"}, 60000, 2000, 0, 1),
                  std::chrono::steady_clock::now());
  EXPECT_EQ(monitor_->report("c1")->status, HealthStatus::kStarting);
}

TEST_F(HealthMonitorTest, ChecksRunSideBySide) {
  // Two slow checks of different containers do not wait for each other.
  auto start = std::chrono::steady_clock::now();
  monitor_->track("c1", check({"CMD", "sleep", "1"}, 10, 5000, 0, 1), start);
  monitor_->track("c2", check({"CMD", "sleep", "1"}, 10, 5000, 0, 1), start);
  ASSERT_TRUE(waitFor([](auto& r) { return r.status == HealthStatus::kHealthy; }));
  auto both = [&] {
    auto r = monitor_->report("c2");
    return r && r->status == HealthStatus::kHealthy;
  };
  while (!both() && std::chrono::steady_clock::now() - start < 5s) std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(both());
  // One after the other would take at least 2 s.
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1800ms);
}

}  // namespace
}  // namespace berth::agent::engine
