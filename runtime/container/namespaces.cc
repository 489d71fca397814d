// Namespace planning; see namespaces.h.
#include "runtime/container/namespaces.h"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>

#include <algorithm>

namespace berth::runtime::container {

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

int namespaceFlag(const std::string& type) {
  if (type == "pid") return CLONE_NEWPID;
  if (type == "network") return CLONE_NEWNET;
  if (type == "mount") return CLONE_NEWNS;
  if (type == "ipc") return CLONE_NEWIPC;
  if (type == "uts") return CLONE_NEWUTS;
  if (type == "user") return CLONE_NEWUSER;
  if (type == "cgroup") return CLONE_NEWCGROUP;
  if (type == "time") return CLONE_NEWTIME;
  return 0;
}

const char* namespaceProcName(int flag) {
  switch (flag) {
    case CLONE_NEWPID: return "pid";
    case CLONE_NEWNET: return "net";
    case CLONE_NEWNS: return "mnt";
    case CLONE_NEWIPC: return "ipc";
    case CLONE_NEWUTS: return "uts";
    case CLONE_NEWUSER: return "user";
    case CLONE_NEWCGROUP: return "cgroup";
    case CLONE_NEWTIME: return "time";
  }
  return "";
}

bool NamespacePlan::has(int flag) const {
  if (newFlags & flag) return true;
  return std::any_of(joins.begin(), joins.end(), [&](const Join& j) { return j.flag == flag; });
}

sys::Result<NamespacePlan> planNamespaces(const config::Spec& spec) {
  NamespacePlan plan;
  if (!spec.linux) return plan;
  for (size_t i = 0; i < spec.linux->namespaces.size(); ++i) {
    const auto& ns = spec.linux->namespaces[i];
    int flag = namespaceFlag(ns.type);
    std::string field = "linux.namespaces[" + std::to_string(i) + "]";
    if (flag == 0) return sys::Error::invalid(field + ".type: unknown namespace \"" + ns.type + "\"");
    if (ns.path.empty()) {
      plan.newFlags |= flag;
      continue;
    }
    sys::UniqueFd fd(::open(ns.path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return sys::Error::fromErrno(field + ".path: open " + ns.path);
    // setns() would reject a wrong file only in the child, after the clone:
    // check now that the path is a namespace of the type the spec says.
    int actual = ::ioctl(fd.get(), NS_GET_NSTYPE);
    if (actual != flag) {
      return sys::Error(EINVAL,
                        field + ".path: " + ns.path + " is not a namespace of type \"" + ns.type + "\"");
    }
    plan.joins.push_back({flag, std::move(fd)});
  }
  // Joining the user namespace first gives us capabilities over the
  // namespaces it owns; the rest keep the spec's order.
  std::stable_partition(plan.joins.begin(), plan.joins.end(),
                        [](const NamespacePlan::Join& j) { return j.flag == CLONE_NEWUSER; });
  return plan;
}

}  // namespace berth::runtime::container
