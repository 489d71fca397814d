// Reading container logs for `berth logs`: everything, the last N lines
// (--tail), from a point in time (--since), and following (-f) across
// rotations until cancelled or the container has exited.
//
// Readers hand out lines, not records (record.h): each call of the sink gets
// one line without its '\n', or, with `partial` set, a piece of a line that
// goes on in a later piece of the same stream (a container that wrote it in
// pieces, or a line longer than a record). LineFormatter joins the pieces.
//
// A line whose beginning is no longer in the log (a line longer than the
// writer's rotation slack, split across files, whose first part was rotated
// away; or a file of an older writer that rotated mid-line) is never handed
// out as a line: the fragment up to its '\n' is dropped.
//
// A follower opens each rotated file as it appears (chain_watcher.h), so it
// reads every line however far behind the writer it falls. If files were
// deleted before it could open them anyway, it says so with a `gap` line in
// the order of the lines, never silently.
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
  // Not the container's: the reader's notice that lines are missing here
  // (bytes is the message, stream kStderr, timeNs when it was noticed).
  bool gap = false;
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
  // A follower holds at most this many rotated files open that it has not
  // read yet (an unlinked file keeps its disk space while open); past that
  // the oldest is given up and reported as a gap.
  size_t maxHeldFiles = 128;
};

// The text of a gap line for `files` files that could not be read.
std::string gapMessage(uint64_t files);

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
