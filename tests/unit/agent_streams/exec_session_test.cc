// runExec/runShell with a stand-in for berth-runtime (a shell script that
// takes the same command line), so the stdio plumbing, exit codes, start
// errors and cancellation are tested without root or a container.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "agent/streams/exec_session.h"
#include "runtime/sys/fs.h"
#include "tests/unit/agent_streams/fakes.h"

namespace berth::tests::streams {
namespace {

using namespace std::chrono_literals;

class ExecSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = "/tmp/berth-unit-exec-" + std::string(info->name()) + "-" + std::to_string(::getpid());
    ASSERT_TRUE(sys::mkdirAll(dir_ + "/state/rt1"));
    ASSERT_TRUE(sys::writeFileReplace(dir_ + "/state/rt1/config.json",
                               R"({"ociVersion":"1.0.2","root":{"path":"rootfs"},
                                   "process":{"args":["init"],"cwd":"/","env":["PATH=/bin"],
                                              "user":{"uid":0,"gid":0},"noNewPrivileges":true}})"));
    ContainerView v;
    v.id = "c1";
    v.name = "web";
    v.runtimeId = "rt1";
    v.stateRoot = dir_ + "/state";
    v.state = pb::STATE_RUNNING;
    v.env = {"PATH=/bin", "A=1"};
    access_.views["c1"] = v;
    tools_.runtimeBinary = dir_ + "/fake-runtime";
    tools_.scratchParent = dir_;
  }
  void TearDown() override { (void)sys::removeAll(dir_); }

  // The fake runtime parses the real command line, keeps a copy of the
  // process.json, then runs `body` (which may use $pidfile).
  void fakeRuntime(const std::string& body) {
    std::string script = "#!/bin/sh\n"
                         "while [ $# -gt 0 ]; do case $1 in\n"
                         "  --log) log=$2; shift;; --pid-file) pidfile=$2; shift;;\n"
                         "  --process) process=$2; shift;; --root) shift;;\n"
                         "esac; shift; done\n"
                         "cp \"$process\" " + dir_ + "/process.json\n" + body + "\n";
    ASSERT_TRUE(sys::writeFileReplace(tools_.runtimeBinary, script));
    ASSERT_EQ(::chmod(tools_.runtimeBinary.c_str(), 0755), 0);
  }

  pb::ExecStart request(std::vector<std::string> cmd) {
    pb::ExecStart r;
    r.set_id("c1");
    for (auto& c : cmd) r.add_cmd(c);
    return r;
  }

  std::string dir_;
  FakeAccess access_;
  agent::streams::ExecTools tools_;
  FakeBidi stream_;
};

size_t openFds() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

TEST_F(ExecSessionTest, OutputOnBothStreamsAndTheExitCode) {
  fakeRuntime("echo $$ > \"$pidfile\"; echo out; echo err >&2; exit 3");
  size_t fdsBefore = openFds();
  auto r = agent::streams::runExec(access_, tools_, request({"x"}), stream_);
  EXPECT_EQ(openFds(), fdsBefore) << "an fd leaked";
  ASSERT_TRUE(r) << r.error().str();
  EXPECT_EQ(r->code(), 3);
  EXPECT_EQ(r->signal(), 0);
  EXPECT_EQ(stream_.output(pb::OUTPUT_STDOUT), "out\n");
  EXPECT_EQ(stream_.output(pb::OUTPUT_STDERR), "err\n");
}

TEST_F(ExecSessionTest, TheProcessJsonCarriesTheRequest) {
  fakeRuntime("echo $$ > \"$pidfile\"");
  auto req = request({"sh", "-c", "env"});
  req.add_env("A=2");
  req.set_workdir("/etc");
  auto r = agent::streams::runExec(access_, tools_, req, stream_);
  ASSERT_TRUE(r) << r.error().str();
  auto text = sys::readFile(dir_ + "/process.json");
  ASSERT_TRUE(text);
  auto p = nlohmann::json::parse(*text);
  EXPECT_EQ(p["args"], nlohmann::json({"sh", "-c", "env"}));
  EXPECT_EQ(p["env"], nlohmann::json({"PATH=/bin", "A=2"}));
  EXPECT_EQ(p["cwd"], "/etc");
  EXPECT_EQ(p["noNewPrivileges"], true);
}

TEST_F(ExecSessionTest, StdinReachesTheProcessAndCloseStdinEndsIt) {
  fakeRuntime("echo $$ > \"$pidfile\"; exec cat");
  auto req = request({"cat"});
  req.set_stdin(true);
  stream_.pushStdin("hello ");
  stream_.pushStdin("world\n");
  stream_.pushCloseStdin();
  auto r = agent::streams::runExec(access_, tools_, req, stream_);
  ASSERT_TRUE(r) << r.error().str();
  EXPECT_EQ(r->code(), 0);
  EXPECT_EQ(stream_.output(), "hello world\n");
}

TEST_F(ExecSessionTest, SignalsAreForwarded) {
  fakeRuntime("echo $$ > \"$pidfile\"; trap 'echo got-term; exit 7' TERM; echo ready; "
              "while :; do sleep 0.05; done");
  stream_.onOutput = [&](const pb::ExecOutput& o) {
    if (o.data().find("ready") != std::string::npos) stream_.pushSignal(SIGTERM);
  };
  auto r = agent::streams::runExec(access_, tools_, request({"x"}), stream_);
  ASSERT_TRUE(r) << r.error().str();
  EXPECT_EQ(r->code(), 7);
  EXPECT_EQ(stream_.output(), "ready\ngot-term\n");
}

TEST_F(ExecSessionTest, ARuntimeFailureIsTheCallsErrorNotOutput) {
  fakeRuntime("echo 'berth-runtime: warning: w' >&2; "
              "echo 'berth-runtime: open /state/nope: No such file or directory' >&2; exit 1");
  auto r = agent::streams::runExec(access_, tools_, request({"nope"}), stream_);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, pb::NOT_FOUND);
  EXPECT_NE(r.error().message.find("/state/nope"), std::string::npos) << r.error().message;
  EXPECT_EQ(stream_.output(pb::OUTPUT_STDERR), "");
}

TEST_F(ExecSessionTest, ACommandNotFoundExits127WithTheReasonOnStderr) {
  fakeRuntime("echo 'berth-runtime: exec: \"/no/such\": No such file or directory' >&2; exit 127");
  auto r = agent::streams::runExec(access_, tools_, request({"/no/such"}), stream_);
  ASSERT_TRUE(r) << r.error().str();
  EXPECT_EQ(r->code(), 127);
  EXPECT_EQ(stream_.output(pb::OUTPUT_STDERR), "exec: \"/no/such\": No such file or directory\n");

  FakeBidi tty;
  fakeRuntime("echo 'berth-runtime: exec: \"/etc\": Permission denied' >&2; exit 126");
  pb::ShellStart shell;
  shell.set_id("c1");
  shell.set_shell("/etc");
  auto s = agent::streams::runShell(access_, tools_, shell, tty);
  ASSERT_TRUE(s) << s.error().str();
  EXPECT_EQ(s->code(), 126);
  EXPECT_EQ(tty.output(pb::OUTPUT_STDERR), "exec: \"/etc\": Permission denied\n");
}

TEST_F(ExecSessionTest, NothingIsWrittenToDiskWithoutATty) {
  fakeRuntime("echo $$ > \"$pidfile\"; ls " + dir_ + " > " + dir_ + "/listing");
  auto r = agent::streams::runExec(access_, tools_, request({"x"}), stream_);
  ASSERT_TRUE(r) << r.error().str();
  auto listing = sys::readFile(dir_ + "/listing");
  ASSERT_TRUE(listing);
  EXPECT_EQ(listing->find("berth-exec-"), std::string::npos) << *listing;
}

TEST_F(ExecSessionTest, ClientGoneKillsTheProcessAndLeavesNothing) {
  fakeRuntime("echo $$ > \"$pidfile\"; echo $$ > " + dir_ + "/pid; echo started; exec sleep 100");
  stream_.onOutput = [&](const pb::ExecOutput&) { stream_.cancel(); };
  auto start = std::chrono::steady_clock::now();
  size_t fdsBefore = openFds();
  auto r = agent::streams::runExec(access_, tools_, request({"x"}), stream_);
  EXPECT_EQ(openFds(), fdsBefore) << "an fd leaked";
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, pb::CANCELLED);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  auto pid = sys::readFile(dir_ + "/pid");
  ASSERT_TRUE(pid);
  // Reaped, not a zombie: kill(0) fails.
  EXPECT_NE(::kill(std::stoi(*pid), 0), 0);
  // The private scratch directory is gone.
  int left = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    if (entry.path().filename().string().rfind("berth-exec-", 0) == 0) ++left;
  }
  EXPECT_EQ(left, 0);
}

TEST_F(ExecSessionTest, NotRunningIsAFailedPrecondition) {
  access_.views["c1"].state = pb::STATE_EXITED;
  auto r = agent::streams::runExec(access_, tools_, request({"true"}), stream_);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, pb::FAILED_PRECONDITION);
  EXPECT_EQ(r.error().message, "container c1 is not running");

  pb::ShellStart shell;
  shell.set_id("c1");
  auto s = agent::streams::runShell(access_, tools_, shell, stream_);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, pb::FAILED_PRECONDITION);
}

TEST_F(ExecSessionTest, UnknownContainerIsNotFound) {
  auto req = request({"true"});
  req.set_id("zzz");
  auto r = agent::streams::runExec(access_, tools_, req, stream_);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, pb::NOT_FOUND);
}

}  // namespace
}  // namespace berth::tests::streams
