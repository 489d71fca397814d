// The pure decisions of exec/shell: process.json contents, the runtime's
// command line, exit statuses and start errors.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include "agent/streams/exec_plan.h"
#include "tests/unit/agent_streams/fakes.h"

namespace berth::tests::streams {
namespace {

using namespace agent::streams;
namespace config = runtime::config;

ContainerView view() {
  ContainerView v;
  v.id = "abc";
  v.env = {"PATH=/bin", "A=1"};
  v.workdir = "/srv";
  v.shell = "/bin/bash";
  return v;
}

config::Process base() {
  config::Process p;
  p.args = {"init"};
  p.env = {"FROM_CONFIG=1"};
  p.user.uid = 5;
  p.user.gid = 6;
  p.noNewPrivileges = true;
  p.capabilities.emplace();
  p.capabilities->bounding = {"CAP_KILL"};
  return p;
}

TEST(ExecPlan, MergesEnvAndKeepsTheContainersSecuritySettings) {
  ExecRequest r;
  r.cmd = {"sh", "-c", "env"};
  r.env = {"A=2", "B=3", "EMPTY"};
  auto p = buildExecProcess(base(), view(), r, std::nullopt);
  ASSERT_TRUE(p) << p.error().str();
  EXPECT_EQ(p->args, (std::vector<std::string>{"sh", "-c", "env"}));
  EXPECT_EQ(p->env, (std::vector<std::string>{"PATH=/bin", "A=2", "B=3", "EMPTY="}));
  EXPECT_EQ(p->cwd, "/srv");
  EXPECT_EQ(p->user.uid, 5u);
  EXPECT_EQ(p->user.gid, 6u);
  EXPECT_TRUE(p->noNewPrivileges);
  ASSERT_TRUE(p->capabilities);
  EXPECT_EQ(p->capabilities->bounding, (std::vector<std::string>{"CAP_KILL"}));
  EXPECT_FALSE(p->terminal);
  EXPECT_FALSE(p->consoleSize);
}

TEST(ExecPlan, RequestUserWorkdirAndTty) {
  ExecRequest r;
  r.cmd = {"id"};
  r.workdir = "/tmp";
  r.tty = true;
  r.rows = 40;
  r.cols = 100;
  ExecUser u{1000, 1001, {1001, 27}, "/home/app"};
  auto p = buildExecProcess(base(), view(), r, u);
  ASSERT_TRUE(p) << p.error().str();
  EXPECT_EQ(p->user.uid, 1000u);
  EXPECT_EQ(p->user.gid, 1001u);
  EXPECT_EQ(p->user.additionalGids, (std::vector<uint32_t>{1001, 27}));
  EXPECT_EQ(p->cwd, "/tmp");
  EXPECT_TRUE(p->terminal);
  ASSERT_TRUE(p->consoleSize);
  EXPECT_EQ(p->consoleSize->height, 40u);
  EXPECT_EQ(p->consoleSize->width, 100u);
  EXPECT_NE(std::find(p->env.begin(), p->env.end(), "HOME=/home/app"), p->env.end());
  EXPECT_NE(std::find(p->env.begin(), p->env.end(), "TERM=xterm"), p->env.end());
}

TEST(ExecPlan, RejectsAnEmptyCommandAndBadEnv) {
  ExecRequest r;
  EXPECT_FALSE(buildExecProcess(base(), view(), r, std::nullopt));
  r.cmd = {"true"};
  r.env = {"=x"};
  EXPECT_FALSE(buildExecProcess(base(), view(), r, std::nullopt));
}

TEST(ExecPlan, ShellDefaults) {
  pb::ShellStart s;
  s.set_id("abc");
  auto r = shellRequestFrom(s, view());
  EXPECT_EQ(r.cmd, (std::vector<std::string>{"/bin/bash"}));
  EXPECT_TRUE(r.tty);
  EXPECT_TRUE(r.stdin);
  ContainerView plain = view();
  plain.shell.clear();
  EXPECT_EQ(shellRequestFrom(s, plain).cmd, (std::vector<std::string>{"/bin/sh"}));
  s.set_shell("/bin/ash");
  EXPECT_EQ(shellRequestFrom(s, view()).cmd, (std::vector<std::string>{"/bin/ash"}));
}

TEST(ExecPlan, RuntimeCommandLine) {
  RuntimeExecPaths paths{"/usr/bin/berth-runtime", "/proc/self/fd/3", "/proc/self/fd/4", "", ""};
  EXPECT_EQ(runtimeExecArgv(paths, "/run/berth/runtime", "abc"),
            (std::vector<std::string>{"/usr/bin/berth-runtime", "--root", "/run/berth/runtime", "exec",
                                      "--process", "/proc/self/fd/3", "--pid-file", "/proc/self/fd/4",
                                      "abc"}));
  paths.logFile = "/s/log";
  auto logged = runtimeExecArgv(paths, "/r", "abc");
  EXPECT_EQ(std::vector<std::string>(logged.begin() + 3, logged.begin() + 6),
            (std::vector<std::string>{"--log", "/s/log", "exec"}));
  paths.consoleSocket = "/s/c.sock";
  auto tty = runtimeExecArgv(paths, "/r", "abc");
  EXPECT_EQ(std::vector<std::string>(tty.end() - 4, tty.end()),
            (std::vector<std::string>{"--tty", "--console-socket", "/s/c.sock", "abc"}));
}

TEST(ExecPlan, ExitStatusFromTheRuntime) {
  auto exited = [](int code) { return exitStatusFromRuntime(W_EXITCODE(code, 0)); };
  EXPECT_EQ(exited(0).code(), 0);
  EXPECT_EQ(exited(3).code(), 3);
  EXPECT_EQ(exited(3).signal(), 0);
  EXPECT_EQ(exited(130).code(), 130);
  EXPECT_EQ(exited(130).signal(), 2);
  auto killed = exitStatusFromRuntime(W_EXITCODE(0, 9));
  EXPECT_EQ(killed.code(), 137);
  EXPECT_EQ(killed.signal(), 9);
}

TEST(ExecPlan, StartErrorsComeFromTheRuntimeLog) {
  std::string log =
      "2024-01-01T00:00:00Z warning: something\n"
      "2024-01-01T00:00:01Z error: exec: find \"nope\": No such file or directory\n";
  auto e = execStartError("web", log, W_EXITCODE(1, 0));
  EXPECT_EQ(e.code, pb::NOT_FOUND);
  EXPECT_NE(e.message.find("nope"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("web"), std::string::npos) << e.message;

  auto stopped = execStartError("web", "t error: cannot exec in a stopped container\n", W_EXITCODE(1, 0));
  EXPECT_EQ(stopped.code, pb::FAILED_PRECONDITION);
  EXPECT_EQ(stopped.message, "container web is not running");

  auto silent = execStartError("web", "", W_EXITCODE(1, 0));
  EXPECT_EQ(silent.code, pb::INTERNAL);
}

TEST(ExecPlan, StartErrorsComeFromTheRuntimesStderr) {
  std::string err =
      "berth-runtime: warning: something\n"
      "berth-runtime: container \"abc\" is not running: No such process\n";
  EXPECT_EQ(runtimeComplaint(err), "container \"abc\" is not running: No such process");
  EXPECT_EQ(execStartError("web", err, W_EXITCODE(1, 0)).code, pb::FAILED_PRECONDITION);
  auto denied = execStartError("web", "berth-runtime: open /x: Permission denied\n", W_EXITCODE(1, 0));
  EXPECT_EQ(denied.code, pb::PERMISSION_DENIED);
  EXPECT_EQ(denied.message, "exec in container web: open /x: Permission denied");
  EXPECT_EQ(runtimeComplaint("berth-runtime: debug: x\n"), "");
}

TEST(ExecPlan, ACommandThatCannotRunIsAnExitCodeLikeDocker) {
  std::string notFound = "berth-runtime: exec: \"/no/such\": No such file or directory\n";
  EXPECT_EQ(commandFailureExitCode(W_EXITCODE(127, 0), notFound), 127);
  EXPECT_EQ(commandFailureExitCode(W_EXITCODE(126, 0), "berth-runtime: exec: \"/etc\": Permission denied\n"),
            126);
  // Without the runtime's complaint, 127 is the runtime binary failing to start.
  EXPECT_EQ(commandFailureExitCode(W_EXITCODE(127, 0), ""), std::nullopt);
  EXPECT_EQ(commandFailureExitCode(W_EXITCODE(1, 0), notFound), std::nullopt);
  EXPECT_EQ(commandFailureExitCode(W_EXITCODE(0, 9), notFound), std::nullopt);
}

}  // namespace
}  // namespace berth::tests::streams
