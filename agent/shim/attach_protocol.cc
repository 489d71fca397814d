// Attach frame encoding and decoding; see attach_protocol.h.
#include "agent/shim/attach_protocol.h"

#include <algorithm>
#include <string>

namespace berth::agent::shim {
namespace {

uint32_t readLe32(const unsigned char* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16 |
         static_cast<uint32_t>(p[3]) << 24;
}

}  // namespace

bool knownFrameType(uint8_t type) {
  switch (static_cast<FrameType>(type)) {
    case FrameType::kStdout:
    case FrameType::kStderr:
    case FrameType::kExit:
    case FrameType::kStdin:
    case FrameType::kCloseStdin:
    case FrameType::kResize:
      return true;
  }
  return false;
}

void encodeFrameHeader(FrameType type, uint32_t length, unsigned char out[kFrameHeaderSize]) {
  out[0] = static_cast<unsigned char>(type);
  for (int i = 0; i < 4; ++i) out[1 + i] = static_cast<unsigned char>(length >> (8 * i));
}

void encodeResize(WindowSize size, unsigned char out[4]) {
  out[0] = static_cast<unsigned char>(size.rows), out[1] = static_cast<unsigned char>(size.rows >> 8);
  out[2] = static_cast<unsigned char>(size.cols), out[3] = static_cast<unsigned char>(size.cols >> 8);
}

sys::Result<void> FrameDecoder::startFrame(Handler& handler) {
  uint8_t type = header_[0];
  uint32_t length = readLe32(header_ + 1);
  headerFill_ = 0;
  if (!knownFrameType(type)) return sys::Error::invalid("attach: unknown frame type " + std::to_string(type));
  type_ = static_cast<FrameType>(type);
  if (type_ != FrameType::kStdin && type_ != FrameType::kCloseStdin && type_ != FrameType::kResize) {
    return sys::Error::invalid("attach: frame type " + std::to_string(type) + " is not sent by clients");
  }
  if (length > kMaxFramePayload) {
    return sys::Error::invalid("attach: frame of " + std::to_string(length) + " bytes exceeds the limit");
  }
  if (type_ == FrameType::kResize && length != 4) return sys::Error::invalid("attach: resize payload must be 4 bytes");
  if (type_ == FrameType::kCloseStdin && length != 0) {
    return sys::Error::invalid("attach: close-stdin takes no payload");
  }
  remaining_ = length;
  controlFill_ = 0;
  inPayload_ = true;
  if (remaining_ == 0) return finishControl(handler);
  return sys::ok();
}

sys::Result<void> FrameDecoder::finishControl(Handler& handler) {
  inPayload_ = false;
  if (type_ == FrameType::kCloseStdin) handler.onCloseStdin();
  if (type_ == FrameType::kResize) {
    WindowSize ws;
    ws.rows = static_cast<uint16_t>(control_[0] | control_[1] << 8);
    ws.cols = static_cast<uint16_t>(control_[2] | control_[3] << 8);
    handler.onResize(ws);
  }
  return sys::ok();
}

sys::Result<void> FrameDecoder::feed(std::string_view in, Handler& handler) {
  if (broken_) return sys::Error::invalid("attach: stream already broken");
  while (!in.empty()) {
    if (!inPayload_) {
      size_t take = std::min(in.size(), kFrameHeaderSize - headerFill_);
      std::copy_n(in.data(), take, header_ + headerFill_);
      headerFill_ += take;
      in.remove_prefix(take);
      if (headerFill_ == kFrameHeaderSize) {
        if (auto r = startFrame(handler); !r) {
          broken_ = true;
          return r;
        }
      }
      continue;
    }
    size_t take = std::min<size_t>(in.size(), remaining_);
    if (type_ == FrameType::kStdin) {
      handler.onStdin(in.substr(0, take));
    } else {
      std::copy_n(in.data(), take, control_ + controlFill_);
      controlFill_ += static_cast<uint32_t>(take);
    }
    remaining_ -= static_cast<uint32_t>(take);
    in.remove_prefix(take);
    if (remaining_ == 0) {
      if (type_ == FrameType::kStdin) {
        inPayload_ = false;
      } else {
        BERTH_TRY(finishControl(handler));
      }
    }
  }
  return sys::ok();
}

}  // namespace berth::agent::shim
