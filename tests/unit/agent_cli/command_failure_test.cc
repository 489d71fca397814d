// The exit codes of a command that cannot be run (127 missing, 126 not
// executable), from berthd's error messages, as docker gives them.
#include "agent/cli/command_failure.h"

#include <gtest/gtest.h>

namespace berth::agent::cli {
namespace {

TEST(CommandFailure, MissingCommandIs127) {
  EXPECT_EQ(commandFailureExitCode("start container 1f2e: exec: \"/no/such/binary\": "
                                   "No such file or directory"),
            127);
  EXPECT_EQ(commandFailureExitCode("exec: \"nosuch\": executable file not found in $PATH"), 127);
  EXPECT_EQ(commandFailureExitCode("exec: \"/bin/sh/x\": Not a directory"), 127);
}

TEST(CommandFailure, CommandThatCannotBeExecutedIs126) {
  EXPECT_EQ(commandFailureExitCode("start container ab: exec: \"/etc\": Permission denied"), 126);
  EXPECT_EQ(commandFailureExitCode("exec: \"/bin/x\": Exec format error"), 126);
}

TEST(CommandFailure, OtherErrorsAreNotMapped) {
  EXPECT_EQ(commandFailureExitCode("no such container: x"), 0);
  EXPECT_EQ(commandFailureExitCode("open /x/config.json: No such file or directory"), 0);
  EXPECT_EQ(commandFailureExitCode(""), 0);
  api::CallError error(api::pb::NOT_FOUND, "no such image: busybox");
  EXPECT_EQ(exitCodeForError(error, 125), 125);
  api::CallError missing(api::pb::NOT_FOUND, "exec: \"/x\": No such file or directory");
  EXPECT_EQ(exitCodeForError(missing, 125), 127);
}

}  // namespace
}  // namespace berth::agent::cli
