// The container's terminal: a pty allocated from the container's own devpts
// instance, its master sent to the caller over the --console-socket (the
// protocol runc, crun, conmon and containerd share), its slave made the
// process's stdio and controlling terminal.
#pragma once

#include <optional>

#include "runtime/config/spec.h"
#include "runtime/sys/fd.h"
#include "runtime/sys/result.h"

namespace berth::runtime::container {

// Runs in the child after pivot_root. Sends the master over `consoleSocket`,
// binds the slave over /dev/console when that file exists, and makes the
// slave fds 0-2 and the controlling terminal of a new session.
sys::Result<void> setupConsoleInChild(int consoleSocket, const std::optional<config::ConsoleSize>& size,
                                      bool bindDevConsole);

// Connects to the unix socket the caller listens on (parent side).
sys::Result<sys::UniqueFd> connectConsoleSocket(const std::string& path);

}  // namespace berth::runtime::container
