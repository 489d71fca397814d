// The default config.json that `berth-runtime spec` writes, equivalent to
// `runc spec` (and `runc spec --rootless`): a shell in ./rootfs with the
// usual mounts, a small capability set, and masked /proc and /sys paths.
#pragma once

#include <string>

namespace berth::runtime::config {

// Tab-indented JSON as runc writes it (no trailing newline). The rootless
// variant maps the caller's euid/egid to root in a new user namespace, drops
// the network namespace and the device cgroup rules, and bind-mounts /sys.
std::string defaultSpecJson(bool rootless);

}  // namespace berth::runtime::config
