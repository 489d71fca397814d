// Prints `berth logs` entries: stdout entries to stdout, stderr entries to
// stderr, partial entries joined into their line before it is printed (so a
// line of one stream is never cut by a line of the other), an RFC 3339
// prefix per line with --timestamps.
//
// An entry's data is lines of one stream and time, each ended by '\n'
// (agent/streams/log_stream.h), the last without it when the entry is
// partial; an older berthd's entry is one line without its '\n'. An entry
// of stream OUTPUT_UNSPECIFIED is berthd's notice that lines are missing:
// printed to stderr as "berth: logs: <text>".
//
// A prefix ("redis  | ", berth logs PROJECT) goes before every line, before
// the timestamp, as docker compose logs prints it.
#pragma once

#include <iosfwd>
#include <string>
#include <string_view>
#include <utility>

#include "agent/api/status.h"

namespace berth::agent::cli {

namespace pb = ::berth::api;

class LogPrinter {
 public:
  LogPrinter(std::ostream& out, std::ostream& err, bool timestamps, std::string prefix = "")
      : out_(out), err_(err), timestamps_(timestamps), prefix_(std::move(prefix)) {}

  void add(const pb::LogEntry& entry);
  // Prints lines still waiting for their end (the stream ended mid-line).
  void finish();

 private:
  struct Pending {
    std::string text;
    int64_t timeNs = 0;
    bool open = false;
  };
  void print(std::ostream& stream, const Pending& line, bool newline);
  void printLines(std::ostream& stream, int64_t timeNs, std::string_view lines);

  std::ostream& out_;
  std::ostream& err_;
  bool timestamps_;
  std::string prefix_;
  Pending stdout_;
  Pending stderr_;
};

}  // namespace berth::agent::cli
