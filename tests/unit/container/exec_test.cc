// exec's exit code for a command that cannot be run (runtime/container/exec.h):
// the errors findExecutableInChild and execProcessInChild give become 127 or
// 126 as in a shell; every other failure stays a plain failure.
#include <gtest/gtest.h>

#include <cerrno>

#include "runtime/container/exec.h"

namespace berth::runtime::container {
namespace {

TEST(CommandFailureExitCode, NotFoundIs127) {
  EXPECT_EQ(commandFailureExitCode(sys::Error(ENOENT, "exec: \"/no/such\"")), 127);
  EXPECT_EQ(commandFailureExitCode(sys::Error::invalid("exec: \"x\": executable file not found in $PATH")), 127);
  EXPECT_EQ(commandFailureExitCode(sys::Error(ENOENT, "exec \"/lib/missing-interpreter\"")), 127);
}

TEST(CommandFailureExitCode, NotExecutableIs126) {
  EXPECT_EQ(commandFailureExitCode(sys::Error(EACCES, "exec: \"/etc/passwd\"")), 126);
  EXPECT_EQ(commandFailureExitCode(sys::Error(ENOEXEC, "exec \"/bin/garbage\"")), 126);
}

TEST(CommandFailureExitCode, OtherFailuresAreNotTheCommands) {
  EXPECT_EQ(commandFailureExitCode(sys::Error(ENOENT, "chdir to process.cwd /nope")), 0);
  EXPECT_EQ(commandFailureExitCode(sys::Error(ESRCH, "container \"a\" is not running")), 0);
  EXPECT_EQ(commandFailureExitCode(sys::Error(ENOENT, "open /proc/1/ns/net: exec: \"x\"")), 0);
}

}  // namespace
}  // namespace berth::runtime::container
