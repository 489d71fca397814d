// What an exec or shell call will run, decided before anything starts: the
// process.json handed to `berth-runtime exec --process`, its command line,
// and how the runtime's exit becomes the call's ExitStatus. Pure functions
// (no system calls), so the decisions are unit-tested without root.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "agent/api/status.h"
#include "agent/engine/container_access.h"
#include "runtime/config/spec.h"

namespace berth::agent::streams {

namespace pb = ::berth::api;

// The request, whether it came as ExecStart or ShellStart.
struct ExecRequest {
  std::string id;  // as the client named the container
  std::vector<std::string> cmd;
  std::vector<std::string> env;  // KEY=VALUE, override the container's
  std::string user;              // empty: the container's
  std::string workdir;           // empty: the container's
  bool tty = false;
  bool stdin = false;
  unsigned rows = 0;
  unsigned cols = 0;
};

ExecRequest execRequestFrom(const pb::ExecStart& request);
// A shell: request.shell, else the image's (view.shell), else /bin/sh;
// always with a tty and stdin.
ExecRequest shellRequestFrom(const pb::ShellStart& request, const engine::ContainerView& view);

// A user the request named, resolved in the container's rootfs.
struct ExecUser {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::vector<uint32_t> additionalGids;
  std::string home;
};

// `base` is the container's own process (its capabilities, rlimits,
// no_new_privs and seccomp stay, as with runc exec); args, env, user, cwd
// and terminal come from the request over the container's defaults.
// Errors: an empty command.
sys::Result<runtime::config::Process> buildExecProcess(const runtime::config::Process& base,
                                                       const engine::ContainerView& view,
                                                       const ExecRequest& request,
                                                       const std::optional<ExecUser>& user);

// Sets KEY=VALUE in `env`, replacing an entry with the same key.
void setEnv(std::vector<std::string>& env, const std::string& keyValue);

// Paths as the runtime child sees them: the session hands process.json and
// the pid pipe over as fds (/proc/self/fd/N), so no file is written.
struct RuntimeExecPaths {
  std::string runtimeBinary;
  std::string processJson;
  std::string pidFile;
  std::string logFile;        // empty: no --log (the runtime's stderr says why it failed)
  std::string consoleSocket;  // empty: no tty
};

// berth-runtime --root <stateRoot> [--log <log>] exec --process <json>
//   --pid-file <pid> [--tty --console-socket <sock>] <runtimeId>
std::vector<std::string> runtimeExecArgv(const RuntimeExecPaths& paths,
                                         const std::string& stateRoot,
                                         const std::string& runtimeId);

// The runtime child's waitpid() status as the call's exit: the runtime
// exits with the process's code, 128+N when a signal killed it (runtime/cli
// foreground.cc), so a code in 129..192 is read as that signal; a runtime
// killed itself reports its own signal.
pb::ExitStatus exitStatusFromRuntime(int waitStatus);

// Why the runtime failed, from what it wrote: its stderr ("berth-runtime:
// <message>" lines) or its --log (text format, "<time> error: <message>");
// the last such message, empty when there is none.
std::string runtimeComplaint(const std::string& runtimeOutput);

// When the runtime failed before the process started because the command
// could not be run, the code the call exits with, as docker exec does: the
// runtime exits 127 (not found) or 126 (not executable) and says why.
// nullopt for any other failure (which execStartError describes).
std::optional<int> commandFailureExitCode(int waitStatus, const std::string& runtimeOutput);

// The call's error when the runtime failed before the process started:
// `runtimeOutput` is what the runtime wrote (see runtimeComplaint). "not
// running" failures become FAILED_PRECONDITION.
api::CallError execStartError(const std::string& containerName, const std::string& runtimeOutput,
                              int waitStatus);

}  // namespace berth::agent::streams
