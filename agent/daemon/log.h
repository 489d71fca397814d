// berthd's diagnostic log: leveled, timestamped lines on stderr, which
// systemd's journal (or a test harness) captures. One line per event, written
// with a single write(2) so lines from concurrent connections never mix.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace berth::agent::daemon {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

std::optional<LogLevel> parseLogLevel(std::string_view text);
void setLogLevel(LogLevel level);
bool logEnabled(LogLevel level);

// "2026-11-29T04:00:00.123Z info  berthd ready on /run/berth/berthd.sock"
std::string formatLogLine(LogLevel level, std::string_view message, long long unixNs);
void log(LogLevel level, std::string_view message);

inline void logDebug(std::string_view m) { log(LogLevel::kDebug, m); }
inline void logInfo(std::string_view m) { log(LogLevel::kInfo, m); }
inline void logWarn(std::string_view m) { log(LogLevel::kWarn, m); }
inline void logError(std::string_view m) { log(LogLevel::kError, m); }

}  // namespace berth::agent::daemon
