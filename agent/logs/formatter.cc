// LineFormatter and the RFC 3339 timestamp of `berth logs --timestamps`.
#include "agent/logs/formatter.h"

#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace berth::agent::logs {

namespace {

constexpr size_t kOutputBatch = 64 * 1024;

// "YYYY-MM-DDTHH:MM:SS" of a unix second, UTC.
std::string formatSecond(int64_t second) {
  time_t t = static_cast<time_t>(second);
  struct tm tm {};
  ::gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

// ".123456789" with trailing zeros dropped; empty for a whole second.
void appendFraction(std::string& out, int64_t nanos) {
  if (nanos == 0) return;
  char digits[10];
  std::snprintf(digits, sizeof digits, "%09lld", static_cast<long long>(nanos));
  int len = 9;
  while (digits[len - 1] == '0') --len;
  out += '.';
  out.append(digits, static_cast<size_t>(len));
}

int64_t floorDiv(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

}  // namespace

std::string formatRfc3339Nano(int64_t timeNs) {
  int64_t second = floorDiv(timeNs, 1000000000);
  std::string out = formatSecond(second);
  appendFraction(out, timeNs - second * 1000000000);
  out += 'Z';
  return out;
}

LineFormatter::LineFormatter(Output output, Options options)
    : output_(std::move(output)), options_(options) {}

sys::Result<void> LineFormatter::emit(Stream stream, int64_t timeNs, bool prefix,
                                      std::string_view a, std::string_view b, bool newline) {
  if (stream != bufferStream_) {
    // Keep the order between the streams: what the other one has buffered
    // goes out first.
    BERTH_TRY(flushBuffer());
    bufferStream_ = stream;
  }
  if (prefix && options_.timestamps) {
    int64_t second = floorDiv(timeNs, 1000000000);
    if (second != cachedSecond_) {
      cachedSecond_ = second;
      cachedDate_ = formatSecond(second);
    }
    buffer_ += cachedDate_;
    appendFraction(buffer_, timeNs - second * 1000000000);
    buffer_ += "Z ";
  }
  buffer_ += a;
  buffer_ += b;
  if (newline) buffer_ += '\n';
  if (buffer_.size() >= kOutputBatch) BERTH_TRY(flushBuffer());
  return sys::ok();
}

sys::Result<void> LineFormatter::flushBuffer() {
  if (buffer_.empty()) return sys::ok();
  auto result = output_(bufferStream_, buffer_);
  buffer_.clear();
  return result;
}

sys::Result<void> LineFormatter::add(const LogLine& line) {
  if (line.gap) {
    // Lines are missing here: what is held will not be completed.
    BERTH_TRY(flush());
    return emit(Stream::kStderr, line.timeNs, false, "berth: logs: ", line.bytes, true);
  }
  StreamState& st = state(line.stream);
  if (line.partial) {
    if (st.held.empty() && !st.midLine) st.timeNs = line.timeNs;
    st.held += line.bytes;
    if (st.held.size() > options_.maxHeldLine) {
      BERTH_TRY(emit(line.stream, st.timeNs, !st.midLine, st.held, {}, false));
      st.held.clear();
      st.midLine = true;
    }
    return sys::ok();
  }
  int64_t time = st.held.empty() && !st.midLine ? line.timeNs : st.timeNs;
  BERTH_TRY(emit(line.stream, time, !st.midLine, st.held, line.bytes, true));
  st.held.clear();
  st.midLine = false;
  return sys::ok();
}

sys::Result<void> LineFormatter::flush() {
  for (Stream s : {Stream::kStdout, Stream::kStderr}) {
    StreamState& st = state(s);
    if (st.held.empty()) continue;
    BERTH_TRY(emit(s, st.timeNs, !st.midLine, st.held, {}, false));
    st.held.clear();
    st.midLine = true;
  }
  return flushBuffer();
}

LineFormatter::Output LineFormatter::fdOutput(int stdoutFd, int stderrFd) {
  return [stdoutFd, stderrFd](Stream stream, std::string_view data) -> sys::Result<void> {
    int fd = stream == Stream::kStderr ? stderrFd : stdoutFd;
    while (!data.empty()) {
      ssize_t n = ::write(fd, data.data(), data.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return sys::Error::fromErrno(stream == Stream::kStderr ? "write log to stderr"
                                                               : "write log to stdout");
      }
      data.remove_prefix(static_cast<size_t>(n));
    }
    return sys::ok();
  };
}

}  // namespace berth::agent::logs
