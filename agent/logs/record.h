// The on-disk record format of container logs, shared by the writer (in
// berth-shim), the readers (in berthd, for `berth logs`) and the fuzzer.
//
// A log file is a sequence of records, each a 16-byte little-endian header
// followed by its payload:
//
//   offset size field
//        0    4 length     payload bytes, 1 .. kMaxPayload (never 0)
//        4    8 timeNs     unix time in nanoseconds (CLOCK_REALTIME) of the read
//       12    1 stream     1 = stdout, 2 = stderr
//       13    1 flags      bit 0 kFlagEndsMidLine: the payload's last byte is not
//                          '\n' (the line goes on in a later record of the same
//                          stream)
//                          bit 1 kFlagContinuesLine: the payload's first byte
//                          continues a line begun in an earlier record of the
//                          same stream
//                          bit 2 kFlagMarksContinuation: bit 1 is meaningful (set
//                          on every record by current writers; files of older
//                          writers have neither bit 1 nor bit 2)
//                          other bits are reserved and must be 0
//       14    1 magic      0xB7, never 0: a zero-filled tail (delayed allocation
//                          after a power cut) is not mistaken for a record
//       15    1 check      checkByte() over bytes 0..14
//
// One record holds one read() of the container's pipe, as read: the payload
// is raw bytes including the '\n's, possibly many lines. Records are NOT one
// per line: per-line headers would multiply the bytes written for short
// lines (`yes` writes 2-byte lines: 16 bytes of header per 2 bytes of data),
// and the writer would have to scan and re-frame every byte. Lines are split
// at '\n' by the readers instead (memchr, at memory speed), which hand out
// {timestamp, stream, line bytes, partial} per line; a line's timestamp is
// that of the read that completed it. A read bigger than kMaxPayload becomes
// several records. A line may span records (a long line, or a container
// that writes a line in pieces); readers mark such pieces partial and the
// formatter joins them.
//
// Rotation (writer.h) happens at line boundaries, so a file starts with the
// beginning of a line, except after a line longer than the writer's bound.
// Such a file starts with a record flagged kFlagContinuesLine whose first
// line is a fragment: when a reader has not read the line's beginning (it
// was rotated away) it drops the fragment instead of presenting it as a line.
//
// Crash safety: records are appended with one write per batch and never
// rewritten, so a power cut can only tear the LAST record of the live file:
// its header or payload reaches past the end of the file, or its header is
// invalid (zeros). Readers stop a file at the first invalid or incomplete
// record ("torn tail") and go on with the next file; the writer truncates a
// torn tail when it reopens the file, so new records never follow garbage.
// There is no payload checksum: a torn tail is detected by its length, not
// by its contents.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace berth::agent::logs {

enum class Stream : uint8_t { kStdout = 1, kStderr = 2 };

inline constexpr size_t kHeaderSize = 16;
// A record is at most 64 KiB, so readers need bounded buffers.
inline constexpr size_t kMaxPayload = 64 * 1024 - kHeaderSize;
inline constexpr uint8_t kMagic = 0xB7;
inline constexpr uint8_t kFlagEndsMidLine = 0x01;
inline constexpr uint8_t kFlagContinuesLine = 0x02;
inline constexpr uint8_t kFlagMarksContinuation = 0x04;
inline constexpr uint8_t kKnownFlags = kFlagEndsMidLine | kFlagContinuesLine | kFlagMarksContinuation;

struct RecordHeader {
  uint32_t length = 0;
  int64_t timeNs = 0;
  Stream stream = Stream::kStdout;
  uint8_t flags = 0;

  bool endsMidLine() const { return (flags & kFlagEndsMidLine) != 0; }
  // False for records of older writers, which did not mark continuations.
  bool marksContinuation() const { return (flags & kFlagMarksContinuation) != 0; }
  bool continuesLine() const { return (flags & kFlagContinuesLine) != 0; }
};

// Writes the 16 header bytes for `h` into `out`.
void encodeHeader(const RecordHeader& h, unsigned char out[kHeaderSize]);

// Decodes and validates 16 header bytes. False for anything that is not a
// well-formed header: bad magic or check byte, length 0 or above
// kMaxPayload, unknown stream or flag bits.
bool decodeHeader(const unsigned char in[kHeaderSize], RecordHeader* out);

// The header's own integrity byte (bytes 0..14 folded, then mixed with a
// constant so that an all-zero header never passes).
uint8_t checkByte(const unsigned char in[kHeaderSize - 1]);

// A payload is consistent with its header when kFlagEndsMidLine matches its
// last byte; readers treat a mismatch as corruption.
inline bool payloadMatches(const RecordHeader& h, std::string_view payload) {
  return payload.size() == h.length && !payload.empty() &&
         (payload.back() != '\n') == h.endsMidLine();
}

}  // namespace berth::agent::logs
