// The client side of <dir>/attach.sock (protocol in attach_protocol.h), for
// berthd and tests: connect, send input frames, read output frames. Blocking
// calls; berthd runs them where blocking is fine or polls fd() itself.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "agent/shim/attach_protocol.h"
#include "runtime/sys/fd.h"
#include "runtime/sys/result.h"

namespace berth::agent::shim {

struct Frame {
  FrameType type{};
  std::string payload;
};

// Connects to <dir>/attach.sock (through /proc/self/fd, so long dirs work).
sys::Result<sys::UniqueFd> connectAttach(const std::string& dir);

sys::Result<void> sendFrame(int fd, FrameType type, std::string_view payload);
sys::Result<void> sendResize(int fd, WindowSize size);
// The next frame; ECONNRESET at a clean end of stream.
sys::Result<Frame> readFrame(int fd);

}  // namespace berth::agent::shim
