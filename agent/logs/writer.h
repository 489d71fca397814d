// LogWriter: appends a container's stdout/stderr to its log file, rotating
// by size. It runs in berth-shim, one per container, on the hot path of
// every byte the container prints (format in record.h).
//
// Throughput: each read() from the container's pipe becomes one record (or a
// few, above kMaxPayload) and ONE writev: header and payload go out as they
// are, without copying or scanning the payload for lines. Nothing is synced
// per write; sync() is for the shim to call when the container exits.
//
// Rotation: when the next record would take <base>.log past maxSizeBytes,
// the files move up (.log.1 -> .log.2 ..., the oldest dropped), the live
// file is hard-linked as .log.1 and a fresh file is renamed over .log. So
// <base>.log always exists, a record is never split across files, and a
// follower holding the old file's fd reads it to its end before the new
// <base>.log appears.
//
// Rotation happens only at a line boundary (no stream is in the middle of a
// line), so every file begins with whole lines: the payload that would
// cross the limit is cut after its last '\n' that fits; with none, a file
// at a boundary rotates before the record, and a file in the middle of a
// line may grow past the limit by up to lineSlackBytes to finish it. Only a
// line still unfinished there is split across files; its rest is flagged
// kFlagContinuesLine (record.h) so readers can tell the fragment.
#pragma once

#include <sys/types.h>
#include <sys/uio.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/logs/record.h"
#include "runtime/sys/fd.h"
#include "runtime/sys/result.h"

namespace berth::agent::logs {

struct WriterOptions {
  // A file is rotated before a record would take it past this size; a
  // single record bigger than the limit gets a file of its own. 0: never rotate.
  uint64_t maxSizeBytes = 10 * 1024 * 1024;
  // Files kept, the live one included (>= 1; 1 = the live file only).
  unsigned maxFiles = 5;
  // How far a file may grow past maxSizeBytes to end a line before the
  // rotation instead splits it: lines up to this long are never split.
  uint64_t lineSlackBytes = 256 * 1024;
  mode_t mode = 0640;
};

class LogWriter {
 public:
  // Opens (or creates) <dir>/<baseName>.log for appending. Repairs what a
  // crash may have left: a torn last record is truncated away, a file with
  // corrupt records is rotated away (its good records stay readable), and a
  // rotation cut short is completed.
  static sys::Result<LogWriter> open(const std::string& dir, std::string baseName,
                                     WriterOptions options = {});

  LogWriter(LogWriter&&) noexcept = default;
  LogWriter& operator=(LogWriter&&) noexcept = default;

  // Appends one chunk of the container's output (typically one read() of
  // its pipe) as read at `timeNs`. Empty chunks write nothing.
  sys::Result<void> write(Stream stream, std::string_view chunk, int64_t timeNs);
  // The same, stamped with the current CLOCK_REALTIME.
  sys::Result<void> write(Stream stream, std::string_view chunk);

  struct Pumped {
    size_t bytes = 0;  // read and written; 0 also when a non-blocking fd had nothing
    bool eof = false;  // the container closed its end
  };
  // Reads once from `fd`, the container's pipe, and writes what came as one
  // batch. The read buffer is as big as the pipe at the first call
  // (F_GETPIPE_SZ: 64 KiB by default, up to 1 MiB when the shim enlarges it
  // first), so one read drains it.
  sys::Result<Pumped> pump(int fd, Stream stream);

  // fdatasync of the live file: for the shim when the container exits.
  sys::Result<void> sync();

  // Bytes in the live file.
  uint64_t size() const { return size_; }

  // The current CLOCK_REALTIME in nanoseconds.
  static int64_t nowNs();

 private:
  LogWriter() = default;
  sys::Result<void> recover();
  sys::Result<void> rotate();
  sys::Result<void> openLive(bool truncate);
  sys::Result<void> flush();
  sys::Result<void> writeAll(struct iovec* iov, size_t count);

  // Where the next record goes relative to a rotation (see Rotation above).
  struct Plan {
    size_t take = 0;            // payload bytes for this record
    bool rotateBefore = false;  // rotate, then write the record
    bool rotateAfter = false;   // write the record, then rotate
  };
  Plan plan(Stream stream, std::string_view payload) const;
  void append(Stream stream, std::string_view payload, int64_t timeNs);
  bool& midLine(Stream s) { return midLine_[s == Stream::kStderr ? 1 : 0]; }
  bool midLine(Stream s) const { return midLine_[s == Stream::kStderr ? 1 : 0]; }

  sys::UniqueFd dirfd_;
  sys::UniqueFd fd_;
  std::string dir_;
  std::string base_;
  WriterOptions options_;
  uint64_t size_ = 0;
  // Per stream (stdout, stderr): the last record written ended mid-line.
  bool midLine_[2] = {false, false};
  // The batch being built: headers and payload views, turned into iovecs
  // at flush time. Kept across calls so the hot path does not allocate.
  std::vector<std::array<unsigned char, kHeaderSize>> headers_;
  std::vector<std::string_view> payloads_;
  std::vector<struct iovec> iov_;
  uint64_t pending_ = 0;
  // Allocated on the first pump() and never zero-filled: pages the reads
  // never reach stay out of the shim's RSS.
  std::unique_ptr<char[]> readBuf_;
  size_t readCap_ = 0;
};

}  // namespace berth::agent::logs
