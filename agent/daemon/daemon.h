// berthd's start-up and shut-down, in order:
//   parse flags -> lock the data root (a second berthd on the same root
//   fails at once) -> open the image service and the container engine ->
//   recover (re-attach to live shims, clean leftovers of a crash, restart
//   what should run) -> listen (0660 root:berth) -> sd_notify READY=1 ->
//   serve until SIGTERM/SIGINT -> stop accepting, hang up on clients, stop
//   the engine's monitor. Containers keep running: their shims own them.
#pragma once

namespace berth::agent::daemon {

int daemonMain(int argc, char** argv);

}  // namespace berth::agent::daemon
