// Size and number parsing; see units.h.
#include "runtime/cli/units.h"

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <string_view>

namespace berth::runtime::cli {

namespace {

// 1024^n for the unit letter, or 0 for an unknown unit.
int64_t unitMultiplier(std::string unit) {
  if (!unit.empty() && unit[0] == ' ') unit.erase(0, 1);
  for (auto& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!unit.empty() && unit.back() == 'b') unit.pop_back();
  if (!unit.empty() && unit.back() == 'i') unit.pop_back();
  if (unit.empty()) return 1;
  if (unit.size() != 1) return 0;
  int64_t multiplier = 1;
  for (char u : std::string_view("kmgtp")) {
    multiplier *= 1024;
    if (u == unit[0]) return multiplier;
  }
  return 0;
}

}  // namespace

sys::Result<int64_t> parseBytes(const std::string& flag, const std::string& text) {
  auto bad = [&] { return sys::Error::invalid("--" + flag + ": not a size: \"" + text + "\""); };
  auto tooLarge = [&] {
    return sys::Error::invalid("--" + flag + ": size too large: \"" + text + "\"");
  };
  if (text == "-1") return int64_t{-1};
  // Digits with an optional fraction, then the unit; strtod would also
  // take "inf", "nan", "0x10", "1e9" and leading blanks.
  size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
  if (i == 0) return bad();
  size_t integerEnd = i;
  if (i < text.size() && text[i] == '.') {
    size_t fractionStart = ++i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    if (i == fractionStart) return bad();
  }
  int64_t multiplier = unitMultiplier(text.substr(i));
  if (multiplier == 0)
    return sys::Error::invalid("--" + flag + ": unknown unit in \"" + text + "\"");

  // The integer part is exact; only a fraction goes through a double.
  int64_t whole = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + integerEnd, whole);
  if (ec != std::errc() || whole > INT64_MAX / multiplier) return tooLarge();
  int64_t result = whole * multiplier;
  if (integerEnd < i) {
    double fraction = std::strtod(("0" + text.substr(integerEnd, i - integerEnd)).c_str(), nullptr);
    auto extra = static_cast<int64_t>(fraction * static_cast<double>(multiplier));
    if (extra > INT64_MAX - result) return tooLarge();
    result += extra;
  }
  return result;
}

sys::Result<int64_t> parseInteger(const std::string& flag, const std::string& text, int64_t min,
                                  int64_t max) {
  // "+5" is a number to Go's ParseInt (runc), not to from_chars.
  std::string_view digits = text;
  if (!digits.empty() && digits[0] == '+') digits.remove_prefix(1);
  int64_t value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || ec == std::errc::invalid_argument || end != digits.data() + digits.size()) {
    return sys::Error::invalid("--" + flag + ": not a number: \"" + text + "\"");
  }
  if (ec == std::errc::result_out_of_range || value < min || value > max) {
    std::string range;
    if (min != INT64_MIN || max != INT64_MAX) {
      range = " (" + std::to_string(min) + " to " + std::to_string(max) + ")";
    }
    return sys::Error::invalid("--" + flag + ": " + text + " is out of range" + range);
  }
  return value;
}

}  // namespace berth::runtime::cli
