// Error formatting, kept out of the header so <cstring> stays local.
#include "runtime/sys/result.h"

#include <cstring>

namespace berth::sys {

std::string Error::str() const {
  if (code_ == 0) return what_;
  std::string out = what_;
  out += ": ";
  out += std::strerror(code_);
  return out;
}

}  // namespace berth::sys
