// The resource controllers, one unit each (memory.cc, cpu.cc, ...). Every unit
// has a cgroup v1 and a cgroup v2 planner that turn the config's resources into
// an ordered list of knob writes; they read nothing and write nothing, so the
// rules that decide values (unit conversions, write order, what a missing
// file means) are unit-tested without root. The managers perform the plan.
//
// Devices and freezer are not here: they are not plain file writes (v2 devices
// is an eBPF program, freezing waits for the kernel), see devices.h, freezer.h.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "runtime/cgroup/knob.h"
#include "runtime/config/spec.h"
#include "runtime/sys/result.h"

namespace berth::runtime::cgroup {

// What a plan needs to know about the cgroup as it is now. A fresh cgroup
// (apply) has no limits; `update` reads the few values whose order matters.
struct Current {
  std::optional<int64_t> memoryLimit;  // bytes; nullopt = unlimited
};

using Planner = sys::Result<void> (*)(const config::Resources&, const Current&, KnobList&);

struct Controller {
  std::string_view name;
  Planner planV1;
  Planner planV2;
};

// memory, cpu, cpuset, pids, blkio, hugetlb, network, unified — in write order
// (unified last: its verbatim values override the structured ones).
std::span<const Controller> resourceControllers();

// The full plan for every controller.
sys::Result<KnobList> planV1(const config::Resources& resources, const Current& current = {});
sys::Result<KnobList> planV2(const config::Resources& resources, const Current& current = {});

// The v2 controllers a plan needs enabled in the parents' cgroup.subtree_control.
std::vector<std::string> v2ControllersFor(const KnobList& knobs);

// Value conversions, exposed for tests.
// OCI cpu.shares (2..262144) -> cgroup v2 cpu.weight (1..10000), runc's formula.
uint64_t cpuSharesToWeight(uint64_t shares);
// blkio weight (10..1000) -> cgroup v2 io.weight (1..10000).
uint64_t blkioWeightToIoWeight(uint64_t weight);
// OCI memory.swap is memory+swap; cgroup v2 memory.swap.max is swap alone.
// Returns -1 for "max" and 0 for "not set", like runc.
sys::Result<int64_t> swapToV2(int64_t swap, int64_t limit);
// A limit for a file that takes "max": -1 (or any negative) -> "max".
std::string limitString(int64_t value);

namespace memory {
sys::Result<void> planV1(const config::Resources&, const Current&, KnobList&);
sys::Result<void> planV2(const config::Resources&, const Current&, KnobList&);
}  // namespace memory
namespace cpu {
sys::Result<void> planV1(const config::Resources&, const Current&, KnobList&);
sys::Result<void> planV2(const config::Resources&, const Current&, KnobList&);
}  // namespace cpu
namespace cpuset {
sys::Result<void> planV1(const config::Resources&, const Current&, KnobList&);
sys::Result<void> planV2(const config::Resources&, const Current&, KnobList&);
}  // namespace cpuset
namespace pids {
sys::Result<void> planV1(const config::Resources&, const Current&, KnobList&);
sys::Result<void> planV2(const config::Resources&, const Current&, KnobList&);
}  // namespace pids
namespace blkio {
sys::Result<void> planV1(const config::Resources&, const Current&, KnobList&);
sys::Result<void> planV2(const config::Resources&, const Current&, KnobList&);
}  // namespace blkio
namespace hugetlb {
sys::Result<void> planV1(const config::Resources&, const Current&, KnobList&);
sys::Result<void> planV2(const config::Resources&, const Current&, KnobList&);
}  // namespace hugetlb
namespace network {
sys::Result<void> planV1(const config::Resources&, const Current&, KnobList&);
sys::Result<void> planV2(const config::Resources&, const Current&, KnobList&);
}  // namespace network
namespace unified {
sys::Result<void> planV1(const config::Resources&, const Current&, KnobList&);
sys::Result<void> planV2(const config::Resources&, const Current&, KnobList&);
}  // namespace unified

}  // namespace berth::runtime::cgroup
