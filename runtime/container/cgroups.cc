// Container cgroup helpers; see cgroups.h.
#include "runtime/container/cgroups.h"

namespace berth::runtime::container {

sys::Result<std::unique_ptr<cgroup::Manager>> openContainerCgroup(const std::string& cgroupsPath,
                                                                  const std::string& id) {
  return cgroup::openManager(cgroupsPath, id);
}

std::vector<config::DeviceCgroupRule> deviceRules(const config::Spec& spec) {
  std::vector<config::DeviceCgroupRule> rules;
  if (spec.linux && spec.linux->resources) rules = spec.linux->resources->devices;
  if (spec.linux) {
    for (const auto& d : spec.linux->devices) {
      rules.push_back({true, d.type == "u" ? "c" : d.type, d.major, d.minor, "rwm"});
    }
  }
  auto allow = [&](const char* type, std::optional<int64_t> major, std::optional<int64_t> minor,
                   const char* access) { rules.push_back({true, type, major, minor, access}); };
  allow("c", std::nullopt, std::nullopt, "m");  // mknod of any device; access stays denied
  allow("b", std::nullopt, std::nullopt, "m");
  allow("c", 1, 3, "rwm");     // /dev/null
  allow("c", 1, 5, "rwm");     // /dev/zero
  allow("c", 1, 7, "rwm");     // /dev/full
  allow("c", 1, 8, "rwm");     // /dev/random
  allow("c", 1, 9, "rwm");     // /dev/urandom
  allow("c", 5, 0, "rwm");     // /dev/tty
  allow("c", 5, 2, "rwm");     // /dev/ptmx
  allow("c", 136, std::nullopt, "rwm");  // /dev/pts/*
  return rules;
}

}  // namespace berth::runtime::container
