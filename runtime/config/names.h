// Name tables of the OCI runtime-spec values berth-runtime understands.
//
// The validator (validate.cc) accepts exactly these names and the features
// document (features.cc) advertises exactly these, so what `berth-runtime
// features` promises and what `create` accepts cannot drift apart. Modules
// that turn names into kernel values (capabilities, rlimits, seccomp) should
// use the same tables for their lookups.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace berth::runtime::config {

// All capabilities of Linux 5.9+, in kernel number order: index == CAP_* value
// (CAP_CHOWN = 0 ... CAP_CHECKPOINT_RESTORE = 40).
const std::vector<std::string>& knownCapabilities();

// RLIMIT_* names in kernel number order: index == RLIMIT_* value.
const std::vector<std::string>& knownRlimits();

// Namespace types of config.json ("pid", "network", ...), sorted.
const std::vector<std::string>& knownNamespaces();

// Hook names of config.json, in the order they run.
const std::vector<std::string>& knownHooks();

// Mount options the runtime interprets itself (flags and propagation), sorted.
// Anything else in a mount's "options" is passed to the filesystem as data.
const std::vector<std::string>& knownMountOptions();

// Seccomp names, each list sorted.
const std::vector<std::string>& seccompActions();     // SCMP_ACT_*
const std::vector<std::string>& seccompOperators();   // SCMP_CMP_*
const std::vector<std::string>& seccompArchs();       // SCMP_ARCH_*
const std::vector<std::string>& seccompKnownFlags();  // SECCOMP_FILTER_FLAG_*
// The subset of seccompKnownFlags() the runtime can apply with the linked libseccomp.
const std::vector<std::string>& seccompSupportedFlags();

// rootfsPropagation values: shared slave private unbindable and their r* forms.
const std::vector<std::string>& rootfsPropagations();

// True when `name` is in `table` (a linear scan: the tables are short and
// this runs once per config entry).
bool contains(const std::vector<std::string>& table, std::string_view name);

}  // namespace berth::runtime::config
