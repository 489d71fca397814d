// The cpuset controller: which CPUs and memory nodes the container may use.
// The file names are the same in v1 and v2. (Copying the parent's values into
// a new v1 cpuset, without which nothing can join it, is done by create().)
#include "runtime/cgroup/controller.h"

namespace berth::runtime::cgroup::cpuset {

sys::Result<void> planV1(const config::Resources& r, const Current&, KnobList& out) {
  if (!r.cpu) return sys::ok();
  // Memory nodes first: a task whose CPUs change is migrated, and its new
  // placement should already see the final node mask.
  if (!r.cpu->mems.empty()) out.push_back(Knob{"cpuset.mems", r.cpu->mems});
  if (!r.cpu->cpus.empty()) out.push_back(Knob{"cpuset.cpus", r.cpu->cpus});
  return sys::ok();
}

sys::Result<void> planV2(const config::Resources& r, const Current& current, KnobList& out) {
  return planV1(r, current, out);
}

}  // namespace berth::runtime::cgroup::cpuset
