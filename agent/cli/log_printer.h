// Prints `berth logs` entries: stdout entries to stdout, stderr entries to
// stderr, partial entries joined into their line before it is printed (so a
// line of one stream is never cut by a line of the other), an RFC 3339
// prefix per line with --timestamps.
//
// An entry's data is one line without its '\n' (agent/logs LogLine); a
// trailing '\n' is tolerated and not doubled.
#pragma once

#include <iosfwd>
#include <string>

#include "agent/api/status.h"

namespace berth::agent::cli {

namespace pb = ::berth::api;

class LogPrinter {
 public:
  LogPrinter(std::ostream& out, std::ostream& err, bool timestamps)
      : out_(out), err_(err), timestamps_(timestamps) {}

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

  std::ostream& out_;
  std::ostream& err_;
  bool timestamps_;
  Pending stdout_;
  Pending stderr_;
};

}  // namespace berth::agent::cli
