// Container ids, state.json round trips and the liveness check that tells a
// container's init from a process that later got the same pid.
#include "runtime/container/state.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "tests/unit/container/testutil.h"

namespace berth::runtime::container {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

TEST(ContainerId, AcceptsRuncCharacters) {
  for (const char* id : {"web", "a", "Web_1", "x+y", "db-2", "a.b", "a..b", "0", "abc.", "-x"}) {
    EXPECT_TRUE(validateContainerId(id).ok()) << id;
  }
}

TEST(ContainerId, RejectsPathTricksAndOtherCharacters) {
  for (const char* id : {"a/b", "/abs", "a b", "a:b", "a\nb", "\xc3\xa9", "a*", "a\\b"}) {
    auto r = validateContainerId(id);
    ASSERT_FALSE(r.ok()) << id;
    EXPECT_THAT(r.error().str(), HasSubstr("only letters, digits and _+-. are allowed")) << id;
  }
}

TEST(ContainerId, RejectsLeadingDot) {
  for (const char* id : {".", "..", ".hidden", "../x"}) {
    auto r = validateContainerId(id);
    ASSERT_FALSE(r.ok()) << id;
    EXPECT_THAT(r.error().str(), HasSubstr("must not start with '.'"));
  }
}

TEST(ContainerId, RejectsEmpty) {
  auto r = validateContainerId("");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().str(), HasSubstr("must not be empty"));
}

TEST(ContainerId, LengthIsBoundedByWhatADirectoryNameMayBe) {
  // The id names the state directory, so it must fit in one path component.
  EXPECT_TRUE(validateContainerId(std::string(255, 'a')).ok());
  auto r = validateContainerId(std::string(256, 'a'));
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().str(), HasSubstr("too long"));
  EXPECT_FALSE(validateContainerId(std::string(100000, 'a')).ok());
}

TEST(StateDir, PathsAreInsideTheRoot) {
  StateDir d("/run/x/", "web");
  EXPECT_EQ(d.path(), "/run/x/web");
  EXPECT_EQ(d.stateFile(), "/run/x/web/state.json");
  EXPECT_EQ(d.configFile(), "/run/x/web/config.json");
  EXPECT_EQ(d.execFifo(), "/run/x/web/exec.fifo");
}

State sampleState() {
  State s;
  s.id = "web";
  s.pid = 4242;
  s.initStartTime = 123456789ULL;
  s.bundle = "/srv/bundles/web";
  s.rootfs = "/srv/bundles/web/rootfs";
  s.created = "2024-05-01T10:20:30.123456789Z";
  s.cgroupsPath = "/berth/web";
  s.owner = 1000;
  s.annotations = {{"org.example/a", "1"}, {"b", "two words"}};
  return s;
}

TEST(StateFile, SaveThenLoadRoundTrips) {
  testing::TempDir tmp;
  StateDir dir(tmp.path(), "web");
  ASSERT_TRUE(sys::mkdirAll(dir.path()).ok());
  State s = sampleState();
  ASSERT_TRUE(saveState(dir, s).ok());

  struct stat st;
  ASSERT_EQ(::stat(dir.stateFile().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u) << "state may name paths other users should not read";

  auto loaded = loadState(dir);
  ASSERT_TRUE(loaded.ok()) << loaded.error().str();
  EXPECT_EQ(loaded->id, s.id);
  EXPECT_EQ(loaded->pid, s.pid);
  EXPECT_EQ(loaded->initStartTime, s.initStartTime);
  EXPECT_EQ(loaded->bundle, s.bundle);
  EXPECT_EQ(loaded->rootfs, s.rootfs);
  EXPECT_EQ(loaded->created, s.created);
  EXPECT_EQ(loaded->cgroupsPath, s.cgroupsPath);
  EXPECT_EQ(loaded->owner, s.owner);
  EXPECT_EQ(loaded->annotations, s.annotations);
}

TEST(StateFile, SaveReplacesThePreviousState) {
  testing::TempDir tmp;
  StateDir dir(tmp.path(), "web");
  ASSERT_TRUE(sys::mkdirAll(dir.path()).ok());
  State s = sampleState();
  ASSERT_TRUE(saveState(dir, s).ok());
  s.pid = 7;
  ASSERT_TRUE(saveState(dir, s).ok());
  auto loaded = loadState(dir);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->pid, 7);
}

TEST(StateFile, MissingSaysTheContainerDoesNotExist) {
  testing::TempDir tmp;
  auto r = loadState(StateDir(tmp.path(), "ghost"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ENOENT);
  EXPECT_THAT(r.error().str(), HasSubstr("container \"ghost\" does not exist"));
}

TEST(StateFile, CorruptJsonIsAClearError) {
  testing::TempDir tmp;
  StateDir dir(tmp.path(), "web");
  ASSERT_TRUE(sys::mkdirAll(dir.path()).ok());
  for (const char* text : {"{\"id\": \"web\", ", "", "[1,2]", "\"text\"", "\x01\x02"}) {
    ASSERT_TRUE(testing::writeText(dir.stateFile(), text));
    auto r = loadState(dir);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_THAT(r.error().str(), HasSubstr("corrupt state file " + dir.stateFile())) << text;
  }
}

TEST(StateFile, WrongFieldTypesAreAnErrorNotACrash) {
  testing::TempDir tmp;
  StateDir dir(tmp.path(), "web");
  ASSERT_TRUE(sys::mkdirAll(dir.path()).ok());
  for (const char* text : {R"({"pid": "12"})", R"({"bundle": 5})", R"({"initStartTime": -3})",
                           R"({"owner": "root"})", R"({"pid": 1.5})", R"({"annotations": [1]})"}) {
    ASSERT_TRUE(testing::writeText(dir.stateFile(), text));
    auto r = loadState(dir);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_THAT(r.error().str(), HasSubstr("corrupt state file")) << text;
  }
}

TEST(StateJson, HasTheRuntimeSpecFields) {
  State s = sampleState();
  json j = json::parse(stateJson(s, Status::kRunning));
  EXPECT_EQ(j["ociVersion"], kOciVersion);
  EXPECT_EQ(j["id"], "web");
  EXPECT_EQ(j["status"], "running");
  EXPECT_EQ(j["pid"], 4242);
  EXPECT_EQ(j["bundle"], "/srv/bundles/web");
  EXPECT_EQ(j["annotations"]["org.example/a"], "1");
  EXPECT_EQ(j["annotations"]["b"], "two words");
  EXPECT_EQ(j["rootfs"], "/srv/bundles/web/rootfs");
  EXPECT_EQ(j["created"], s.created);
}

TEST(StateJson, PidIsZeroWhenStopped) {
  json j = json::parse(stateJson(sampleState(), Status::kStopped));
  EXPECT_EQ(j["status"], "stopped");
  EXPECT_EQ(j["pid"], 0);
}

TEST(StateJson, EveryStatusHasItsSpecName) {
  const std::pair<Status, const char*> names[] = {{Status::kCreating, "creating"},
                                                  {Status::kCreated, "created"},
                                                  {Status::kRunning, "running"},
                                                  {Status::kPaused, "paused"},
                                                  {Status::kStopped, "stopped"}};
  for (auto [status, name] : names) {
    EXPECT_STREQ(statusName(status), name);
    EXPECT_EQ(json::parse(stateJson(sampleState(), status))["status"], name);
  }
}

TEST(StateJson, EmptyAnnotationsAreAnObject) {
  State s = sampleState();
  s.annotations.clear();
  json j = json::parse(stateJson(s, Status::kCreated));
  EXPECT_TRUE(j["annotations"].is_object());
}

TEST(ProcessStartTime, OfThisProcessIsStable) {
  auto t = processStartTime(::getpid());
  EXPECT_NE(t, 0u);
  EXPECT_EQ(processStartTime(::getpid()), t);
}

TEST(ProcessStartTime, ZeroForNoProcess) {
  EXPECT_EQ(processStartTime(0), 0u);
  EXPECT_EQ(processStartTime(-1), 0u);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) ::_exit(0);
  ASSERT_EQ(::waitpid(pid, nullptr, 0), pid);
  EXPECT_EQ(processStartTime(pid), 0u) << "a reaped process has no start time";
}

TEST(ProcessStartTime, ZeroForAZombie) {
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) ::_exit(0);
  // Wait until it is a zombie, without reaping it.
  siginfo_t info{};
  ASSERT_EQ(::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT), 0);
  EXPECT_EQ(processStartTime(pid), 0u) << "an exited init is not alive";
  ::waitpid(pid, nullptr, 0);
}

TEST(InitAlive, TrueOnlyForTheRecordedProcess) {
  State s;
  s.pid = ::getpid();
  s.initStartTime = processStartTime(s.pid);
  ASSERT_NE(s.initStartTime, 0u);
  EXPECT_TRUE(initAlive(s));

  // The same pid with another start time: the init died and the pid was recycled.
  s.initStartTime += 1;
  EXPECT_FALSE(initAlive(s));

  s.pid = 0;
  s.initStartTime = 0;
  EXPECT_FALSE(initAlive(s)) << "no pid at all is never alive, even with a matching 0";
}

TEST(NowRfc3339, IsUtcWithNanoseconds) {
  std::string now = nowRfc3339();
  EXPECT_TRUE(std::regex_match(now, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z)")))
      << now;
}

}  // namespace
}  // namespace berth::runtime::container
