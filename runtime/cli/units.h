// Number and size arguments of the command line (`update --memory 64M`),
// parsed strictly: a value the kernel would misread, or one that overflows,
// is an error naming the flag rather than a silently wrong limit.
#pragma once

#include <cstdint>
#include <string>

#include "runtime/sys/result.h"

namespace berth::runtime::cli {

// "64M", "1g", "1.5GiB", "512k", "64 MB", "1048576" -> bytes, with binary
// units (k, m, g, t, p; an optional "i" and "b" after them, any case), like
// runc's RAMInBytes. "-1" means unlimited and is returned as -1.
sys::Result<int64_t> parseBytes(const std::string& flag, const std::string& text);

// A decimal integer in [min, max]: "--cpu-quota: not a number: 1x".
sys::Result<int64_t> parseInteger(const std::string& flag, const std::string& text,
                                  int64_t min = INT64_MIN, int64_t max = INT64_MAX);

}  // namespace berth::runtime::cli
