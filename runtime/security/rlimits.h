// Resource limits of the container process (process.rlimits): names resolved
// and values validated in the parent, applied with setrlimit in the child.
//
// Ordering: apply them while the child still holds CAP_SYS_RESOURCE, i.e.
// before switchUserInChild drops capabilities, because raising a hard limit
// above the current one needs that capability.
#pragma once

#include <sys/resource.h>

#include <span>
#include <string_view>
#include <vector>

#include "runtime/config/spec.h"
#include "runtime/sys/result.h"

namespace berth::runtime::security {

struct PreparedRlimit {
  int resource = 0;  // RLIMIT_NOFILE ...
  struct rlimit limit {};
};

// Resolves every "RLIMIT_*" type; an unknown type, a duplicate type or a soft
// limit above its hard limit is an error naming the entry:
//   process.rlimits[2]: unknown rlimit type "RLIMIT_FOO"
sys::Result<std::vector<PreparedRlimit>> prepareRlimits(const std::vector<config::Rlimit>& rlimits);

// The RLIMIT_* number of a runtime-spec type name, or an error.
sys::Result<int> rlimitFromName(std::string_view name);
// "RLIMIT_NOFILE" for RLIMIT_NOFILE; "RLIMIT_?" for an unknown number.
const char* rlimitName(int resource);

// setrlimit for each entry, in order. Allocates only to build an error.
sys::Result<void> applyRlimitsInChild(std::span<const PreparedRlimit> rlimits);

}  // namespace berth::runtime::security
