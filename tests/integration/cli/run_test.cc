// `run` as a user sees it: the container's exit code and output come back
// through the runtime, and stdio is the runtime's own when terminal is false.
#include "tests/integration/cli/harness.h"

namespace berth::tests::cli {
namespace {

class RunTest : public RuntimeTest {};

TEST_F(RunTest, ReturnsTheContainerExitCode) {
  setShell("echo hello from $0; exit 7");
  auto r = runContainer();
  EXPECT_EQ(r.exitCode, 7) << r.describe();
  EXPECT_EQ(r.out, "hello from sh\n") << r.describe();
}

TEST_F(RunTest, SuccessIsZero) {
  setArgs({"true"});
  auto r = runContainer();
  EXPECT_EQ(r.exitCode, 0) << r.describe();
}

TEST_F(RunTest, StdioIsInheritedWithoutTerminal) {
  // stdin, stdout and stderr are the runtime's own pipes, passed through unchanged.
  setShell("read line; echo \"out:$line\"; echo \"err:$line\" >&2");
  auto r = runContainer({.input = "ping\n"});
  EXPECT_EQ(r.exitCode, 0) << r.describe();
  EXPECT_EQ(r.out, "out:ping\n") << r.describe();
  EXPECT_NE(r.err.find("err:ping\n"), std::string::npos) << r.describe();
}

TEST_F(RunTest, ContainerIsGoneAfterForegroundRun) {
  setArgs({"true"});
  auto r = runContainer();
  ASSERT_EQ(r.exitCode, 0) << r.describe();
  EXPECT_FALSE(tryState(id()).has_value()) << "run (without --detach) deletes the container";
}

TEST_F(RunTest, DetachReturnsAtOnceAndKeepsRunning) {
  setArgs({"sleep", "30"});
  writeConfig();
  auto start = std::chrono::steady_clock::now();
  auto r = runtime({"run", "--detach", "--bundle", bundle(), id()});
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(r.exitCode, 0) << r.describe();
  EXPECT_LT(took, 5s);
  EXPECT_EQ(status(id()), "running");
  auto s = state(id());
  ASSERT_TRUE(s.contains("pid"));
  EXPECT_TRUE(processAlive(s["pid"].get<pid_t>()));
}

}  // namespace
}  // namespace berth::tests::cli
