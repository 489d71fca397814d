// OCI hooks run as real scripts: they get the state on stdin, their args and
// env, their exit status is reported, and a timeout bounds them — even when
// they never read their stdin.
#include "runtime/container/hooks.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>

#include "tests/unit/container/testutil.h"

namespace berth::runtime::container {
namespace {

using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

const std::string kState =
    R"({"ociVersion":"1.2.0","id":"web","status":"creating","pid":42,"bundle":"/b"})";

config::Hook hookAt(const std::string& path, std::optional<int> timeout = std::nullopt) {
  config::Hook h;
  h.path = path;
  h.timeout = timeout;
  return h;
}

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

TEST(RunHook, ReceivesTheStateOnStdin) {
  testing::TempDir tmp;
  std::string out = tmp.file("stdin");
  ASSERT_TRUE(testing::writeScript(tmp.file("hook"), "cat > " + out));
  auto r = runHook(hookAt(tmp.file("hook")), kState);
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(testing::readText(out), kState);
}

TEST(RunHook, PassesArgsAndEnv) {
  testing::TempDir tmp;
  std::string out = tmp.file("out");
  ASSERT_TRUE(testing::writeScript(tmp.file("hook"), "echo \"$# $1 $2 $FOO $BAR\" > " + out));
  config::Hook h = hookAt(tmp.file("hook"));
  h.args = {"my-hook", "first", "second arg"};
  h.env = {"FOO=foo-value", "BAR=bar"};
  auto r = runHook(h, kState);
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(testing::readText(out), "2 first second arg foo-value bar\n");
}

TEST(RunHook, NonZeroExitIsReportedWithTheStatus) {
  testing::TempDir tmp;
  ASSERT_TRUE(testing::writeScript(tmp.file("hook"), "exit 3"));
  auto r = runHook(hookAt(tmp.file("hook")), kState);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().str(), HasSubstr(tmp.file("hook") + ": exited with status 3"));
}

TEST(RunHook, DeathBySignalIsReported) {
  testing::TempDir tmp;
  ASSERT_TRUE(testing::writeScript(tmp.file("hook"), "kill -9 $$"));
  auto r = runHook(hookAt(tmp.file("hook")), kState);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().str(), HasSubstr("killed by signal 9"));
}

TEST(RunHook, AMissingProgramIsNamed) {
  testing::TempDir tmp;
  auto r = runHook(hookAt(tmp.file("absent")), kState);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ENOENT);
  EXPECT_THAT(r.error().str(), HasSubstr(tmp.file("absent")));
}

TEST(RunHook, TimeoutKillsTheHookInTime) {
  testing::TempDir tmp;
  // exec: the sleep itself is the hook, so the kill leaves nothing behind.
  ASSERT_TRUE(testing::writeScript(tmp.file("hook"), "exec sleep 30"));
  auto start = Clock::now();
  auto r = runHook(hookAt(tmp.file("hook"), 1), kState);
  double took = secondsSince(start);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ETIMEDOUT);
  EXPECT_THAT(r.error().str(), HasSubstr("timed out after 1s"));
  EXPECT_GE(took, 0.9);
  EXPECT_LT(took, 3.0);
}

// True once `pid` is gone or a zombie (its reaper may take a moment).
bool goneWithin(pid_t pid, std::chrono::milliseconds limit) {
  auto end = Clock::now() + limit;
  do {
    std::string stat = testing::readText("/proc/" + std::to_string(pid) + "/stat");
    auto close = stat.rfind(')');
    if (stat.empty() || (close != std::string::npos && stat.compare(close, 3, ") Z") == 0))
      return true;
    ::usleep(10000);
  } while (Clock::now() < end);
  return false;
}

TEST(RunHook, TimeoutAlsoKillsWhatTheHookStarted) {
  testing::TempDir tmp;
  std::string pidFile = tmp.file("child.pid");
  ASSERT_TRUE(testing::writeScript(tmp.file("hook"), "sleep 30 & echo $! > " + pidFile + "; wait"));
  auto r = runHook(hookAt(tmp.file("hook"), 1), kState);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ETIMEDOUT);
  pid_t child = std::atoi(testing::readText(pidFile).c_str());
  ASSERT_GT(child, 0);
  bool gone = goneWithin(child, std::chrono::milliseconds(1000));
  if (!gone) ::kill(child, SIGKILL);  // leave nothing behind even on failure
  EXPECT_TRUE(gone) << "the hook's own child survived its timeout";
}

TEST(RunHook, AFastHookWithATimeoutSucceeds) {
  testing::TempDir tmp;
  ASSERT_TRUE(testing::writeScript(tmp.file("hook"), "cat >/dev/null"));
  auto start = Clock::now();
  EXPECT_TRUE(runHook(hookAt(tmp.file("hook"), 5), kState).ok());
  EXPECT_LT(secondsSince(start), 2.0) << "a timeout is an upper bound, not a wait";
}

TEST(RunHook, AHookThatExitsWithoutReadingStdinDoesNotKillUs) {
  testing::TempDir tmp;
  ASSERT_TRUE(testing::writeScript(tmp.file("hook"), "exit 0"));
  // The write hits a closed pipe: with SIGPIPE at its default disposition
  // (as here in gtest) that must still not kill the caller.
  struct sigaction old {};
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  ASSERT_EQ(::sigaction(SIGPIPE, &dfl, &old), 0);
  std::string big(1 << 20, 'x');  // far more than a pipe buffer
  for (int i = 0; i < 3; ++i) {
    auto r = runHook(hookAt(tmp.file("hook")), big);
    EXPECT_TRUE(r.ok()) << r.error().str();
  }
  sigset_t pending;
  sigpending(&pending);
  EXPECT_FALSE(sigismember(&pending, SIGPIPE)) << "no SIGPIPE left pending for later";
  ::sigaction(SIGPIPE, &old, nullptr);
}

TEST(RunHook, AHookThatNeverReadsALargeStateIsStillTimedOut) {
  testing::TempDir tmp;
  ASSERT_TRUE(testing::writeScript(tmp.file("hook"), "exec sleep 30"));
  // Annotations can make the state larger than a pipe holds.
  std::string big(1 << 20, 'x');
  auto start = Clock::now();
  auto r = runHook(hookAt(tmp.file("hook"), 1), big);
  double took = secondsSince(start);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ETIMEDOUT);
  EXPECT_LT(took, 3.0);
}

TEST(RunHook, AHookThatIgnoresStdinButExitsSucceeds) {
  testing::TempDir tmp;
  std::string out = tmp.file("ran");
  ASSERT_TRUE(testing::writeScript(tmp.file("hook"), "touch " + out));
  auto r = runHook(hookAt(tmp.file("hook")), kState);
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_TRUE(sys::pathExists(out));
}

TEST(RunHooks, StopsAtTheFirstFailureAndNamesIt) {
  testing::TempDir tmp;
  ASSERT_TRUE(testing::writeScript(tmp.file("first"), "touch " + tmp.file("first.ran")));
  ASSERT_TRUE(testing::writeScript(tmp.file("second"), "exit 2"));
  ASSERT_TRUE(testing::writeScript(tmp.file("third"), "touch " + tmp.file("third.ran")));
  std::vector<config::Hook> hooks = {hookAt(tmp.file("first")), hookAt(tmp.file("second")),
                                     hookAt(tmp.file("third"))};
  auto r = runHooks(hooks, "prestart", kState);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().str(), HasSubstr("prestart hook"));
  EXPECT_THAT(r.error().str(), HasSubstr(tmp.file("second") + ": exited with status 2"));
  EXPECT_TRUE(sys::pathExists(tmp.file("first.ran")));
  EXPECT_FALSE(sys::pathExists(tmp.file("third.ran"))) << "hooks after a failure must not run";
}

TEST(RunHooks, RunsAllInOrder) {
  testing::TempDir tmp;
  std::string log = tmp.file("log");
  ASSERT_TRUE(testing::writeScript(tmp.file("a"), "echo a >> " + log));
  ASSERT_TRUE(testing::writeScript(tmp.file("b"), "echo b >> " + log));
  auto r = runHooks({hookAt(tmp.file("a")), hookAt(tmp.file("b"))}, "poststart", kState);
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(testing::readText(log), "a\nb\n");
}

TEST(RunHooks, EmptyListSucceeds) {
  EXPECT_TRUE(runHooks({}, "poststop", kState).ok());
}

}  // namespace
}  // namespace berth::runtime::container
