// Signal names as users and clients write them: "TERM", "SIGTERM", "15",
// "RTMIN+3". runc and crun accept all of these for `kill`, and so do we.
#pragma once

#include <string>
#include <string_view>

#include "runtime/sys/result.h"

namespace berth::runtime {

sys::Result<int> parseSignal(std::string_view text);
// "SIGTERM" for 15; "SIGRTMIN+3" for real-time signals; the number otherwise.
std::string signalName(int sig);

}  // namespace berth::runtime
