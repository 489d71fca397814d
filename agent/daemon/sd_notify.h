// systemd's readiness protocol (Type=notify), without libsystemd: one
// datagram "READY=1" to the unix socket named by $NOTIFY_SOCKET (a path, or
// an abstract name written "@name").
#pragma once

#include <string>

#include "runtime/sys/result.h"

namespace berth::agent::daemon {

// Sends `state` ("READY=1", "STOPPING=1", "STATUS=...") when $NOTIFY_SOCKET
// is set; a no-op returning success otherwise.
[[nodiscard]] sys::Result<void> sdNotify(const std::string& state);

}  // namespace berth::agent::daemon
