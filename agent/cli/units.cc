// Parsing and human formatting of the CLI's sizes, durations and times.
#include "agent/cli/units.h"

#include <time.h>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>

#include "agent/logs/formatter.h"

namespace berth::agent::cli {

namespace {

constexpr int64_t kSecond = 1'000'000'000;

struct Decimal {
  uint64_t whole = 0;
  uint64_t fraction = 0;  // the digits after the point, as an integer
  int fractionDigits = 0;
};

// Reads "123" or "1.25" at text[pos...]; false when no digit or an overflow.
bool readDecimal(const std::string& text, size_t& pos, Decimal& out) {
  size_t start = pos;
  while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
    uint64_t digit = static_cast<uint64_t>(text[pos] - '0');
    if (out.whole > (std::numeric_limits<uint64_t>::max() - digit) / 10) return false;
    out.whole = out.whole * 10 + digit;
    ++pos;
  }
  bool any = pos > start;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
      if (out.fractionDigits < 18) {
        out.fraction = out.fraction * 10 + static_cast<uint64_t>(text[pos] - '0');
        ++out.fractionDigits;
      }
      any = true;
      ++pos;
    }
  }
  return any;
}

// value * unit, exact for the whole part, truncated for the fraction.
bool scale(const Decimal& d, uint64_t unit, uint64_t max, uint64_t& out) {
  if (d.whole > max / unit) return false;
  long double frac = static_cast<long double>(d.fraction) /
                     std::pow(10.0L, static_cast<long double>(d.fractionDigits));
  uint64_t extra = static_cast<uint64_t>(frac * static_cast<long double>(unit));
  if (d.whole * unit > max - extra) return false;
  out = d.whole * unit + extra;
  return true;
}

int64_t sizeUnit(char c) {
  switch (std::tolower(static_cast<unsigned char>(c))) {
    case 'b':
      return 1;
    case 'k':
      return int64_t{1} << 10;
    case 'm':
      return int64_t{1} << 20;
    case 'g':
      return int64_t{1} << 30;
    case 't':
      return int64_t{1} << 40;
    case 'p':
      return int64_t{1} << 50;
    default:
      return 0;
  }
}

std::string formatSize(uint64_t bytes, double base, const char* const* units, int count) {
  double size = static_cast<double>(bytes);
  int i = 0;
  while (size >= base && i < count - 1) {
    size /= base;
    ++i;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4g%s", size, units[i]);
  return buf;
}

sys::Error badValue(const std::string& what, const std::string& text, const std::string& hint) {
  return sys::Error::invalid("invalid " + what + " \"" + text + "\": " + hint);
}

}  // namespace

sys::Result<int64_t> parseSize(const std::string& text) {
  const std::string hint = "expected bytes or a number with a unit, like 512m or 1.5g";
  size_t pos = 0;
  Decimal d;
  if (!readDecimal(text, pos, d)) return badValue("size", text, hint);
  if (pos < text.size() && text[pos] == ' ') ++pos;
  int64_t unit = 1;
  if (pos < text.size()) {
    unit = sizeUnit(text[pos]);
    if (unit == 0) return badValue("size", text, hint);
    bool bytesLetter = std::tolower(static_cast<unsigned char>(text[pos])) == 'b';
    ++pos;
    if (!bytesLetter && pos < text.size() &&
        std::tolower(static_cast<unsigned char>(text[pos])) == 'i')
      ++pos;
    if (!bytesLetter && pos < text.size() &&
        std::tolower(static_cast<unsigned char>(text[pos])) == 'b')
      ++pos;
  }
  uint64_t bytes = 0;
  if (pos != text.size() ||
      !scale(d, static_cast<uint64_t>(unit), std::numeric_limits<int64_t>::max(), bytes)) {
    return badValue("size", text, hint);
  }
  return static_cast<int64_t>(bytes);
}

sys::Result<uint64_t> parseNanoCpus(const std::string& text) {
  size_t pos = 0;
  Decimal d;
  if (!readDecimal(text, pos, d) || pos != text.size() || d.fractionDigits > 9) {
    return badValue("CPU count", text, "expected a decimal number like 1.5 (at most 9 decimals)");
  }
  uint64_t fraction = d.fraction;
  for (int i = d.fractionDigits; i < 9; ++i) fraction *= 10;
  if (d.whole > (std::numeric_limits<int64_t>::max() - fraction) / kSecond) {
    return badValue("CPU count", text, "too large");
  }
  return d.whole * kSecond + fraction;
}

sys::Result<int64_t> parseDurationNs(const std::string& text) {
  const std::string hint = "expected a duration like 10m, 1h30m, 1.5s or 500ms";
  if (text == "0") return int64_t{0};
  static const std::pair<const char*, uint64_t> kUnits[] = {
      {"ns", 1},      {"us", 1000},        {"µs", 1000},         {"ms", 1'000'000},
      {"s", kSecond}, {"m", 60 * kSecond}, {"h", 3600 * kSecond}};
  size_t pos = 0;
  uint64_t total = 0;
  if (text.empty()) return badValue("duration", text, hint);
  while (pos < text.size()) {
    Decimal d;
    if (!readDecimal(text, pos, d)) return badValue("duration", text, hint);
    size_t end = pos;
    while (end < text.size() && !std::isdigit(static_cast<unsigned char>(text[end])) &&
           text[end] != '.') {
      ++end;
    }
    std::string unit = text.substr(pos, end - pos);
    pos = end;
    uint64_t factor = 0;
    for (const auto& [name, value] : kUnits) {
      if (unit == name) factor = value;
    }
    uint64_t part = 0;
    if (factor == 0) return badValue("duration", text, hint);
    if (!scale(d, factor, std::numeric_limits<int64_t>::max() - total, part)) {
      return badValue("duration", text, "too large");
    }
    total += part;
  }
  return static_cast<int64_t>(total);
}

namespace {

// "+02:00" / "-0530" / "Z" at text[pos...] -> seconds east of UTC.
bool readZone(const std::string& text, size_t pos, int64_t& offset) {
  if (pos == text.size()) return true;  // no zone: UTC
  if (text.substr(pos) == "Z" || text.substr(pos) == "z") return true;
  int hours = 0;
  int minutes = 0;
  char sign = text[pos];
  if (sign != '+' && sign != '-') return false;
  std::string rest = text.substr(pos + 1);
  if (std::sscanf(rest.c_str(), "%2d:%2d", &hours, &minutes) != 2 &&
      std::sscanf(rest.c_str(), "%2d%2d", &hours, &minutes) != 2) {
    return false;
  }
  if (rest.size() != 5 && rest.size() != 4) return false;
  offset = (sign == '-' ? -1 : 1) * (hours * 3600 + minutes * 60);
  return true;
}

std::optional<int64_t> parseRfc3339(const std::string& text) {
  struct tm tm {};
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &consumed) !=
          3 ||
      consumed != 10) {
    return std::nullopt;
  }
  size_t pos = 10;
  int64_t nanos = 0;
  if (pos < text.size() && (text[pos] == 'T' || text[pos] == 't' || text[pos] == ' ')) {
    int n = 0;
    if (std::sscanf(text.c_str() + pos + 1, "%2d:%2d:%2d%n", &tm.tm_hour, &tm.tm_min, &tm.tm_sec,
                    &n) != 3 ||
        n != 8) {
      return std::nullopt;
    }
    pos += 9;
    if (pos < text.size() && text[pos] == '.') {
      int digits = 0;
      for (++pos; pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos])); ++pos) {
        if (digits++ < 9) nanos = nanos * 10 + (text[pos] - '0');
      }
      for (; digits < 9; ++digits) nanos *= 10;
    }
  }
  if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
      tm.tm_min > 59 || tm.tm_sec > 60 || tm.tm_hour < 0 || tm.tm_min < 0 || tm.tm_sec < 0) {
    return std::nullopt;
  }
  int64_t offset = 0;
  if (!readZone(text, pos, offset)) return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  time_t seconds = ::timegm(&tm);
  return (static_cast<int64_t>(seconds) - offset) * kSecond + nanos;
}

}  // namespace

sys::Result<int64_t> parseTimeArg(const std::string& text, int64_t nowNs) {
  if (text.empty()) return badValue("time", text, "empty");
  if (text.find_first_not_of("0123456789.") == std::string::npos) {
    auto seconds = parseNanoCpus(text);  // same rules: decimal, 9 digits of fraction
    if (!seconds) return badValue("time", text, "expected unix seconds like 1700000000.5");
    return static_cast<int64_t>(*seconds);
  }
  if (text.size() >= 10 && text[4] == '-') {
    auto t = parseRfc3339(text);
    if (!t) return badValue("time", text, "expected RFC 3339 like 2024-05-01T12:00:00Z");
    return *t;
  }
  auto ago = parseDurationNs(text);
  if (!ago) {
    return badValue("time", text,
                    "expected RFC 3339 (2024-05-01T12:00:00Z), unix seconds or a duration (10m)");
  }
  return nowNs - *ago;
}

sys::Result<int64_t> parseInteger(const std::string& text, int64_t min, int64_t max) {
  if (text.empty()) return badValue("number", text, "empty");
  size_t pos = text[0] == '-' ? 1 : 0;
  Decimal d;
  if (!readDecimal(text, pos, d) || pos != text.size() || d.fractionDigits != 0 ||
      text.find('.') != std::string::npos || d.whole > uint64_t{1} << 62) {
    return badValue("number", text, "expected an integer");
  }
  int64_t value = static_cast<int64_t>(d.whole) * (text[0] == '-' ? -1 : 1);
  if (value < min || value > max) {
    return badValue("number", text,
                    "expected " + std::to_string(min) + " to " + std::to_string(max));
  }
  return value;
}

sys::Result<pb::RestartPolicy> parseRestartPolicy(const std::string& text) {
  pb::RestartPolicy policy;
  std::string kind = text.substr(0, text.find(':'));
  bool hasCount = kind.size() != text.size();
  if (kind == "no") {
    policy.set_kind(pb::RESTART_NO);
  } else if (kind == "always") {
    policy.set_kind(pb::RESTART_ALWAYS);
  } else if (kind == "unless-stopped") {
    policy.set_kind(pb::RESTART_UNLESS_STOPPED);
  } else if (kind == "on-failure") {
    policy.set_kind(pb::RESTART_ON_FAILURE);
  } else {
    return badValue("restart policy", text,
                    "expected no, always, on-failure[:N] or unless-stopped");
  }
  if (hasCount) {
    if (policy.kind() != pb::RESTART_ON_FAILURE) {
      return badValue("restart policy", text, "only on-failure takes a retry count");
    }
    auto count = parseInteger(text.substr(kind.size() + 1), 0, 0xffffffff);
    if (!count) return badValue("restart policy", text, "the retry count must be 0 or more");
    policy.set_max_retries(static_cast<uint32_t>(*count));
  }
  return policy;
}

std::string restartPolicyText(const pb::RestartPolicy& policy) {
  switch (policy.kind()) {
    case pb::RESTART_NO:
      return "no";
    case pb::RESTART_ALWAYS:
      return "always";
    case pb::RESTART_UNLESS_STOPPED:
      return "unless-stopped";
    case pb::RESTART_ON_FAILURE:
      return policy.max_retries() == 0 ? "on-failure"
                                       : "on-failure:" + std::to_string(policy.max_retries());
    default:
      return "";
  }
}

std::string formatSizeDecimal(uint64_t bytes) {
  static const char* const kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
  return formatSize(bytes, 1000.0, kUnits, 7);
}

std::string formatSizeBinary(uint64_t bytes) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  return formatSize(bytes, 1024.0, kUnits, 7);
}

std::string humanDuration(int64_t ns) {
  int64_t seconds = ns / kSecond;
  if (seconds < 1) return "Less than a second";
  if (seconds == 1) return "1 second";
  if (seconds < 60) return std::to_string(seconds) + " seconds";
  int64_t minutes = seconds / 60;
  if (minutes == 1) return "About a minute";
  if (minutes < 60) return std::to_string(minutes) + " minutes";
  int64_t hours = static_cast<int64_t>(std::llround(static_cast<double>(seconds) / 3600.0));
  if (hours == 1) return "About an hour";
  if (hours < 48) return std::to_string(hours) + " hours";
  if (hours < 24 * 7 * 2) return std::to_string(hours / 24) + " days";
  if (hours < 24 * 30 * 2) return std::to_string(hours / 24 / 7) + " weeks";
  if (hours < 24 * 365 * 2) return std::to_string(hours / 24 / 30) + " months";
  return std::to_string(seconds / 3600 / 24 / 365) + " years";
}

std::string humanAgo(int64_t timeNs, int64_t nowNs) {
  if (timeNs <= 0) return "N/A";
  return humanDuration(nowNs - timeNs) + " ago";
}

std::string shortId(const std::string& id) {
  std::string hex = id.rfind("sha256:", 0) == 0 ? id.substr(7) : id;
  return hex.substr(0, 12);
}

std::string formatTime(int64_t timeNs) {
  return timeNs == 0 ? std::string() : logs::formatRfc3339Nano(timeNs);
}

}  // namespace berth::agent::cli
