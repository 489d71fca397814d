// Reading container logs for `berth logs`: everything, the last N lines
// (--tail), from a point in time (--since), and following (-f) across
// rotations until cancelled or the container has exited.
//
// Readers hand out lines, not records (record.h): each call of the sink gets
// one line without its '\n', or, with `partial` set, a piece of a line that
// goes on in a later piece of the same stream (a container that wrote it in
// pieces, or a line longer than a record). LineFormatter joins the pieces.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "agent/logs/record.h"
#include "runtime/sys/result.h"

namespace berth::agent::logs {

struct LogLine {
  int64_t timeNs = 0;  // unix ns of the read that completed the line
  Stream stream = Stream::kStdout;
  std::string_view bytes;  // without the '\n'; valid only during the call
  bool partial = false;    // no '\n' ended this piece
};

// Receives the lines in order; returns false to stop reading.
using LineSink = std::function<bool(const LogLine&)>;

struct ReadOptions {
  // Only the last N lines (counting an unterminated last line); applied to
  // the lines at or after `sinceNs`, as `docker logs --since T --tail N`.
  std::optional<uint64_t> tailLines;
  // Records read before this unix-ns time are skipped.
  int64_t sinceNs = 0;
  // After the end, wait for more (appends and rotations) until `cancelFd`
  // or `exitedFd` become readable, the sink returns false, or the log
  // directory is removed (the container was deleted).
  bool follow = false;
  // Readable: stop at once (e.g. an eventfd the client's disconnect fires).
  int cancelFd = -1;
  // Readable: the writer is gone (e.g. the shim's pidfd, readable once it
  // exited); the follower reads what is left, then returns.
  int exitedFd = -1;
  // Called by a follower each time it is about to wait: the moment to flush
  // output (LineFormatter::flush) so a prompt without '\n' shows up.
  std::function<void()> onIdle;
};

// Reads the log <dir>/<baseName>.log and its rotated files. A missing log
// is empty (a follower waits for it to appear); a torn or corrupt tail of a
// file is skipped (record.h). Errors: the directory cannot be opened or
// watched, a read fails.
sys::Result<void> readLogs(const std::string& dir, std::string_view baseName,
                           const ReadOptions& options, const LineSink& sink);

// Splits one record's payload into lines for `sink`; false when the sink
// asked to stop.
bool splitLines(const RecordHeader& header, std::string_view payload, const LineSink& sink);

}  // namespace berth::agent::logs
