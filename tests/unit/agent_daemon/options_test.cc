// berthd's command line and log line format.
#include <gtest/gtest.h>

#include "agent/daemon/log.h"
#include "agent/daemon/options.h"

namespace berth::agent::daemon {
namespace {

TEST(DaemonArgs, DefaultsPutTheSocketInTheRunDir) {
  auto o = parseDaemonArgs({});
  ASSERT_TRUE(o) << o.error().what();
  EXPECT_EQ(o->dataRoot, "/var/lib/berth");
  EXPECT_EQ(o->runRoot, "/run/berth");
  EXPECT_EQ(o->socketPath, "/run/berth/berthd.sock");
  EXPECT_EQ(o->cgroupParent, "berth");
  EXPECT_EQ(o->logLevel, LogLevel::kInfo);
}

TEST(DaemonArgs, EveryFlagBothSpellings) {
  auto o = parseDaemonArgs({"--root", "/tmp/r", "--run=/tmp/run", "--log-level", "debug",
                            "--cgroup-parent=berth-test-1", "--insecure-registry", "127.0.0.1:5000",
                            "--insecure-registry=localhost:5001", "--restart-backoff-cap", "2s",
                            "--socket-group", ""});
  ASSERT_TRUE(o) << o.error().what();
  EXPECT_EQ(o->dataRoot, "/tmp/r");
  EXPECT_EQ(o->runRoot, "/tmp/run");
  EXPECT_EQ(o->socketPath, "/tmp/run/berthd.sock");
  EXPECT_EQ(o->logLevel, LogLevel::kDebug);
  EXPECT_EQ(o->cgroupParent, "berth-test-1");
  EXPECT_EQ(o->insecureRegistries, (std::vector<std::string>{"127.0.0.1:5000", "localhost:5001"}));
  EXPECT_EQ(o->restartBackoffCap, std::chrono::milliseconds(2000));
  EXPECT_EQ(o->socketGroup, "");
}

TEST(DaemonArgs, ErrorsNameTheFlag) {
  auto relative = parseDaemonArgs({"--root", "data"});
  ASSERT_FALSE(relative);
  EXPECT_NE(relative.error().what().find("--root wants an absolute path"), std::string::npos);
  auto unknown = parseDaemonArgs({"--rot", "/x"});
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().what().find("unknown option --rot"), std::string::npos);
  auto missing = parseDaemonArgs({"--socket"});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().what().find("--socket needs a value"), std::string::npos);
  auto level = parseDaemonArgs({"--log-level", "loud"});
  ASSERT_FALSE(level);
  EXPECT_NE(level.error().what().find("'loud'"), std::string::npos);
  EXPECT_FALSE(parseDaemonArgs({"--cgroup-parent", "../escape"}));
  EXPECT_FALSE(parseDaemonArgs({"--insecure-registry", "http://x/"}));
  EXPECT_FALSE(parseDaemonArgs({"positional"}));
}

TEST(DaemonArgs, NetworkPoolAndSize) {
  auto o = parseDaemonArgs({"--network-pool", "10.77.0.0/16", "--network-size=26"});
  ASSERT_TRUE(o) << o.error().what();
  EXPECT_EQ(o->networkPool, "10.77.0.0/16");
  EXPECT_EQ(o->networkPrefix, 26);
  EXPECT_EQ(parseDaemonArgs({})->networkPrefix, 23);
  for (const char* bad : {"15", "30", "24x", ""}) {
    auto wrong = parseDaemonArgs({"--network-size", bad});
    ASSERT_FALSE(wrong) << bad;
    EXPECT_NE(wrong.error().what().find("--network-size wants a prefix length"),
              std::string::npos);
  }
}

TEST(DaemonArgs, Durations) {
  EXPECT_EQ(*parseDuration("250ms"), std::chrono::milliseconds(250));
  EXPECT_EQ(*parseDuration("30"), std::chrono::milliseconds(30000));
  EXPECT_EQ(*parseDuration("2m"), std::chrono::milliseconds(120000));
  EXPECT_EQ(*parseDuration("1h"), std::chrono::milliseconds(3600000));
  EXPECT_FALSE(parseDuration("ten"));
  EXPECT_FALSE(parseDuration("5 s"));
  EXPECT_FALSE(parseDuration("-1s"));
  EXPECT_FALSE(parseDuration(""));
}

TEST(DaemonArgs, LogRotationLimits) {
  auto o = parseDaemonArgs({"--log-max-size", "1m", "--log-max-files=2"});
  ASSERT_TRUE(o) << o.error().what();
  EXPECT_EQ(o->logMaxSize, 1u << 20);
  EXPECT_EQ(o->logMaxFiles, 2u);
  EXPECT_EQ(*parseByteSize("10MB"), 10u << 20);
  EXPECT_EQ(*parseByteSize("4096"), 4096u);
  EXPECT_FALSE(parseByteSize("1t"));
  EXPECT_FALSE(parseByteSize("99999999999999999999"));
  EXPECT_FALSE(parseDaemonArgs({"--log-max-size", "1"}));
  EXPECT_FALSE(parseDaemonArgs({"--log-max-files", "0"}));
  EXPECT_FALSE(parseDaemonArgs({"--log-max-files", "3x"}));
}

TEST(DaemonLog, OneEventOneLine) {
  std::string line = formatLogLine(LogLevel::kWarn, "bad\nforged line", 1700000000123456789LL);
  EXPECT_EQ(line, "2023-11-14T22:13:20.123Z warn  bad forged line\n");
}

TEST(DaemonLog, LevelsFilter) {
  setLogLevel(LogLevel::kWarn);
  EXPECT_FALSE(logEnabled(LogLevel::kInfo));
  EXPECT_TRUE(logEnabled(LogLevel::kError));
  setLogLevel(LogLevel::kInfo);
  EXPECT_EQ(parseLogLevel("warning"), LogLevel::kWarn);
  EXPECT_EQ(parseLogLevel("trace"), std::nullopt);
}

}  // namespace
}  // namespace berth::agent::daemon
