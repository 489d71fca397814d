// From the API's messages to the engine's inputs, checked before anything
// is made: a ContainerSpec (berth create/run) as RunOptions for
// buildContainerSpec, and a ContainerUpdateRequest (berth update) as the
// OCI resources the runtime library applies to a live cgroup. Pure, so every
// rule is unit-tested.
#pragma once

#include <string>
#include <vector>

#include "agent/api/berth.pb.h"
#include "agent/engine/container_spec.h"
#include "runtime/config/spec.h"
#include "runtime/sys/result.h"

namespace berth::agent::engine {

namespace pb = ::berth::api;

inline constexpr const char* kStopSignalAnnotation = "io.berth.stop-signal";
inline constexpr const char* kShellLabel = "io.berth.shell";
inline constexpr uint32_t kDefaultStopTimeoutSeconds = 10;

// The user's mistakes that need no image to find: a bad name or stop signal,
// --rm with a restart policy (Docker refuses it too), a negative limit.
sys::Result<void> validateSpec(const pb::ContainerSpec& spec);

// What the engine does not implement yet (networks, ports, volumes): one
// warning each, returned to the user rather than silently ignored.
std::vector<std::string> unsupportedWarnings(const pb::ContainerSpec& spec, bool networking = false);

// "/<parent>/<id>": absolute, so the cgroup does not depend on where berthd
// itself runs (a systemd service's cgroup is emptied when it stops).
std::string cgroupsPathFor(const std::string& cgroupParent, const std::string& id);

RunOptions runOptionsFor(const pb::ContainerSpec& spec, const std::string& id,
                         const std::string& name, const std::string& cgroupsPath,
                         const std::string& rootfs);

// The resources an update changes: memory 0 and nano_cpus 0 mean unlimited,
// pids_limit <= 0 unlimited. Errors in the user's terms.
sys::Result<runtime::config::Resources> resourcesForUpdate(
    const pb::ContainerUpdateRequest& request);

// Writes the fields `update` sets into `target` (the bundle's config), so a
// later restart keeps the new limits.
void mergeResources(runtime::config::Resources& target, const runtime::config::Resources& update);

// The update applied to the user's spec as recorded.
void applyUpdateToSpec(const pb::ContainerUpdateRequest& request, pb::ContainerSpec& spec);

}  // namespace berth::agent::engine
