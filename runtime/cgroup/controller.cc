// The controller table and whole-config plans: see controller.h.
#include "runtime/cgroup/controller.h"

#include <algorithm>
#include <array>

namespace berth::runtime::cgroup {
namespace {

constexpr std::array<Controller, 8> kControllers = {{
    {"memory", memory::planV1, memory::planV2},
    {"cpu", cpu::planV1, cpu::planV2},
    {"cpuset", cpuset::planV1, cpuset::planV2},
    {"pids", pids::planV1, pids::planV2},
    {"blkio", blkio::planV1, blkio::planV2},
    {"hugetlb", hugetlb::planV1, hugetlb::planV2},
    {"network", network::planV1, network::planV2},
    {"unified", unified::planV1, unified::planV2},
}};

sys::Result<KnobList> plan(const config::Resources& resources, const Current& current,
                           Planner Controller::*which) {
  KnobList knobs;
  for (const auto& controller : kControllers) {
    BERTH_TRY_CTX((controller.*which)(resources, current, knobs),
                  "resources." + std::string(controller.name));
  }
  return knobs;
}

}  // namespace

std::span<const Controller> resourceControllers() {
  return kControllers;
}

sys::Result<KnobList> planV1(const config::Resources& resources, const Current& current) {
  return plan(resources, current, &Controller::planV1);
}

sys::Result<KnobList> planV2(const config::Resources& resources, const Current& current) {
  return plan(resources, current, &Controller::planV2);
}

std::vector<std::string> v2ControllersFor(const KnobList& knobs) {
  std::vector<std::string> out;
  for (const auto& knob : knobs) {
    std::string controller(knobController(knob.file));
    // cgroup.* files belong to the core, which is always there.
    if (controller == "cgroup") continue;
    if (std::find(out.begin(), out.end(), controller) == out.end()) out.push_back(controller);
  }
  return out;
}

uint64_t cpuSharesToWeight(uint64_t shares) {
  if (shares == 0) return 0;
  shares = std::clamp<uint64_t>(shares, 2, 262144);
  return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t blkioWeightToIoWeight(uint64_t weight) {
  if (weight == 0) return 0;
  weight = std::clamp<uint64_t>(weight, 10, 1000);
  return 1 + (weight - 10) * 9999 / 990;
}

sys::Result<int64_t> swapToV2(int64_t swap, int64_t limit) {
  // Unlimited memory with swap not given: both unlimited, as on cgroup v1.
  if (limit == -1 && swap == 0) return -1;
  if (swap == -1 || swap == 0) return swap;
  if (limit <= 0) return sys::Error::invalid("swap: a swap limit needs a memory limit");
  if (swap < limit) {
    return sys::Error::invalid("swap: memory+swap limit " + std::to_string(swap) +
                               " is below the memory limit " + std::to_string(limit));
  }
  return swap - limit;
}

std::string limitString(int64_t value) {
  return value < 0 ? "max" : std::to_string(value);
}

}  // namespace berth::runtime::cgroup
