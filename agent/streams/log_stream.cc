// The logs call over agent/logs readLogs; see log_stream.h.
#include "agent/streams/log_stream.h"

#include <algorithm>
#include <string>
#include <string_view>

#include "agent/logs/reader.h"
#include "agent/shim/shim.h"

namespace berth::agent::streams {
namespace {

pb::OutputStream outputStreamOf(logs::Stream stream) {
  return stream == logs::Stream::kStderr ? pb::OUTPUT_STDERR : pb::OUTPUT_STDOUT;
}

// Gathers consecutive lines of one stream and one timestamp (one read of
// the container's pipe) into one entry: a container printing short lines
// then costs a frame per 256 KiB, not per line.
class EntryBatcher {
 public:
  explicit EntryBatcher(api::StreamWriter<pb::LogEntry>& out) : out_(out) {}

  bool add(const logs::LogLine& line) {
    if (line.gap) {
      if (!flush()) return false;
      pb::LogEntry notice;
      notice.set_timestamp_ns(line.timeNs);
      notice.set_stream(pb::OUTPUT_UNSPECIFIED);
      notice.set_data(std::string(line.bytes));
      return out_.send(std::move(notice));
    }
    if (!data_.empty() && (line.stream != stream_ || line.timeNs != timeNs_)) {
      if (!flush()) return false;
    }
    stream_ = line.stream;
    timeNs_ = line.timeNs;
    std::string_view rest = line.bytes;
    if (!data_.empty() && data_.size() + rest.size() + 1 > kMaxLogEntryData) {
      if (!flush()) return false;
    }
    // A piece longer than an entry goes out in partial entries.
    while (rest.size() + 1 > kMaxLogEntryData) {
      size_t n = std::min(rest.size(), kMaxLogEntryData);
      data_.append(rest.substr(0, n));
      rest.remove_prefix(n);
      if (!flush()) return false;
    }
    data_.append(rest);
    if (!line.partial) data_.push_back('\n');
    return true;
  }

  bool flush() {
    if (data_.empty()) return true;
    pb::LogEntry entry;
    entry.set_timestamp_ns(timeNs_);
    entry.set_stream(outputStreamOf(stream_));
    entry.set_partial(data_.back() != '\n');
    entry.set_data(std::move(data_));
    data_.clear();
    data_.reserve(kMaxLogEntryData);
    return out_.send(std::move(entry));
  }

 private:
  api::StreamWriter<pb::LogEntry>& out_;
  std::string data_;
  logs::Stream stream_ = logs::Stream::kStdout;
  int64_t timeNs_ = 0;
};

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

  EntryBatcher batch(out);
  bool sendFailed = false;
  logs::ReadOptions options;
  if (request.has_tail()) options.tailLines = request.tail();
  options.sinceNs = request.since_ns();
  // Not running: nothing more will be written, so following would wait forever.
  options.follow = request.follow() && shim.valid();
  options.cancelFd = out.cancelFd();
  options.exitedFd = shim.get();
  // Before a follower waits, what it has goes out.
  options.onIdle = [&] {
    if (!batch.flush()) sendFailed = true;
  };
  bool pastUntil = false;
  auto read = logs::readLogs(view->dir, shim::kLogBaseName, options, [&](const logs::LogLine& line) {
    if (request.until_ns() != 0 && line.timeNs > request.until_ns() && !line.gap) {
      pastUntil = true;
      return false;
    }
    return !sendFailed && batch.add(line);
  });
  if (!read) return std::move(read).error();
  if (!sendFailed) batch.flush();
  if (out.cancelled() && !pastUntil) return api::CallError(pb::CANCELLED, "cancelled by the client");
  return pb::StreamEnd{};
}

}  // namespace berth::agent::streams
