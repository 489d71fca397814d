// The memory controller: limit, reservation, swap, swappiness, OOM killer.
//
// OCI's memory.swap is the memory+swap total (cgroup v1's memsw); cgroup v2
// limits swap alone, so v2 subtracts the memory limit. -1 means unlimited.
#include <cstdint>

#include "runtime/cgroup/controller.h"

namespace berth::runtime::cgroup::memory {
namespace {

using Miss = Knob::IfMissing;

Knob knob(std::string file, std::string value, Miss miss = Miss::kFail) {
  return Knob{std::move(file), std::move(value), miss, {}, {}, false};
}

sys::Result<void> checkSwapAboveLimit(const config::MemoryResources& m) {
  if (m.limit && m.swap && *m.limit > 0 && *m.swap > 0 && *m.swap < *m.limit) {
    return sys::Error::invalid("memory+swap limit " + std::to_string(*m.swap) +
                               " is below the memory limit " + std::to_string(*m.limit));
  }
  return sys::ok();
}

// cgroup v1 requires memory.limit_in_bytes <= memory.memsw.limit_in_bytes at
// every moment, so the order of the two writes depends on the current limit.
void limitAndSwapV1(const config::MemoryResources& m, const Current& current, KnobList& out) {
  std::optional<int64_t> swap = m.swap;
  // Unlimited memory with swap not given also lifts the swap limit.
  if (m.limit == -1 && !swap) swap = -1;
  // Swap accounting may be off (no memsw files); "unlimited" then holds anyway.
  auto swapKnob = [&] {
    return knob("memory.memsw.limit_in_bytes", std::to_string(*swap),
                *swap == -1 ? Miss::kSkip : Miss::kFail);
  };
  auto limitKnob = [&] { return knob("memory.limit_in_bytes", std::to_string(*m.limit)); };
  if (m.limit && *m.limit != 0 && swap && *swap != 0) {
    int64_t now = current.memoryLimit.value_or(INT64_MAX);
    bool swapFirst = *swap == -1 || now < *swap;
    out.push_back(swapFirst ? swapKnob() : limitKnob());
    out.push_back(swapFirst ? limitKnob() : swapKnob());
  } else if (m.limit && *m.limit != 0) {
    out.push_back(limitKnob());
  } else if (swap && *swap != 0) {
    out.push_back(swapKnob());
  }
}

}  // namespace

sys::Result<void> planV1(const config::Resources& r, const Current& current, KnobList& out) {
  if (!r.memory) return sys::ok();
  const auto& m = *r.memory;
  BERTH_TRY(checkSwapAboveLimit(m));
  limitAndSwapV1(m, current, out);
  if (m.reservation && *m.reservation != 0) {
    out.push_back(knob("memory.soft_limit_in_bytes", std::to_string(*m.reservation)));
  }
  // memory.kmem.limit_in_bytes is deprecated and ignored by kernels >= 5.4
  // (runc ignores it too); the TCP buffer limit still works.
  if (m.kernelTCP && *m.kernelTCP != 0) {
    out.push_back(knob("memory.kmem.tcp.limit_in_bytes", std::to_string(*m.kernelTCP)));
  }
  if (m.swappiness) {
    if (*m.swappiness > 100) {
      return sys::Error::invalid("swappiness " + std::to_string(*m.swappiness) +
                                 " is out of range 0-100");
    }
    out.push_back(knob("memory.swappiness", std::to_string(*m.swappiness)));
  }
  if (m.disableOOMKiller.value_or(false)) out.push_back(knob("memory.oom_control", "1"));
  return sys::ok();
}

sys::Result<void> planV2(const config::Resources& r, const Current& current, KnobList& out) {
  if (!r.memory) return sys::ok();
  const auto& m = *r.memory;
  BERTH_TRY(checkSwapAboveLimit(m));
  // swappiness, disableOOMKiller and kernelTCP have no cgroup v2 file; runc
  // drops them too, and failing would make every v1-era config unusable.
  if (m.limit && *m.limit != 0) out.push_back(knob("memory.max", limitString(*m.limit)));
  if (m.swap || m.limit == -1) {
    // `update` may change swap alone: the limit it is relative to is the current one.
    int64_t limit = m.limit.value_or(current.memoryLimit.value_or(-1));
    int64_t swap = BERTH_TRY(swapToV2(m.swap.value_or(0), limit));
    std::string value = limitString(swap);
    if (swap == 0 && m.swap.value_or(0) > 0) value = "0";  // swap == limit: no swap at all
    if (swap != 0 || value == "0") {
      // Without swap accounting there is no memory.swap.max; "max" and "0"
      // are then already true.
      Miss miss = (value == "max" || value == "0") ? Miss::kSkip : Miss::kFail;
      out.push_back(knob("memory.swap.max", value, miss));
    }
  }
  if (m.reservation && *m.reservation != 0) {
    out.push_back(knob("memory.low", limitString(*m.reservation)));
  }
  return sys::ok();
}

}  // namespace berth::runtime::cgroup::memory
