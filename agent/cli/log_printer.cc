// Joining and printing log entries.
#include "agent/cli/log_printer.h"

#include <ostream>

#include "agent/logs/formatter.h"

namespace berth::agent::cli {

void LogPrinter::print(std::ostream& stream, const Pending& line, bool newline) {
  if (timestamps_) stream << logs::formatRfc3339Nano(line.timeNs) << ' ';
  stream.write(line.text.data(), static_cast<std::streamsize>(line.text.size()));
  if (newline) stream << '\n';
}

void LogPrinter::add(const pb::LogEntry& entry) {
  bool isErr = entry.stream() == pb::OUTPUT_STDERR;
  Pending& pending = isErr ? stderr_ : stdout_;
  std::ostream& stream = isErr ? err_ : out_;
  if (!pending.open) {
    pending.timeNs = entry.timestamp_ns();
    pending.open = true;
  }
  std::string_view data = entry.data();
  if (!entry.partial() && !data.empty() && data.back() == '\n') data.remove_suffix(1);
  pending.text.append(data);
  if (entry.partial()) return;
  print(stream, pending, true);
  pending = Pending{};
}

void LogPrinter::finish() {
  if (stdout_.open) print(out_, stdout_, false);
  if (stderr_.open) print(err_, stderr_, false);
  stdout_ = Pending{};
  stderr_ = Pending{};
  out_.flush();
  err_.flush();
}

}  // namespace berth::agent::cli
