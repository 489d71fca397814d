// The container process as prepared in the parent and finalized in the
// child: argv/envp, the PATH lookup that makes `create` fail for a missing
// binary, fds marked close-on-exec, signal reset and the cwd.
//
// The ...InChild functions change process-wide state, so they run in a
// forked child that reports through its exit code.
#include "runtime/container/process.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <climits>
#include <cstring>

#include "tests/unit/container/testutil.h"

namespace berth::runtime::container {
namespace {

using ::testing::HasSubstr;

config::Process processWith(std::vector<std::string> args, std::vector<std::string> env) {
  config::Process p;
  p.args = std::move(args);
  p.env = std::move(env);
  return p;
}

std::vector<std::string> strings(const std::vector<char*>& v) {
  std::vector<std::string> out;
  for (char* s : v) {
    if (!s) break;
    out.emplace_back(s);
  }
  return out;
}

TEST(PrepareProcess, BuildsNullTerminatedArgvAndEnvp) {
  auto p = prepareProcess(processWith({"sh", "-c", "echo hi"}, {"PATH=/bin", "A=1"}), std::nullopt);
  ASSERT_TRUE(p.ok()) << p.error().str();
  ASSERT_EQ(p->argv.size(), 4u);
  EXPECT_EQ(p->argv.back(), nullptr);
  EXPECT_EQ(strings(p->argv), (std::vector<std::string>{"sh", "-c", "echo hi"}));
  ASSERT_EQ(p->envp.size(), 3u);
  EXPECT_EQ(p->envp.back(), nullptr);
  EXPECT_EQ(strings(p->envp), (std::vector<std::string>{"PATH=/bin", "A=1"}));
  EXPECT_FALSE(p->seccomp.has_value());
}

TEST(PrepareProcess, ArgvStaysValidWhenThePreparedProcessMoves) {
  // Short strings live inside the std::string object (SSO): argv must point
  // at the strings the PreparedProcess owns, wherever it has moved to.
  auto result =
      prepareProcess(processWith({"a", "bb", std::string(40, 'c')}, {"X=1"}), std::nullopt);
  ASSERT_TRUE(result.ok());
  PreparedProcess moved = std::move(*result);
  PreparedProcess again = std::move(moved);
  EXPECT_EQ(strings(again.argv), (std::vector<std::string>{"a", "bb", std::string(40, 'c')}));
  EXPECT_EQ(again.argv[0], again.process.args[0].data());
  EXPECT_EQ(strings(again.envp), (std::vector<std::string>{"X=1"}));
}

TEST(PrepareProcess, EmptyEnvIsJustTheTerminator) {
  auto p = prepareProcess(processWith({"true"}, {}), std::nullopt);
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p->envp.size(), 1u);
  EXPECT_EQ(p->envp[0], nullptr);
}

TEST(PrepareProcess, AnUnknownCapabilityFailsInTheParent) {
  config::Process proc = processWith({"true"}, {});
  proc.capabilities.emplace();
  proc.capabilities->bounding = {"CAP_CHOWN", "CAP_NOT_A_THING"};
  auto p = prepareProcess(proc, std::nullopt);
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(p.error().str(), HasSubstr("CAP_NOT_A_THING"));
}

TEST(PrepareProcess, AnUnknownRlimitFailsInTheParent) {
  config::Process proc = processWith({"true"}, {});
  proc.rlimits = {{"RLIMIT_BOGUS", 1, 1}};
  auto p = prepareProcess(proc, std::nullopt);
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(p.error().str(), HasSubstr("RLIMIT_BOGUS"));
}

TEST(PrepareProcess, SeccompIsCompiledUpFront) {
  config::Seccomp sc;
  sc.defaultAction = "SCMP_ACT_ALLOW";
  auto ok = prepareProcess(processWith({"true"}, {}), sc);
  ASSERT_TRUE(ok.ok()) << ok.error().str();
  EXPECT_TRUE(ok->seccomp.has_value());

  sc.defaultAction = "SCMP_ACT_NONSENSE";
  auto bad = prepareProcess(processWith({"true"}, {}), sc);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.error().str(), HasSubstr("linux.seccomp"));
}

// A fake PATH: bin1/tool (executable), bin1/plain (not executable),
// bin1/dir (a directory), bin2/plain and bin2/tool (executable).
class FindExecutable : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::mkdir(tmp_.file("bin1").c_str(), 0755), 0);
    ASSERT_EQ(::mkdir(tmp_.file("bin2").c_str(), 0755), 0);
    ASSERT_EQ(::mkdir(tmp_.file("bin1/dir").c_str(), 0755), 0);
    ASSERT_TRUE(testing::writeScript(tmp_.file("bin1/tool"), "exit 0"));
    ASSERT_TRUE(testing::writeText(tmp_.file("bin1/plain"), "data", 0644));
    ASSERT_TRUE(testing::writeText(tmp_.file("bin1/only-here"), "data", 0644));
    ASSERT_TRUE(testing::writeScript(tmp_.file("bin2/plain"), "exit 0"));
    ASSERT_TRUE(testing::writeScript(tmp_.file("bin2/tool"), "exit 0"));
  }
  std::string path() const { return "PATH=" + tmp_.file("bin1") + ":" + tmp_.file("bin2"); }
  sys::Result<std::string> find(const std::string& name, std::vector<std::string> env) {
    auto p = prepareProcess(processWith({name}, std::move(env)), std::nullopt);
    if (!p) return std::move(p).error();
    return findExecutableInChild(*p);
  }
  testing::TempDir tmp_;
};

TEST_F(FindExecutable, FirstMatchInPathWins) {
  auto r = find("tool", {"A=1", path()});
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(*r, tmp_.file("bin1/tool"));
}

TEST_F(FindExecutable, SkipsFilesThatAreNotExecutable) {
  auto r = find("plain", {path()});
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(*r, tmp_.file("bin2/plain"));
}

TEST_F(FindExecutable, NotExecutableAnywhereIsNotFound) {
  auto r = find("only-here", {path()});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().str(), "exec: \"only-here\": executable file not found in $PATH");
}

TEST_F(FindExecutable, ADirectoryIsNotAnExecutable) {
  auto r = find("dir", {path()});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().str(), HasSubstr("executable file not found in $PATH"));
}

TEST_F(FindExecutable, MissingIsTheRuncMessage) {
  auto r = find("no-such-program", {path()});
  ASSERT_FALSE(r.ok());
  // Exactly runc's words, which clients match on.
  EXPECT_EQ(r.error().str(), "exec: \"no-such-program\": executable file not found in $PATH");
}

TEST_F(FindExecutable, AnEmptyPathEntryIsTheCurrentDirectory) {
  std::string before(PATH_MAX, '\0');
  ASSERT_NE(::getcwd(before.data(), before.size()), nullptr);
  ASSERT_EQ(::chdir(tmp_.file("bin1").c_str()), 0);
  auto r = find("tool", {"PATH=" + tmp_.file("bin2") + "-missing:"});
  EXPECT_EQ(::chdir(before.c_str()), 0);
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(*r, "./tool");
}

TEST_F(FindExecutable, APathWithASlashIsUsedAsIs) {
  auto r = find(tmp_.file("bin1/tool"), {path()});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, tmp_.file("bin1/tool"));

  auto missing = find(tmp_.file("bin1/absent"), {path()});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ENOENT);
  EXPECT_THAT(missing.error().str(), HasSubstr("exec: \"" + tmp_.file("bin1/absent") + "\""));
}

TEST_F(FindExecutable, APathWithASlashMustBeAnExecutableFile) {
  for (const char* name : {"bin1/plain", "bin1/dir"}) {
    auto r = find(tmp_.file(name), {path()});
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_EQ(r.error().str(), "exec: \"" + tmp_.file(name) + "\": Permission denied");
  }
}

TEST_F(FindExecutable, WithoutPathTheDefaultPathIsSearched) {
  auto r = find("sh", {"HOME=/"});
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_THAT(*r, ::testing::EndsWith("/sh"));
}

TEST(FindExecutableEmpty, NoArgsIsAnError) {
  PreparedProcess p;
  auto r = findExecutableInChild(p);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().str(), HasSubstr("process.args must not be empty"));
}

bool cloexec(int fd) {
  return (::fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0;
}

TEST(CloseFdsOnExec, MarksEveryFdFromFirstExceptTheKeptOnes) {
  auto result = testing::runInChild([] {
    // fds 40..46 open without CLOEXEC; 39 is below `first`.
    for (int fd = 39; fd <= 46; ++fd) {
      if (::dup2(0, fd) != fd) return 100;
    }
    closeFdsOnExecInChild(40, {43, 41, 12});
    int bad = 0;
    if (cloexec(39)) bad |= 1;  // below first: untouched
    if (!cloexec(40)) bad |= 2;
    if (cloexec(41)) bad |= 4;  // kept
    if (!cloexec(42)) bad |= 8;
    if (cloexec(43)) bad |= 16;  // kept
    if (!cloexec(44) || !cloexec(46)) bad |= 32;
    return bad;
  });
  ASSERT_TRUE(result.exited);
  EXPECT_EQ(result.code, 0) << "bitmask of wrong fds";
}

TEST(CloseFdsOnExec, KeepingTheFirstAndAdjacentFds) {
  auto result = testing::runInChild([] {
    for (int fd = 30; fd <= 34; ++fd) {
      if (::dup2(0, fd) != fd) return 100;
    }
    closeFdsOnExecInChild(30, {30, 31, 31});
    int bad = 0;
    if (cloexec(30) || cloexec(31)) bad |= 1;
    if (!cloexec(32) || !cloexec(34)) bad |= 2;
    return bad;
  });
  ASSERT_TRUE(result.exited);
  EXPECT_EQ(result.code, 0);
}

TEST(CloseFdsOnExec, MarkedFdsDoNotReachAnExecedProgram) {
  testing::TempDir tmp;
  std::string out = tmp.file("fds");
  auto result = testing::runInChild([&] {
    if (::dup2(0, 50) != 50 || ::dup2(0, 51) != 51) return 100;
    closeFdsOnExecInChild(3, {51});
    // `test` is a shell builtin: /proc/self is the exec'ed shell itself.
    std::string cmd =
        "{ test -e /proc/self/fd/50 && echo leaked50; test -e /proc/self/fd/51 && echo kept51; } "
        "> " +
        out;
    ::execl("/bin/sh", "sh", "-c", cmd.c_str(), nullptr);
    return 101;
  });
  ASSERT_TRUE(result.exited);
  EXPECT_EQ(testing::readText(out), "kept51\n");
}

TEST(ResetSignals, RestoresDefaultsAndUnblocks) {
  auto result = testing::runInChild([] {
    ::signal(SIGPIPE, SIG_IGN);
    ::signal(SIGTERM, SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    ::sigprocmask(SIG_BLOCK, &set, nullptr);
    resetSignalsInChild();
    int bad = 0;
    struct sigaction sa {};
    ::sigaction(SIGPIPE, nullptr, &sa);
    if (sa.sa_handler != SIG_DFL) bad |= 1;
    ::sigaction(SIGTERM, nullptr, &sa);
    if (sa.sa_handler != SIG_DFL) bad |= 2;
    sigset_t now;
    ::sigprocmask(SIG_BLOCK, nullptr, &now);
    if (sigismember(&now, SIGUSR1)) bad |= 4;
    return bad;
  });
  ASSERT_TRUE(result.exited);
  EXPECT_EQ(result.code, 0);
}

TEST(ChangeToCwd, ChangesDirectory) {
  testing::TempDir tmp;
  ASSERT_EQ(::mkdir(tmp.file("work").c_str(), 0755), 0);
  std::string target = tmp.file("work");
  auto result = testing::runInChild([&] {
    if (!changeToCwdInChild(target).ok()) return 1;
    char buf[PATH_MAX];
    if (!::getcwd(buf, sizeof(buf))) return 2;
    return target == buf ? 0 : 3;
  });
  ASSERT_TRUE(result.exited);
  EXPECT_EQ(result.code, 0);
}

TEST(ChangeToCwd, AMissingCwdNamesIt) {
  testing::TempDir tmp;
  std::string missing = tmp.file("absent");
  auto r = changeToCwdInChild(missing);  // fails before changing anything
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ENOENT);
  EXPECT_THAT(r.error().str(), HasSubstr("chdir to process.cwd " + missing));
}

TEST(ChangeToCwd, AFileIsNotADirectory) {
  testing::TempDir tmp;
  ASSERT_TRUE(testing::writeText(tmp.file("f"), "x"));
  auto r = changeToCwdInChild(tmp.file("f"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ENOTDIR);
}

}  // namespace
}  // namespace berth::runtime::container
