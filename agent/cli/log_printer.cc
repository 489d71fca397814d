// Joining and printing log entries.
#include "agent/cli/log_printer.h"

#include <ostream>

#include "agent/logs/formatter.h"

namespace berth::agent::cli {

void LogPrinter::print(std::ostream& stream, const Pending& line, bool newline) {
  stream << prefix_;
  if (timestamps_) stream << logs::formatRfc3339Nano(line.timeNs) << ' ';
  stream.write(line.text.data(), static_cast<std::streamsize>(line.text.size()));
  if (newline) stream << '\n';
}

// Whole lines of one entry: one write without --timestamps or a service
// prefix; else the prefix (the entry's lines share their time) before each line.
void LogPrinter::printLines(std::ostream& stream, int64_t timeNs, std::string_view lines) {
  if (!timestamps_ && prefix_.empty()) {
    stream.write(lines.data(), static_cast<std::streamsize>(lines.size()));
    return;
  }
  std::string prefix = prefix_ + (timestamps_ ? logs::formatRfc3339Nano(timeNs) + ' ' : "");
  while (!lines.empty()) {
    size_t end = lines.find('\n') + 1;  // every line here ends with '\n'
    stream.write(prefix.data(), static_cast<std::streamsize>(prefix.size()));
    stream.write(lines.data(), static_cast<std::streamsize>(end));
    lines.remove_prefix(end);
  }
}

void LogPrinter::add(const pb::LogEntry& entry) {
  std::string_view data = entry.data();
  if (entry.stream() == pb::OUTPUT_UNSPECIFIED) {
    // berthd's notice (lines are missing here), not the container's output.
    if (!data.empty() && data.back() == '\n') data.remove_suffix(1);
    err_ << "berth: logs: " << data << '\n';
    err_.flush();
    return;
  }
  bool isErr = entry.stream() == pb::OUTPUT_STDERR;
  Pending& pending = isErr ? stderr_ : stdout_;
  std::ostream& stream = isErr ? err_ : out_;
  // A non-partial entry's last line ends with its '\n', or (from an older
  // berthd, one line per entry) without it.
  bool endsLine = !entry.partial() && (data.empty() || data.back() != '\n');
  if (pending.open) {
    size_t nl = data.find('\n');
    pending.text.append(data.substr(0, nl));
    if (nl == std::string_view::npos && !endsLine) return;
    print(stream, pending, true);
    pending = Pending{};
    if (nl == std::string_view::npos) return;
    data.remove_prefix(nl + 1);
  }
  size_t last = data.rfind('\n');
  if (last != std::string_view::npos) {
    printLines(stream, entry.timestamp_ns(), data.substr(0, last + 1));
    data.remove_prefix(last + 1);
  }
  if (data.empty() && !endsLine) return;
  pending.timeNs = entry.timestamp_ns();
  pending.open = true;
  pending.text.assign(data);
  if (!endsLine) return;
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
