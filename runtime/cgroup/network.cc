// The network controllers of cgroup v1: net_cls (a class id for tc and
// iptables) and net_prio (per-interface priorities). cgroup v2 has neither
// (the equivalent is an eBPF program or the cgroup path itself); like runc,
// the fields are ignored there.
#include "runtime/cgroup/controller.h"

namespace berth::runtime::cgroup::network {

sys::Result<void> planV1(const config::Resources& r, const Current&, KnobList& out) {
  if (!r.network) return sys::ok();
  if (r.network->classID) {
    out.push_back(Knob{"net_cls.classid", std::to_string(*r.network->classID)});
  }
  for (const auto& [interface, priority] : r.network->priorities) {
    if (interface.empty() || interface.find_first_of(" \n") != std::string::npos) {
      return sys::Error::invalid("priorities: invalid interface name \"" + interface + "\"");
    }
    // One "IFACE PRIO" pair per write.
    out.push_back(Knob{"net_prio.ifpriomap", interface + " " + std::to_string(priority)});
  }
  return sys::ok();
}

sys::Result<void> planV2(const config::Resources&, const Current&, KnobList&) {
  return sys::ok();
}

}  // namespace berth::runtime::cgroup::network
