// LineFormatter: turns the lines of a log into what `berth logs` prints:
// stdout lines to stdout and stderr lines to stderr, each ended by '\n', and
// with --timestamps an RFC 3339 prefix ("2024-05-01T12:00:00.123456789Z ")
// per line. Partial pieces of a line (reader.h) are joined before the line
// is printed, so a line of one stream is never cut by lines of the other.
// A gap notice of the reader is printed to stderr as "berth: logs: <text>".
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "agent/logs/reader.h"
#include "agent/logs/record.h"
#include "runtime/sys/result.h"

namespace berth::agent::logs {

// Unix nanoseconds as Go's time.RFC3339Nano in UTC, the format of
// `docker logs --timestamps`: trailing zeros of the fraction are dropped
// ("2024-05-01T12:00:00.5Z", "2024-05-01T12:00:00Z").
std::string formatRfc3339Nano(int64_t timeNs);

class LineFormatter {
 public:
  // Receives formatted bytes for one stream; called with large batches.
  using Output = std::function<sys::Result<void>(Stream, std::string_view)>;

  struct Options {
    bool timestamps = false;
    // A line held back for its next piece is printed as far as it goes once
    // it grows beyond this (the rest follows without a new prefix).
    size_t maxHeldLine = 1024 * 1024;
  };

  LineFormatter(Output output, Options options);
  LineFormatter(Output output) : LineFormatter(std::move(output), Options{}) {}

  sys::Result<void> add(const LogLine& line);

  // Prints everything buffered, including lines still waiting for their
  // end (without a '\n'): call at the end and when a follower goes idle.
  sys::Result<void> flush();

  // An Output writing stdout's bytes to `stdoutFd`, stderr's to `stderrFd`.
  static Output fdOutput(int stdoutFd, int stderrFd);

 private:
  struct StreamState {
    std::string held;      // pieces of an unfinished line
    int64_t timeNs = 0;    // when that line began
    bool midLine = false;  // the line's beginning (and prefix) is printed
  };

  StreamState& state(Stream s) { return s == Stream::kStderr ? stderr_ : stdout_; }
  sys::Result<void> emit(Stream stream, int64_t timeNs, bool prefix, std::string_view a,
                         std::string_view b, bool newline);
  sys::Result<void> flushBuffer();

  Output output_;
  Options options_;
  StreamState stdout_;
  StreamState stderr_;
  std::string buffer_;  // formatted bytes of bufferStream_ not yet output
  Stream bufferStream_ = Stream::kStdout;
  int64_t cachedSecond_ = INT64_MIN;
  std::string cachedDate_;
};

}  // namespace berth::agent::logs
