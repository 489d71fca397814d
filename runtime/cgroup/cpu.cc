// The cpu controller: shares/weight, CFS quota and period, burst, realtime
// (v1 only) and SCHED_IDLE groups.
#include "runtime/cgroup/controller.h"

namespace berth::runtime::cgroup::cpu {
namespace {

using Miss = Knob::IfMissing;

Knob knob(std::string file, std::string value, Miss miss = Miss::kFail, bool retry = false) {
  return Knob{std::move(file), std::move(value), miss, {}, {}, retry};
}

}  // namespace

sys::Result<void> planV1(const config::Resources& r, const Current&, KnobList& out) {
  if (!r.cpu) return sys::ok();
  const auto& c = *r.cpu;
  bool quota = c.quota && *c.quota != 0;
  if (c.shares && *c.shares != 0) out.push_back(knob("cpu.shares", std::to_string(*c.shares)));
  // A period shorter than the current one can be refused (EINVAL) while the
  // old quota/new period ratio exceeds the parent's; it fits once the new
  // quota is written, so it is retried after it.
  if (c.period && *c.period != 0) {
    out.push_back(knob("cpu.cfs_period_us", std::to_string(*c.period), Miss::kFail, quota));
  }
  // Kernels before 5.14 have no burst; like runc, a missing knob is skipped.
  if (c.burst) {
    out.push_back(knob("cpu.cfs_burst_us", std::to_string(*c.burst), Miss::kSkip, quota));
  }
  if (quota) out.push_back(knob("cpu.cfs_quota_us", std::to_string(*c.quota)));
  // The realtime period must be in place before the runtime it bounds.
  if (c.realtimePeriod && *c.realtimePeriod != 0) {
    out.push_back(knob("cpu.rt_period_us", std::to_string(*c.realtimePeriod)));
  }
  if (c.realtimeRuntime && *c.realtimeRuntime != 0) {
    out.push_back(knob("cpu.rt_runtime_us", std::to_string(*c.realtimeRuntime)));
  }
  if (c.idle) out.push_back(knob("cpu.idle", std::to_string(*c.idle)));
  return sys::ok();
}

sys::Result<void> planV2(const config::Resources& r, const Current&, KnobList& out) {
  if (!r.cpu) return sys::ok();
  const auto& c = *r.cpu;
  if (c.realtimeRuntime.value_or(0) != 0 || c.realtimePeriod.value_or(0) != 0) {
    return sys::Error::invalid(
        "realtimeRuntime/realtimePeriod: cgroup v2 has no realtime "
        "group scheduling");
  }
  bool quota = c.quota && *c.quota != 0;
  if (c.shares && *c.shares != 0) {
    out.push_back(knob("cpu.weight", std::to_string(cpuSharesToWeight(*c.shares))));
  }
  if (c.burst) {
    out.push_back(knob("cpu.max.burst", std::to_string(*c.burst), Miss::kSkip, quota));
  }
  if (quota || (c.period && *c.period != 0)) {
    // cpu.max is "QUOTA PERIOD"; a lone quota keeps the current period.
    std::string value = quota && *c.quota > 0 ? std::to_string(*c.quota) : "max";
    if (c.period && *c.period != 0) value += " " + std::to_string(*c.period);
    out.push_back(knob("cpu.max", value));
  }
  if (c.idle) out.push_back(knob("cpu.idle", std::to_string(*c.idle)));
  return sys::ok();
}

}  // namespace berth::runtime::cgroup::cpu
