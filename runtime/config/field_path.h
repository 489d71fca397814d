// Internal to runtime/config: building the field paths that validation
// errors name ("mounts[2].destination") and the errors themselves, shared by
// validate.cc and validate_linux.cc.
#pragma once

#include <string>
#include <string_view>

#include "runtime/sys/result.h"

namespace berth::runtime::config {

inline std::string at(std::string_view base, std::string_view field) {
  std::string out(base);
  if (!out.empty()) out += '.';
  out += field;
  return out;
}

inline std::string at(std::string_view base, size_t index) {
  return std::string(base) + "[" + std::to_string(index) + "]";
}

inline std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

// "<field>: <what>", an input error (no errno).
inline sys::Error bad(std::string_view field, std::string_view what) {
  std::string msg(field);
  msg += ": ";
  msg += what;
  return sys::Error::invalid(std::move(msg));
}

}  // namespace berth::runtime::config
