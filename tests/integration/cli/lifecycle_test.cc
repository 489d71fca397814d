// The OCI lifecycle driven verb by verb: create, start, state, list, ps,
// kill, pause/resume, update, delete, as containerd or podman drive it.
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <thread>

#include "runtime/sys/fs.h"
#include "tests/integration/cli/harness.h"

namespace berth::tests::cli {
namespace {

// Container scripts that coordinate with the test through the ctl dir.
constexpr const char* kWaitForGo =
    "echo up > /tmp/ctl/started; while [ ! -e /tmp/ctl/go ]; do sleep 0.02; done";
constexpr const char* kCounter =
    "i=0; while :; do i=$((i+1)); echo $i > /tmp/ctl/counter; sleep 0.02; done";
// pid 1 of a pid namespace ignores signals it has no handler for: the trap
// makes TERM observable.
// Announces (in the shared ctl dir) that the trap is installed: a TERM sent
// before that would hit pid 1 without a handler and be dropped.
constexpr const char* kExitOnTerm =
    "trap 'exit 0' TERM; touch /tmp/ctl/trap-ready; while :; do sleep 0.02; done";

class LifecycleTest : public RuntimeTest {
 protected:
  int counter() {
    std::string text = readFileOr(ctlDir() + "/counter");
    return text.empty() ? -1 : std::stoi(text);
  }
};

std::string cmdlineOf(pid_t pid) {
  std::string raw = readFileOr("/proc/" + std::to_string(pid) + "/cmdline");
  std::replace(raw.begin(), raw.end(), '\0', ' ');
  return raw;
}

TEST_F(LifecycleTest, CreateStartStopDelete) {
  setShell(kWaitForGo);
  std::string pidFile = tempDir() + "/init.pid";
  ASSERT_NO_FATAL_FAILURE(createContainer(id(), {"--pid-file", pidFile}));

  Json created = state(id());
  EXPECT_EQ(created["status"], "created");
  EXPECT_EQ(created["id"], id());
  EXPECT_EQ(created["bundle"], bundle());
  EXPECT_FALSE(created.value("ociVersion", "").empty()) << created.dump();
  ASSERT_TRUE(created["pid"].is_number_integer()) << created.dump();
  pid_t pid = created["pid"].get<pid_t>();
  EXPECT_GT(pid, 0);
  EXPECT_EQ(readFileOr(pidFile), std::to_string(pid)) << "--pid-file holds the init pid";
  // Created means set up but not started: the user program has not run.
  EXPECT_TRUE(processAlive(pid));
  EXPECT_EQ(cmdlineOf(pid).rfind("sh ", 0), std::string::npos) << cmdlineOf(pid);
  EXPECT_FALSE(sys::pathExists(ctlDir() + "/started"));

  auto started = runtime({"start", id()});
  ASSERT_EQ(started.exitCode, 0) << started.describe();
  EXPECT_TRUE(waitUntil([&] { return sys::pathExists(ctlDir() + "/started"); }));
  EXPECT_EQ(status(id()), "running");
  EXPECT_EQ(cmdlineOf(pid).rfind("sh -c ", 0), 0u) << cmdlineOf(pid);

  writeFileOrFail(ctlDir() + "/go", "");
  EXPECT_TRUE(waitForStatus(id(), "stopped")) << status(id());

  auto deleted = runtime({"delete", id()});
  EXPECT_EQ(deleted.exitCode, 0) << deleted.describe();
  auto after = runtime({"state", id()});
  EXPECT_NE(after.exitCode, 0) << "state of a deleted container must fail; " << after.describe();
  expectNoTraces(id());
}

TEST_F(LifecycleTest, StartTwiceFails) {
  setArgs({"sleep", "30"});
  ASSERT_NO_FATAL_FAILURE(startContainer(id()));
  auto again = runtime({"start", id()});
  EXPECT_NE(again.exitCode, 0) << again.describe();
}

TEST_F(LifecycleTest, StateOfUnknownContainerFails) {
  auto r = runtime({"state", id() + "-nonexistent"});
  EXPECT_NE(r.exitCode, 0) << r.describe();
  EXPECT_FALSE(r.err.empty());
}

TEST_F(LifecycleTest, ListShowsTheContainer) {
  setArgs({"sleep", "30"});
  ASSERT_NO_FATAL_FAILURE(startContainer(id()));
  auto table = runtime({"list"});
  ASSERT_EQ(table.exitCode, 0) << table.describe();
  EXPECT_NE(table.out.find("ID"), std::string::npos) << table.out;
  auto line = table.out.find(id());
  ASSERT_NE(line, std::string::npos) << table.out;
  EXPECT_NE(table.out.find("running", line), std::string::npos) << table.out;

  auto json = runtime({"list", "--format", "json"});
  ASSERT_EQ(json.exitCode, 0) << json.describe();
  Json list = Json::parse(json.out, nullptr, false);
  ASSERT_TRUE(list.is_array()) << json.out;
  ASSERT_EQ(list.size(), 1u) << json.out;
  EXPECT_EQ(list[0]["id"], id());
  EXPECT_EQ(list[0]["status"], "running");
  EXPECT_EQ(list[0]["pid"], state(id())["pid"]);
}

TEST_F(LifecycleTest, PsListsThePids) {
  setShell("sleep 30 & sleep 30");
  ASSERT_NO_FATAL_FAILURE(startContainer(id()));
  pid_t init = state(id())["pid"].get<pid_t>();
  Json pids;
  // The background child may still be forking when start returns.
  EXPECT_TRUE(waitUntil([&] {
    auto r = runtime({"ps", "--format", "json", id()});
    pids = Json::parse(r.out, nullptr, false);
    return r.exitCode == 0 && pids.is_array() && pids.size() >= 2;
  })) << pids.dump();
  ASSERT_TRUE(pids.is_array());
  EXPECT_NE(std::find(pids.begin(), pids.end(), Json(init)), pids.end()) << pids.dump();
}

TEST_F(LifecycleTest, KillAcceptsEverySignalSpelling) {
  setShell(kExitOnTerm);
  for (const char* signal : {"TERM", "SIGTERM", "15"}) {
    std::string cid = newId(signal);
    ::unlink((ctlDir() + "/trap-ready").c_str());
    ASSERT_NO_FATAL_FAILURE(startContainer(cid));
    ASSERT_TRUE(waitUntil([&] { return sys::pathExists(ctlDir() + "/trap-ready"); }));
    auto r = runtime({"kill", cid, signal});
    EXPECT_EQ(r.exitCode, 0) << signal << ": " << r.describe();
    EXPECT_TRUE(waitForStatus(cid, "stopped")) << signal << ": " << status(cid);
    auto d = runtime({"delete", cid});
    EXPECT_EQ(d.exitCode, 0) << d.describe();
  }
}

TEST_F(LifecycleTest, KillDefaultsToSigterm) {
  setShell(kExitOnTerm);
  ASSERT_NO_FATAL_FAILURE(startContainer(id()));
  ASSERT_TRUE(waitUntil([&] { return sys::pathExists(ctlDir() + "/trap-ready"); }));
  auto r = runtime({"kill", id()});
  EXPECT_EQ(r.exitCode, 0) << r.describe();
  EXPECT_TRUE(waitForStatus(id(), "stopped")) << status(id());
}

TEST_F(LifecycleTest, KillAllReachesEveryProcess) {
  // pid 1 ignores TERM (no handler); its child does not. Only --all reaches the child.
  setShell("sleep 30 & wait; touch /tmp/ctl/child-gone; exec sleep 30");
  ASSERT_NO_FATAL_FAILURE(startContainer(id()));
  ASSERT_TRUE(waitUntil([&] { return pidsInCgroup(cgroupsPathOf(id())).size() >= 2; }));

  auto initOnly = runtime({"kill", id(), "TERM"});
  EXPECT_EQ(initOnly.exitCode, 0) << initOnly.describe();
  std::this_thread::sleep_for(200ms);
  EXPECT_FALSE(sys::pathExists(ctlDir() + "/child-gone"))
      << "without --all only pid 1 is signalled";

  auto all = runtime({"kill", "--all", id(), "TERM"});
  EXPECT_EQ(all.exitCode, 0) << all.describe();
  EXPECT_TRUE(waitUntil([&] { return sys::pathExists(ctlDir() + "/child-gone"); }));
  EXPECT_EQ(status(id()), "running");
}

TEST_F(LifecycleTest, DeleteForceStopsARunningContainer) {
  setArgs({"sleep", "30"});
  ASSERT_NO_FATAL_FAILURE(startContainer(id()));
  pid_t pid = state(id())["pid"].get<pid_t>();

  auto plain = runtime({"delete", id()});
  EXPECT_NE(plain.exitCode, 0) << "delete of a running container needs --force; "
                               << plain.describe();
  EXPECT_EQ(status(id()), "running");

  auto forced = runtime({"delete", "--force", id()});
  EXPECT_EQ(forced.exitCode, 0) << forced.describe();
  EXPECT_FALSE(tryState(id()).has_value());
  EXPECT_TRUE(waitUntil([&] { return !processAlive(pid); }));
  expectNoTraces(id());
}

TEST_F(LifecycleTest, PauseFreezesAndResumeThaws) {
  setShell(kCounter);
  ASSERT_NO_FATAL_FAILURE(startContainer(id()));
  ASSERT_TRUE(waitUntil([&] { return counter() > 0; }));

  auto paused = runtime({"pause", id()});
  ASSERT_EQ(paused.exitCode, 0) << paused.describe();
  EXPECT_EQ(status(id()), "paused");
  int frozen = counter();
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(counter(), frozen) << "a paused container makes no progress";

  auto resumed = runtime({"resume", id()});
  ASSERT_EQ(resumed.exitCode, 0) << resumed.describe();
  EXPECT_EQ(status(id()), "running");
  EXPECT_TRUE(waitUntil([&] { return counter() > frozen; })) << "a resumed container progresses";
}

TEST_F(LifecycleTest, PausedContainerCanBeForceDeleted) {
  setShell(kCounter);
  ASSERT_NO_FATAL_FAILURE(startContainer(id()));
  ASSERT_EQ(runtime({"pause", id()}).exitCode, 0);
  auto forced = runtime({"delete", "--force", id()});
  EXPECT_EQ(forced.exitCode, 0) << forced.describe();
  expectNoTraces(id());
}

TEST_F(LifecycleTest, UpdateChangesHostCgroupLimits) {
  setArgs({"sleep", "30"});
  ASSERT_NO_FATAL_FAILURE(startContainer(id()));
  std::string memory = cgroupDir("memory", cgroupsPathOf(id())) + "/memory.limit_in_bytes";
  std::string pids = cgroupDir("pids", cgroupsPathOf(id())) + "/pids.max";

  auto flags = runtime({"update", "--memory", "64M", "--pids-limit", "20", id()});
  ASSERT_EQ(flags.exitCode, 0) << flags.describe();
  EXPECT_EQ(readFileOr(memory), std::to_string(64 << 20) + "\n");
  EXPECT_EQ(readFileOr(pids), "20\n");

  std::string resources = tempDir() + "/resources.json";
  writeFileOrFail(resources, R"({"memory": {"limit": 50331648}, "pids": {"limit": 30}})");
  auto file = runtime({"update", "-r", resources, id()});
  ASSERT_EQ(file.exitCode, 0) << file.describe();
  EXPECT_EQ(readFileOr(memory), "50331648\n");
  EXPECT_EQ(readFileOr(pids), "30\n");
  EXPECT_EQ(status(id()), "running");
}

}  // namespace
}  // namespace berth::tests::cli
