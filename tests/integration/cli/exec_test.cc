// `exec`: a new process inside a running container, in its namespaces and
// cgroup, with the options containerd and podman pass.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

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

TEST_F(ExecTest, CommandNotFoundExits127AndNotExecutable126) {
  auto missing = exec({id(), "/no/such"});
  EXPECT_EQ(missing.exitCode, 127) << missing.describe();
  EXPECT_NE(missing.err.find("/no/such"), std::string::npos) << missing.describe();
  auto notInPath = exec({id(), "no-such-command"});
  EXPECT_EQ(notInPath.exitCode, 127) << notInPath.describe();
  auto notExecutable = exec({id(), "/etc/passwd"});
  EXPECT_EQ(notExecutable.exitCode, 126) << notExecutable.describe();
  auto directory = exec({id(), "/etc"});
  EXPECT_EQ(directory.exitCode, 126) << directory.describe();
}

// Writes one byte through `path`; the errno when the kernel refuses.
int writeThrough(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  int err = ::write(fd, "x", 1) == 1 ? 0 : errno;
  ::close(fd);
  return err;
}

// CVE-2019-5736: the runtime process of an exec, and the child it clones
// into the container (the same image until its execve), must not lead to a
// writable runtime binary through /proc/<pid>/exe: neither while it runs nor
// through an O_PATH fd kept until it is gone (when ETXTBSY no longer helps).
TEST_F(ExecTest, RuntimeBinaryCannotBeOverwrittenThroughProcExe) {
  BERTH_SKIP_FOR_RUNC("runc's parent process is never visible in the container; runc init protects itself");
  // A copy of the runtime, so a failing test corrupts nothing else.
  std::string copy = tempDir() + "/runtime-copy";
  std::string original = readFileOr(runtimePath());
  ASSERT_FALSE(original.empty());
  writeFileOrFail(copy, original, 0755);
  std::vector<std::string> args = {copy, "--root", stateRoot(), "exec", id(), "sleep", "30"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  auto reap = [&] {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  };
  // Started: the runtime re-executed itself and waits for `sleep`.
  if (!waitUntil([&] { return pidsInCgroup(cgroupsPathOf(id())).size() == 2; })) {
    reap();
    FAIL() << "the exec'd process did not appear in the container's cgroup";
  }
  std::string exe = "/proc/" + std::to_string(pid) + "/exe";
  int kept = ::open(exe.c_str(), O_PATH | O_CLOEXEC);
  int whileRunning = writeThrough(exe);
  reap();
  ASSERT_GE(kept, 0) << "open " << exe << ": " << std::strerror(errno);
  int afterExit = writeThrough("/proc/self/fd/" + std::to_string(kept));
  ::close(kept);
  // EROFS: a read-only mount; EPERM: a sealed memfd. While the binary runs
  // the kernel checks ETXTBSY first; once it no longer runs, only the
  // protection stands between the kept fd and the file.
  EXPECT_TRUE(whileRunning == EROFS || whileRunning == EPERM || whileRunning == ETXTBSY)
      << std::strerror(whileRunning);
  EXPECT_TRUE(afterExit == EROFS || afterExit == EPERM) << std::strerror(afterExit);
  EXPECT_TRUE(readFileOr(copy) == original) << "the runtime binary was modified";
}

TEST_F(ExecTest, IntoStoppedContainerFails) {
  ASSERT_EQ(runtime({"kill", id(), "KILL"}).exitCode, 0);
  ASSERT_TRUE(waitForStatus(id(), "stopped"));
  auto r = exec({id(), "true"});
  EXPECT_NE(r.exitCode, 0) << r.describe();
}

}  // namespace
}  // namespace berth::tests::cli
