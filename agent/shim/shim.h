// berth-shim's entry point: the per-container supervisor (conmon's job).
//
// Sequence (process names as in the comments of shim.cc):
//   launcher (berthd) ── posix_spawn ──► shim
//     shim: fork; the first process exits (the launcher reaps it at once)
//     setsid (own session and process group: a signal to berthd's group
//       does not reach it), fork again (not a session leader, so it can
//       never acquire a controlling terminal), the middle process exits
//   the detached shim (a child subreaper):
//     writes <dir>/shim.pid, opens the log, listens on <dir>/attach.sock,
//     makes the container's stdio (pipes, or a socketpair for the pty
//     master), forks a short-lived "creator" that runs the runtime
//     library's createContainer + startContainer and exits: the container's
//     init is then reparented to the shim, and the heavy create work
//     (config parsing, seccomp compilation or a --seccomp-cache read)
//     never touches the shim's own memory, which stays small for the
//     container's whole life
//     reports "started <initPid> <shimPid>" (launch.h), relays output until
//     the init exits (supervisor.h), writes exit.json,
//     removes attach.sock and shim.pid, exits.
// The shim never deletes the container: berthd decides (restart policy).
#pragma once

namespace berth::agent::shim {

inline constexpr const char* kShimPidFileName = "shim.pid";
// The log is <dir>/<kLogBaseName>.log (rotated: .log.1, ...; agent/logs).
inline constexpr const char* kLogBaseName = "container";

// main() of berth-shim. The first two processes of the double fork leave
// with _exit(0) inside; the detached shim returns 0 once the container has
// exited and its exit is recorded, 1 when the container could not be started
// (reported to the launcher), 2 on a bad command line.
int shimMain(int argc, char** argv);

}  // namespace berth::agent::shim
