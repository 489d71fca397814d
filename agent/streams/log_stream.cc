// The logs call over agent/logs readLogs; see log_stream.h.
#include "agent/streams/log_stream.h"

#include <algorithm>
#include <string_view>

#include "agent/logs/reader.h"
#include "agent/shim/shim.h"

namespace berth::agent::streams {
namespace {

pb::OutputStream outputStreamOf(logs::Stream stream) {
  return stream == logs::Stream::kStderr ? pb::OUTPUT_STDERR : pb::OUTPUT_STDOUT;
}

// Sends one line (or piece of one) as entries of at most kMaxLogEntryData.
bool sendLine(const logs::LogLine& line, api::StreamWriter<pb::LogEntry>& out) {
  std::string_view rest = line.bytes;
  do {
    size_t n = std::min(rest.size(), kMaxLogEntryData);
    pb::LogEntry entry;
    entry.set_timestamp_ns(line.timeNs);
    entry.set_stream(outputStreamOf(line.stream));
    entry.set_data(std::string(rest.substr(0, n)));
    rest.remove_prefix(n);
    entry.set_partial(line.partial || !rest.empty());
    if (!out.send(std::move(entry))) return false;
  } while (!rest.empty());
  return true;
}

}  // namespace

api::CallResult<pb::StreamEnd> streamLogs(engine::ContainerAccess& access,
                                          const pb::LogsRequest& request,
                                          api::StreamWriter<pb::LogEntry>& out) {
  auto view = access.find(request.id());
  if (!view) return std::move(view).error();
  if (request.until_ns() != 0 && request.since_ns() != 0 && request.until_ns() < request.since_ns()) {
    return api::CallError(pb::INVALID_ARGUMENT, "logs: --until is before --since");
  }
  // Taken before the first read: once it is readable, whatever the reader
  // then drains is the whole log.
  sys::UniqueFd shim;
  if (request.follow()) shim = access.shimPidfd(view->id);

  logs::ReadOptions options;
  if (request.has_tail()) options.tailLines = request.tail();
  options.sinceNs = request.since_ns();
  // Not running: nothing more will be written, so following would wait forever.
  options.follow = request.follow() && shim.valid();
  options.cancelFd = out.cancelFd();
  options.exitedFd = shim.get();
  bool pastUntil = false;
  auto read = logs::readLogs(view->dir, shim::kLogBaseName, options, [&](const logs::LogLine& line) {
    if (request.until_ns() != 0 && line.timeNs > request.until_ns()) {
      pastUntil = true;
      return false;
    }
    return sendLine(line, out);
  });
  if (!read) return std::move(read).error();
  if (out.cancelled() && !pastUntil) return api::CallError(pb::CANCELLED, "cancelled by the client");
  return pb::StreamEnd{};
}

}  // namespace berth::agent::streams
