// The pids controller: the maximum number of tasks. Zero or negative means
// unlimited ("max"), the same file name in v1 and v2.
#include "runtime/cgroup/controller.h"

namespace berth::runtime::cgroup::pids {

sys::Result<void> planV1(const config::Resources& r, const Current&, KnobList& out) {
  if (!r.pids || !r.pids->limit) return sys::ok();
  int64_t limit = *r.pids->limit;
  out.push_back(Knob{"pids.max", limit > 0 ? std::to_string(limit) : "max"});
  return sys::ok();
}

sys::Result<void> planV2(const config::Resources& r, const Current& current, KnobList& out) {
  return planV1(r, current, out);
}

}  // namespace berth::runtime::cgroup::pids
