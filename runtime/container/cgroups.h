// The container's cgroup as the lifecycle commands see it: opened from the
// cgroupsPath (the spec's at create, the state's afterwards) and the id.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "runtime/cgroup/manager.h"
#include "runtime/config/spec.h"
#include "runtime/sys/result.h"

namespace berth::runtime::container {

sys::Result<std::unique_ptr<cgroup::Manager>> openContainerCgroup(const std::string& cgroupsPath,
                                                                  const std::string& id);

// The ordered device rules: the spec's own, then an allow for each
// linux.devices entry, then the devices every container may use (runc's
// default allow list), so a leading "deny all" in the spec still leaves
// /dev/null and friends usable.
std::vector<config::DeviceCgroupRule> deviceRules(const config::Spec& spec);

}  // namespace berth::runtime::container
