// Internal to runtime/config: the linux.* validation rules (devices,
// resources, seccomp, sysctl, propagation, personality), split from
// validate.cc to keep each file about one concern.
#pragma once

#include "runtime/config/spec.h"
#include "runtime/sys/result.h"

namespace berth::runtime::config {

// Which namespaces the container has (new or joined): sysctls are allowed
// only for the namespaces that isolate them.
struct SysctlNamespaces {
  bool network = false;
  bool ipc = false;
  bool uts = false;
};

[[nodiscard]] sys::Result<void> validateLinuxDetails(const Linux& linux, SysctlNamespaces ns);

}  // namespace berth::runtime::config
