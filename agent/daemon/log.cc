// Leveled stderr log; see log.h.
#include "agent/daemon/log.h"

#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>

namespace berth::agent::daemon {
namespace {

std::atomic<LogLevel> gLevel{LogLevel::kInfo};

const char* levelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info ";
    case LogLevel::kWarn: return "warn ";
    case LogLevel::kError: return "error";
  }
  return "?";
}

}  // namespace

std::optional<LogLevel> parseLogLevel(std::string_view text) {
  if (text == "debug") return LogLevel::kDebug;
  if (text == "info") return LogLevel::kInfo;
  if (text == "warn" || text == "warning") return LogLevel::kWarn;
  if (text == "error") return LogLevel::kError;
  return std::nullopt;
}

void setLogLevel(LogLevel level) { gLevel.store(level); }

bool logEnabled(LogLevel level) { return level >= gLevel.load(); }

std::string formatLogLine(LogLevel level, std::string_view message, long long unixNs) {
  time_t seconds = static_cast<time_t>(unixNs / 1000000000LL);
  struct tm utc {};
  ::gmtime_r(&seconds, &utc);
  char stamp[64];
  std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03lldZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                (unixNs / 1000000LL) % 1000);
  std::string line(stamp);
  line += ' ';
  line += levelName(level);
  line += ' ';
  // One event, one line: a message with newlines (an error chain quoting a
  // container's output) must not forge further log lines.
  for (char c : message) line += (c == '\n' || c == '\r') ? ' ' : c;
  line += '\n';
  return line;
}

void log(LogLevel level, std::string_view message) {
  if (!logEnabled(level)) return;
  struct timespec now {};
  ::clock_gettime(CLOCK_REALTIME, &now);
  std::string line = formatLogLine(level, message, now.tv_sec * 1000000000LL + now.tv_nsec);
  // Best effort: a closed stderr must not take the daemon down.
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

}  // namespace berth::agent::daemon
