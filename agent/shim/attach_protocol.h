// The attach protocol spoken on <dir>/attach.sock, between the shim and a
// client (berthd, on behalf of `berth attach` / `berth shell`).
//
// Both directions are a stream of frames on a unix stream socket:
//
//   offset size field
//        0    1 type     FrameType
//        1    4 length   payload bytes, little-endian, <= kMaxFramePayload
//        5    n payload
//
// shim -> client   kStdout, kStderr  live output as the shim reads it (a tty
//                                    container's output is all kStdout)
//                  kExit             payload = exit.json text; the last frame
//                                    before the shim closes the connection
// client -> shim   kStdin            bytes for the container's stdin (needs
//                                    --stdin, or --tty; ignored otherwise)
//                  kCloseStdin       empty: the container reads EOF (pipes only;
//                                    on a tty the client sends ^D itself)
//                  kResize           u16 rows, u16 cols, little-endian (tty only)
//
// A client gets the output from the moment it connects (history is in the
// log file). A client that does not keep up (its socket buffer is full) is
// disconnected rather than allowed to stall the container; a malformed
// frame also closes the connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "runtime/sys/result.h"

namespace berth::agent::shim {

inline constexpr const char* kAttachSocketName = "attach.sock";

enum class FrameType : uint8_t {
  kStdout = 1,
  kStderr = 2,
  kExit = 3,
  kStdin = 16,
  kCloseStdin = 17,
  kResize = 18,
};

inline constexpr size_t kFrameHeaderSize = 5;
inline constexpr uint32_t kMaxFramePayload = 64 * 1024;
// Control frames (kCloseStdin, kResize) carry at most this much.
inline constexpr uint32_t kMaxControlPayload = 8;

bool knownFrameType(uint8_t type);

void encodeFrameHeader(FrameType type, uint32_t length, unsigned char out[kFrameHeaderSize]);

struct WindowSize {
  uint16_t rows = 0;
  uint16_t cols = 0;
};
void encodeResize(WindowSize size, unsigned char out[4]);

// Incremental decoder for the client -> shim direction. Data payloads are
// handed out in pieces as they arrive (no buffering of a whole 64 KiB frame);
// control frames are collected in a small fixed buffer and handed out whole.
// Allocates nothing.
class FrameDecoder {
 public:
  struct Handler {
    virtual ~Handler() = default;
    // A piece of a kStdin payload, in order.
    virtual void onStdin(std::string_view data) = 0;
    virtual void onCloseStdin() = 0;
    virtual void onResize(WindowSize size) = 0;
  };

  // Consumes all of `in`. An error (unknown type, oversized or malformed
  // frame, a shim->client type) leaves the decoder unusable.
  sys::Result<void> feed(std::string_view in, Handler& handler);

 private:
  sys::Result<void> startFrame(Handler& handler);
  sys::Result<void> finishControl(Handler& handler);

  unsigned char header_[kFrameHeaderSize] = {};
  size_t headerFill_ = 0;
  FrameType type_{};
  uint32_t remaining_ = 0;  // payload bytes still to come
  unsigned char control_[kMaxControlPayload] = {};
  uint32_t controlFill_ = 0;
  bool inPayload_ = false;
  bool broken_ = false;
};

}  // namespace berth::agent::shim
