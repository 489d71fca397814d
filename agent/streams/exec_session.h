// exec and shell: a new process in a running container, its stdio carried
// over the call's BidiStream.
//
// The process is started by `berth-runtime exec` as the daemon's child (the
// runtime library's exec re-executes its whole process from a sealed copy,
// which a daemon must not do to itself). The runtime stays the process's
// parent and exits with its status, so the runtime child's exit is the
// call's. Without a tty its stdio are pipes; with one, the runtime connects
// to a private console socket and hands over the pty master, which then
// carries input (with the line discipline: ^C becomes SIGINT) and output.
//
// The call ends when the runtime exits, after the output written before the
// exit is sent. When the client goes away first, the process and the
// runtime are killed: nothing outlives the call, no fd stays open.
#pragma once

#include <string>

#include "agent/api/connection.h"
#include "agent/engine/container_access.h"

namespace berth::agent::streams {

namespace pb = ::berth::api;

struct ExecTools {
  std::string runtimeBinary;  // DaemonPaths::runtimeBinary
  // Where the private per-call directory (process.json, console socket, pid
  // file) is made; empty: /tmp.
  std::string scratchParent;
};

api::CallResult<pb::ExitStatus> runExec(engine::ContainerAccess& access, const ExecTools& tools,
                                        const pb::ExecStart& request, api::BidiStream& stream);

api::CallResult<pb::ExitStatus> runShell(engine::ContainerAccess& access, const ExecTools& tools,
                                         const pb::ShellStart& request, api::BidiStream& stream);

}  // namespace berth::agent::streams
