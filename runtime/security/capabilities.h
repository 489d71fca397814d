// Linux capabilities of the container process: the five sets of
// process.capabilities, parsed in the parent into kernel bit masks that the
// child applies with a handful of prctl/capset calls (see credentials.h).
#pragma once

#include <cstdint>
#include <string_view>

#include "runtime/config/spec.h"
#include "runtime/sys/result.h"

namespace berth::runtime::security {

// One 64-bit mask per set; bit N is the kernel capability number N
// (CAP_CHOWN = bit 0, CAP_CHECKPOINT_RESTORE = bit 40).
struct CapabilitySets {
  uint64_t bounding = 0;
  uint64_t effective = 0;
  uint64_t inheritable = 0;
  uint64_t permitted = 0;
  uint64_t ambient = 0;

  bool operator==(const CapabilitySets&) const = default;
};

// Parses "CAP_CHOWN"-style names into masks. A name that is not a capability
// at all is an error naming it and its set:
//   process.capabilities.bounding: unknown capability "CAP_FOO"
// A real capability the running kernel does not know (numbered above
// /proc/sys/kernel/cap_last_cap) is skipped, as runc does, so one config
// works on older kernels.
sys::Result<CapabilitySets> prepareCapabilities(const config::Capabilities& caps);

// The sets used when process.capabilities is absent. runc (finalizeNamespace)
// then applies an empty Capabilities: every set, bounding included, is
// cleared, so the process runs with no capabilities at all. We do the same:
// absence never means "keep the runtime's own (full) capabilities".
CapabilitySets defaultCapabilitiesWhenAbsent();

// The kernel number of one capability name ("CAP_SYS_ADMIN" -> 21). Only the
// upper-case "CAP_" form of the runtime-spec is accepted.
sys::Result<int> capabilityFromName(std::string_view name);

// The highest capability number the running kernel knows
// (/proc/sys/kernel/cap_last_cap; libcap's compiled-in maximum if unreadable).
int lastKernelCapability();

}  // namespace berth::runtime::security
