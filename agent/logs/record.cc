// Encoding and validation of log record headers (format in record.h).
#include "agent/logs/record.h"

#include <cstring>

namespace berth::agent::logs {
namespace {

// Explicit little-endian stores and loads: the file format does not depend
// on the host's byte order.
void storeLe(unsigned char* out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out[i] = static_cast<unsigned char>(v >> (8 * i));
}

uint64_t loadLe(const unsigned char* in, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<uint64_t>(in[i]) << (8 * i);
  return v;
}

}  // namespace

uint8_t checkByte(const unsigned char in[kHeaderSize - 1]) {
  // FNV-1a over the 15 bytes, folded to 8 bits: every byte influences the
  // result, and the final xor keeps an all-zero header from passing.
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < kHeaderSize - 1; ++i) {
    h ^= in[i];
    h *= 16777619u;
  }
  return static_cast<uint8_t>((h ^ (h >> 8) ^ (h >> 16) ^ (h >> 24)) ^ 0x5C);
}

void encodeHeader(const RecordHeader& h, unsigned char out[kHeaderSize]) {
  storeLe(out, h.length, 4);
  storeLe(out + 4, static_cast<uint64_t>(h.timeNs), 8);
  out[12] = static_cast<unsigned char>(h.stream);
  out[13] = h.flags;
  out[14] = kMagic;
  out[15] = checkByte(out);
}

bool decodeHeader(const unsigned char in[kHeaderSize], RecordHeader* out) {
  if (in[14] != kMagic || in[15] != checkByte(in)) return false;
  uint32_t length = static_cast<uint32_t>(loadLe(in, 4));
  if (length == 0 || length > kMaxPayload) return false;
  if (in[12] != static_cast<uint8_t>(Stream::kStdout) &&
      in[12] != static_cast<uint8_t>(Stream::kStderr)) {
    return false;
  }
  if ((in[13] & ~kKnownFlags) != 0) return false;
  out->length = length;
  out->timeNs = static_cast<int64_t>(loadLe(in + 4, 8));
  out->stream = static_cast<Stream>(in[12]);
  out->flags = in[13];
  return true;
}

}  // namespace berth::agent::logs
