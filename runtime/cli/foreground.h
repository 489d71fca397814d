// Foreground `run` and `exec`: the runtime stays the process's parent,
// forwards the signals it receives, proxies a pty when the caller gave no
// console socket, and exits with the process's status (128+N for a signal).
#pragma once

#include <sys/types.h>

#include "runtime/sys/fd.h"
#include "runtime/sys/result.h"

namespace berth::runtime::cli {

// A socketpair standing in for --console-socket: the child sends the pty
// master to `sendEnd`; the runtime takes it from `receiveEnd`.
struct LocalConsole {
  sys::UniqueFd sendEnd;
  sys::UniqueFd receiveEnd;
};
sys::Result<LocalConsole> makeLocalConsole();

// Blocks the signals to forward; call before starting the process so none is lost.
void blockForwardedSignals();

// Waits for `pid` (our child). ptyMaster < 0: no terminal proxying.
int runForeground(pid_t pid, int pidfd, int ptyMaster);

}  // namespace berth::runtime::cli
