// OCI lifecycle hooks: each hook is a program that receives the container's
// state JSON on stdin. prestart/createRuntime run in the runtime's namespaces
// during `create`, createContainer/startContainer inside the container,
// poststart after `start`, poststop on `delete`.
#pragma once

#include <string>
#include <vector>

#include "runtime/config/spec.h"
#include "runtime/sys/result.h"

namespace berth::runtime::container {

// Runs one hook to completion (or its timeout) and fails if it exits non-zero.
sys::Result<void> runHook(const config::Hook& hook, const std::string& stateJson);

// Runs hooks in order, stopping at the first failure; `stage` names the list
// in errors ("prestart hook /usr/bin/x: exited with status 1").
sys::Result<void> runHooks(const std::vector<config::Hook>& hooks, const char* stage,
                           const std::string& stateJson);

}  // namespace berth::runtime::container
