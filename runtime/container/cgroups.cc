// Container cgroup helpers; see cgroups.h.
#include "runtime/container/cgroups.h"

#include <fcntl.h>
#include <unistd.h>

#include "runtime/sys/fs.h"

namespace berth::runtime::container {

sys::Result<std::unique_ptr<cgroup::Manager>> openContainerCgroup(const std::string& cgroupsPath,
                                                                  const std::string& id) {
  return cgroup::openManager(cgroupsPath, id);
}

sys::Result<CgroupJoin> openCgroupJoin(const cgroup::Manager& manager) {
  CgroupJoin join;
  for (const auto& m : manager.containerMounts()) {
    if (m.cgroup2) {
      join.cgroup2.reset(::open(m.hostDir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
      if (!join.cgroup2) return sys::Error::fromErrno("open the container's cgroup " + m.hostDir);
      continue;
    }
    std::string path = sys::joinPath(m.hostDir, "tasks");
    sys::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd) return sys::Error::fromErrno("open " + path);
    join.tasks.push_back({std::move(fd), std::move(path)});
  }
  return join;
}

sys::Result<void> joinCgroupsInChild(const std::vector<TasksFile>& tasks) {
  for (const auto& t : tasks) {
    if (::write(t.fd.get(), "0", 1) < 0) return sys::Error::fromErrno("join the container's cgroup " + t.path);
  }
  return sys::ok();
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
