// openManager: picks the implementation for the host layout. See manager.h.
#include "runtime/cgroup/manager.h"

#include "runtime/cgroup/managers.h"

namespace berth::runtime::cgroup {

sys::Result<std::unique_ptr<Manager>> openManager(const Hierarchies& hierarchies,
                                                  const std::string& cgroupsPath,
                                                  const std::string& containerId) {
  auto path = BERTH_TRY(parseCgroupsPath(cgroupsPath, containerId));
  switch (hierarchies.layout) {
    case Layout::kV1:
    case Layout::kHybrid:
      return makeV1Manager(hierarchies, path);
    case Layout::kV2:
      if (hierarchies.unifiedMount.empty()) {
        return sys::Error(ENOENT, "cgroup v2 layout without a cgroup2 mount");
      }
      return makeV2Manager(hierarchies, path);
  }
  return sys::Error::invalid("unknown cgroup layout");
}

sys::Result<std::unique_ptr<Manager>> openManager(const std::string& cgroupsPath,
                                                  const std::string& containerId) {
  auto hierarchies = BERTH_TRY(detectHierarchies());
  return openManager(hierarchies, cgroupsPath, containerId);
}

}  // namespace berth::runtime::cgroup
