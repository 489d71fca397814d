// Validation of a parsed config against the runtime-spec rules that can be
// checked without a system call.
//
// `create` runs this before touching the host (prepare, then apply), so a bad
// config fails with a message naming the field ("linux.namespaces[3].type:
// unknown namespace type \"foo\"") and leaves nothing behind. The checks that
// need the host (does the cgroup controller exist, is the path a namespace)
// belong to the modules that apply the config.
#pragma once

#include <string_view>

#include "runtime/config/spec.h"
#include "runtime/sys/result.h"

namespace berth::runtime::config {

// Everything in one pass; the first problem found is returned.
[[nodiscard]] sys::Result<void> validateSpec(const Spec& spec);

// The process rules alone (args, cwd, capabilities, rlimits, oomScoreAdj),
// for `exec --process`. Errors name fields under `prefix` ("process.args").
[[nodiscard]] sys::Result<void> validateProcess(const Process& process,
                                                std::string_view prefix = "process");

// The resource rules alone, for `update -r`. Errors name fields under
// `prefix` ("linux.resources.memory.swap").
[[nodiscard]] sys::Result<void> validateResources(const Resources& resources,
                                                  std::string_view prefix = "linux.resources");

}  // namespace berth::runtime::config
