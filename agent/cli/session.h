// Runs an interactive session (exec, attach, shell) against the local
// terminal: the output loop on the calling thread writes the process's
// stdout/stderr, a pump thread forwards stdin, window resizes and signals.
// Raw mode and signal handlers are undone before it returns, whatever ends
// the session.
#pragma once

#include "agent/api/client.h"
#include "agent/cli/context.h"

namespace berth::agent::cli {

namespace pb = ::berth::api;

struct SessionOptions {
  bool forwardStdin = false;  // -i: stdin to the process, EOF -> close_stdin
  bool tty = false;           // -t: raw mode on the local terminal, resizes
};

// The ExitStatus of the process, or why the session failed.
api::CallResult<pb::ExitStatus> runSession(api::InteractiveSession& session, Io& io,
                                           const SessionOptions& options);

// The size to announce when starting a tty session (unset when not a terminal).
void fillTerminalSize(const Io& io, bool tty, pb::TerminalSize* size);

}  // namespace berth::agent::cli
