// `exec`: a new process inside a running container, in its namespaces and
// cgroup, with the options containerd and podman pass.
#include <algorithm>

#include "runtime/sys/fs.h"
#include "tests/integration/cli/harness.h"

namespace berth::tests::cli {
namespace {

class ExecTest : public RuntimeTest {
 protected:
  void SetUp() override {
    RuntimeTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    config()["hostname"] = "exec-host";
    setArgs({"sleep", "30"});
    ASSERT_NO_FATAL_FAILURE(startContainer(id()));
  }

  ProcessResult exec(const std::vector<std::string>& args) {
    std::vector<std::string> full = {"exec"};
    full.insert(full.end(), args.begin(), args.end());
    return runtime(full);
  }
};

TEST_F(ExecTest, RunsInTheContainersNamespaces) {
  // On this host runc leaves the host root mounted over the container's "/"
  // (see HostileConfigTest.HostRootIsUnreachable); setns() into that mount
  // namespace then makes the topmost mount, the host's root, the exec'd
  // process's root, so it reads the host's /proc/1.
  BERTH_SKIP_FOR_RUNC("exec lands on the host root left stacked over /");
  auto r = exec({id(), "sh", "-c", "echo hi; hostname; tr '\\0' ' ' < /proc/1/cmdline"});
  EXPECT_EQ(r.exitCode, 0) << r.describe();
  EXPECT_EQ(r.out, "hi\nexec-host\nsleep 30 ") << r.describe();
}

TEST_F(ExecTest, RunsInTheContainersCgroup) {
  auto r = exec({"--detach", id(), "sleep", "30"});
  ASSERT_EQ(r.exitCode, 0) << r.describe();
  EXPECT_TRUE(waitUntil([&] { return pidsInCgroup(cgroupsPathOf(id())).size() == 2; }));
}

TEST_F(ExecTest, ExitCodePassesThrough) {
  auto r = exec({id(), "sh", "-c", "exit 3"});
  EXPECT_EQ(r.exitCode, 3) << r.describe();
}

TEST_F(ExecTest, EnvCwdAndUser) {
  auto env = exec({"--env", "FOO=bar baz", id(), "sh", "-c", "echo $FOO"});
  EXPECT_EQ(env.out, "bar baz\n") << env.describe();

  auto cwd = exec({"--cwd", "/etc", id(), "pwd"});
  EXPECT_EQ(cwd.out, "/etc\n") << cwd.describe();

  auto user = exec({"--user", "1000:1000", id(), "sh", "-c", "id -u; id -g"});
  EXPECT_EQ(user.out, "1000\n1000\n") << user.describe();
}

TEST_F(ExecTest, ProcessJson) {
  Json process = {{"terminal", false},
                  {"user", {{"uid", 0}, {"gid", 0}}},
                  {"args", {"sh", "-c", "echo $X; pwd"}},
                  {"env", {"PATH=/bin:/usr/bin", "X=from-json"}},
                  {"cwd", "/etc"}};
  std::string path = tempDir() + "/process.json";
  writeFileOrFail(path, process.dump());
  auto r = exec({"--process", path, id()});
  EXPECT_EQ(r.exitCode, 0) << r.describe();
  EXPECT_EQ(r.out, "from-json\n/etc\n") << r.describe();
}

TEST_F(ExecTest, DetachWritesPidFile) {
  std::string pidFile = tempDir() + "/exec.pid";
  auto start = std::chrono::steady_clock::now();
  auto r = exec({"--detach", "--pid-file", pidFile, id(), "sleep", "30"});
  ASSERT_EQ(r.exitCode, 0) << r.describe();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  std::string text = readFileOr(pidFile);
  ASSERT_FALSE(text.empty()) << "--pid-file not written";
  pid_t pid = std::stoi(text);
  EXPECT_TRUE(processAlive(pid));
  auto members = pidsInCgroup(cgroupsPathOf(id()));
  EXPECT_NE(std::find(members.begin(), members.end(), pid), members.end());
  EXPECT_NE(pid, state(id())["pid"].get<pid_t>());
}

TEST_F(ExecTest, NonexistentCommandFails) {
  auto r = exec({id(), "no-such-command"});
  EXPECT_NE(r.exitCode, 0) << r.describe();
  EXPECT_NE(r.err.find("no-such-command"), std::string::npos) << r.describe();
  EXPECT_EQ(status(id()), "running");
}

TEST_F(ExecTest, IntoStoppedContainerFails) {
  ASSERT_EQ(runtime({"kill", id(), "KILL"}).exitCode, 0);
  ASSERT_TRUE(waitForStatus(id(), "stopped"));
  auto r = exec({id(), "true"});
  EXPECT_NE(r.exitCode, 0) << r.describe();
}

}  // namespace
}  // namespace berth::tests::cli
