// The exit codes a shell (and docker) gives when a container's command
// cannot be run at all: 127 when it does not exist, 126 when it exists but
// cannot be executed. berthd reports such a failure as an error whose
// message carries the runtime's `exec: "<path>": <reason>` (a failed
// `run`/`start`, or an `exec`); the CLI maps it here, for run and exec alike.
#pragma once

#include <string_view>

#include "agent/api/status.h"

namespace berth::agent::cli {

inline constexpr int kExitCommandNotFound = 127;
inline constexpr int kExitCommandNotExecutable = 126;

// 127 or 126 for an error that says the command could not be run; 0 for
// any other error.
int commandFailureExitCode(std::string_view message);

// commandFailureExitCode of the error's message, else `otherwise`.
int exitCodeForError(const api::CallError& error, int otherwise);

}  // namespace berth::agent::cli
