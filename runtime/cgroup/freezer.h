// The freezer: stops every task of a cgroup (pause/resume, and a stable set of
// tasks to signal). Freezing is asynchronous in both versions: the request is
// a write, completion is reported by the kernel later, so freeze() waits for
// it, with a bound.
#pragma once

#include <string>

#include "runtime/sys/result.h"

namespace berth::runtime::cgroup::freezer {

// How long freeze() waits for the kernel before it gives up and thaws.
inline constexpr int kFreezeTimeoutMs = 2000;

// cgroup v1: freezer.state in the freezer hierarchy's directory.
sys::Result<void> freezeV1(const std::string& dir);
sys::Result<void> thawV1(const std::string& dir);
sys::Result<bool> frozenV1(const std::string& dir);

// cgroup v2: cgroup.freeze, with completion reported in cgroup.events.
sys::Result<void> freezeV2(const std::string& dir);
sys::Result<void> thawV2(const std::string& dir);
sys::Result<bool> frozenV2(const std::string& dir);

}  // namespace berth::runtime::cgroup::freezer
