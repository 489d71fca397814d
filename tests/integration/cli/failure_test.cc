// A create that fails must say why and leave nothing behind: no state dir,
// no cgroup, no process, no mount. And hostile configs must not reach the
// host: cwd symlinks and leaked fds (CVE-2024-21626).
#include <unistd.h>

#include <algorithm>
#include <set>

#include "runtime/sys/fs.h"
#include "tests/integration/cli/harness.h"

namespace berth::tests::cli {
namespace {

constexpr const char* kSecret = "HOST-SECRET-2d41";

class FailedCreateTest : public RuntimeTest {
 protected:
  // Host mount points that mention this test's dirs or the shared rootfs.
  std::multiset<std::string> relevantHostMounts() {
    std::multiset<std::string> mine;
    for (auto& point : mountPoints(readFileOr("/proc/self/mountinfo"))) {
      if (point.find(tempDir()) != std::string::npos ||
          point.find(busyboxFixture().rootfs) != std::string::npos) {
        mine.insert(point);
      }
    }
    return mine;
  }

  // Creates with the current config, expects failure naming `problem`, then
  // checks nothing leaked.
  void expectCreateFailsCleanly(const std::string& problem) {
    auto mountsBefore = relevantHostMounts();
    writeConfig();
    auto r = runtime({"create", "--bundle", bundle(), id()});
    EXPECT_NE(r.exitCode, 0) << r.describe();
    EXPECT_NE(r.err.find(problem), std::string::npos)
        << "the error must name " << problem << "; " << r.describe();
    EXPECT_FALSE(tryState(id()).has_value());
    expectNoTraces(id());
    EXPECT_EQ(relevantHostMounts(), mountsBefore) << "a mount was left on the host";
  }
};

TEST_F(FailedCreateTest, MissingExecutable) {
  setArgs({"no-such-binary-xyz"});
  expectCreateFailsCleanly("no-such-binary-xyz");
}

TEST_F(FailedCreateTest, MissingExecutableByAbsolutePath) {
  setArgs({"/bin/no-such-binary-abs"});
  expectCreateFailsCleanly("/bin/no-such-binary-abs");
}

TEST_F(FailedCreateTest, MissingBindSource) {
  addBindMount(tempDir() + "/missing-source", "/tmp/x");
  expectCreateFailsCleanly(tempDir() + "/missing-source");
}

TEST_F(FailedCreateTest, UnknownRlimit) {
  config()["process"]["rlimits"].push_back({{"type", "RLIMIT_BOGUS"}, {"soft", 1}, {"hard", 1}});
  expectCreateFailsCleanly("RLIMIT_BOGUS");
}

TEST_F(FailedCreateTest, UnknownNamespace) {
  config()["linux"]["namespaces"].push_back({{"type", "bogusns"}});
  expectCreateFailsCleanly("bogusns");
}

TEST_F(FailedCreateTest, WrongTypeInConfig) {
  config()["process"]["user"]["uid"] = "zero";
  expectCreateFailsCleanly("uid");
}

TEST_F(FailedCreateTest, DuplicateIdIsRefused) {
  setArgs({"sleep", "30"});
  ASSERT_NO_FATAL_FAILURE(createContainer(id()));
  auto again = runtime({"create", "--bundle", bundle(), id()});
  EXPECT_NE(again.exitCode, 0) << again.describe();
  EXPECT_EQ(status(id()), "created") << "the existing container is untouched";
}

class HostileConfigTest : public RuntimeTest {
 protected:
  void SetUp() override {
    RuntimeTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    outside_ = tempDir() + "/outside";
    ASSERT_TRUE(sys::mkdirAll(outside_));
    writeFileOrFail(outside_ + "/secret", kSecret);
  }

  // Runs and expects the host secret stays invisible, whether the runtime
  // refuses the config or runs it confined.
  ProcessResult expectConfined() {
    auto r = runContainer();
    EXPECT_EQ(r.out.find(kSecret), std::string::npos)
        << "host file read from the container; " << r.describe();
    EXPECT_EQ(r.err.find(kSecret), std::string::npos) << r.describe();
    return r;
  }

  std::string outside_;
};

// This host has a tmpfs stacked over its "/" (see /proc/self/mountinfo: two
// mounts at "/"). runc's pivot_root(".", ".") + umount2(".", MNT_DETACH)
// removes only the top of that stack, so the host's root file system stays
// mounted over the container's "/" and "cd /; cd .." walks onto the host.
// berth-runtime must leave exactly one mount at "/".
constexpr const char* kRuncStackedRoot =
    "runc 1.1 leaves the host root mounted over / when the host root is itself stacked";

TEST_F(HostileConfigTest, HostRootIsUnreachable) {
  BERTH_SKIP_FOR_RUNC(kRuncStackedRoot);
  setShell("cat /proc/self/mountinfo; echo ---; ls -a /; echo ---; cd / && cd .. && ls -a");
  auto r = expectConfined();
  ASSERT_EQ(r.exitCode, 0) << r.describe();
  auto first = r.out.find("---\n");
  auto second = r.out.find("---\n", first + 4);
  ASSERT_NE(second, std::string::npos) << r.describe();
  auto points = mountPoints(r.out.substr(0, first));
  EXPECT_EQ(std::count(points.begin(), points.end(), "/"), 1)
      << "exactly one mount at /; " << r.out;
  EXPECT_EQ(r.out.substr(first + 4, second - first - 4), r.out.substr(second + 4))
      << "/.. must be / itself";
}

TEST_F(HostileConfigTest, CwdSymlinkResolvesInsideRootfs) {
  BERTH_SKIP_FOR_RUNC(kRuncStackedRoot);
  // A symlink whose target climbs out of the rootfs and names a host dir.
  // Inside the container the ".." stop at its root, so the target is a path
  // in the container's /tmp, never the host's.
  std::string hostile = tempDir() + "/hostile";
  ASSERT_TRUE(sys::mkdirAll(hostile));
  std::string target = "../../../../../../../../.." + outside_;
  ASSERT_EQ(::symlink(target.c_str(), (hostile + "/escape").c_str()), 0);
  addBindMount(hostile, "/tmp/hostile");
  config()["process"]["cwd"] = "/tmp/hostile/escape";
  setShell("pwd; ls; cat secret");
  expectConfined();
  EXPECT_TRUE(sys::pathExists(outside_ + "/secret"));
  EXPECT_EQ(readFileOr(outside_ + "/secret"), kSecret);
}

TEST_F(HostileConfigTest, CwdThroughProcSelfFdCannotEscape) {
  // CVE-2024-21626: a runtime fd (e.g. of the host's /sys/fs/cgroup) still
  // open when the cwd is entered lets /proc/self/fd/N lead to the host.
  std::string climb = "../../../../../../../../.." + outside_ + "/secret";
  for (int fd = 3; fd <= 9; ++fd) {
    SCOPED_TRACE("cwd /proc/self/fd/" + std::to_string(fd));
    config()["process"]["cwd"] = "/proc/self/fd/" + std::to_string(fd);
    setShell("cat " + climb);
    expectConfined();
    runtime({"delete", "--force", id()});
  }
}

TEST_F(HostileConfigTest, NoRuntimeFdLeaksIntoTheContainer) {
  // Only stdio and the directory fd `ls` opens itself.
  setArgs({"ls", "/proc/self/fd"});
  auto r = runContainer();
  EXPECT_EQ(r.exitCode, 0) << r.describe();
  EXPECT_EQ(r.out, "0\n1\n2\n3\n") << r.describe();
}

TEST_F(HostileConfigTest, NoRuntimeFdLeaksIntoExec) {
  setArgs({"sleep", "30"});
  ASSERT_NO_FATAL_FAILURE(startContainer(id()));
  auto r = runtime({"exec", id(), "ls", "/proc/self/fd"});
  EXPECT_EQ(r.exitCode, 0) << r.describe();
  EXPECT_EQ(r.out, "0\n1\n2\n3\n") << r.describe();
}

}  // namespace
}  // namespace berth::tests::cli
