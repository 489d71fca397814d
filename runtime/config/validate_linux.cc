// The linux.* validation rules: see validate_linux.h and validate.h.
#include "runtime/config/validate_linux.h"

#include <cstdint>
#include <string>
#include <string_view>

#include "runtime/config/names.h"
#include "runtime/config/validate.h"
#include "runtime/config/field_path.h"

namespace berth::runtime::config {
namespace {

using sys::Error;
using sys::Result;

// ---- linux.devices ----

Result<void> validateDevices(const std::vector<Device>& devices) {
  for (size_t i = 0; i < devices.size(); ++i) {
    const Device& d = devices[i];
    std::string field = at("linux.devices", i);
    if (d.type != "c" && d.type != "b" && d.type != "u" && d.type != "p") {
      return bad(at(field, "type"), "expected one of c, b, u, p, got " + quoted(d.type));
    }
    if (d.path.empty() || d.path.front() != '/') {
      return bad(at(field, "path"), "must be an absolute path, got " + quoted(d.path));
    }
    if (d.major < 0) return bad(at(field, "major"), "must not be negative");
    if (d.minor < 0) return bad(at(field, "minor"), "must not be negative");
  }
  return sys::ok();
}

// ---- linux.resources ----

Result<void> validateDeviceRules(const std::vector<DeviceCgroupRule>& rules,
                                 const std::string& base) {
  for (size_t i = 0; i < rules.size(); ++i) {
    const DeviceCgroupRule& r = rules[i];
    std::string field = at(base, i);
    if (!r.type.empty() && r.type != "a" && r.type != "c" && r.type != "b") {
      return bad(at(field, "type"), "expected one of a, c, b, got " + quoted(r.type));
    }
    if (r.access.find_first_not_of("rwm") != std::string::npos) {
      return bad(at(field, "access"), "expected letters of \"rwm\", got " + quoted(r.access));
    }
    // -1 is accepted as the wildcard some clients write instead of leaving the field out.
    if (r.major && *r.major < -1) return bad(at(field, "major"), "must not be negative");
    if (r.minor && *r.minor < -1) return bad(at(field, "minor"), "must not be negative");
  }
  return sys::ok();
}

Result<void> validateMemory(const MemoryResources& m, const std::string& base) {
  const std::pair<const char*, const std::optional<int64_t>*> limits[] = {
      {"limit", &m.limit}, {"reservation", &m.reservation}, {"swap", &m.swap}};
  for (const auto& [name, value] : limits) {
    if (*value && **value < -1)
      return bad(at(base, name), "must be -1 (unlimited) or a size in bytes");
  }
  // memory.swap is memory+swap (cgroup v1 memsw semantics): it cannot be below the limit.
  if (m.limit && m.swap && *m.limit > 0 && *m.swap > 0 && *m.swap < *m.limit) {
    return bad(at(base, "swap"), "memory+swap limit " + std::to_string(*m.swap) +
                                     " is below the memory limit " + std::to_string(*m.limit));
  }
  // UINT64_MAX is Go's uint64(-1), which runc and docker read as "not set".
  if (m.swappiness && *m.swappiness > 100 && *m.swappiness != UINT64_MAX)
    return bad(at(base, "swappiness"), "must be between 0 and 100");
  return sys::ok();
}

Result<void> validateUnified(const std::map<std::string, std::string>& unified,
                             const std::string& base) {
  for (const auto& [key, value] : unified) {
    // A key names a file in the container's cgroup directory: never a path out of it.
    if (key.empty() || key.find('/') != std::string::npos || key.find("..") != std::string::npos) {
      return bad(base + "[\"" + key + "\"]", "must be a cgroup file name without \"/\" or \"..\"");
    }
  }
  return sys::ok();
}

Result<void> validateHugepages(const std::vector<HugepageLimit>& limits, const std::string& base) {
  for (size_t i = 0; i < limits.size(); ++i) {
    if (limits[i].pageSize.empty()) return bad(at(at(base, i), "pageSize"), "required");
  }
  return sys::ok();
}

// ---- linux.seccomp ----

bool takesErrno(std::string_view action) {
  return action == "SCMP_ACT_ERRNO" || action == "SCMP_ACT_TRACE";
}

Result<void> validateAction(std::string_view action, const std::optional<uint32_t>& errnoRet,
                            const Seccomp& seccomp, const std::string& actionField,
                            const std::string& errnoField) {
  if (action.empty()) return bad(actionField, "required");
  if (!contains(seccompActions(), action))
    return bad(actionField, "unknown action " + quoted(action));
  if (errnoRet && !takesErrno(action)) {
    return bad(errnoField, "only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE");
  }
  // The notify fd is handed to the agent listening on listenerPath; without one
  // every notified syscall would block forever.
  if (action == "SCMP_ACT_NOTIFY" && seccomp.listenerPath.empty()) {
    return bad("linux.seccomp.listenerPath", "required by " + actionField + " SCMP_ACT_NOTIFY");
  }
  return sys::ok();
}

Result<void> validateSyscall(const SeccompSyscall& call, const Seccomp& seccomp,
                             const std::string& field) {
  if (call.names.empty()) return bad(at(field, "names"), "must not be empty");
  for (size_t i = 0; i < call.names.size(); ++i) {
    if (call.names[i].empty()) return bad(at(at(field, "names"), i), "must not be empty");
  }
  BERTH_TRY(validateAction(call.action, call.errnoRet, seccomp, at(field, "action"),
                           at(field, "errnoRet")));
  for (size_t i = 0; i < call.args.size(); ++i) {
    const SeccompArg& arg = call.args[i];
    std::string argField = at(at(field, "args"), i);
    // Syscalls have at most six arguments.
    if (arg.index > 5) return bad(at(argField, "index"), "must be between 0 and 5");
    if (!contains(seccompOperators(), arg.op))
      return bad(at(argField, "op"), "unknown operator " + quoted(arg.op));
  }
  return sys::ok();
}

Result<void> validateSeccomp(const Seccomp& seccomp) {
  const std::string base = "linux.seccomp";
  BERTH_TRY(validateAction(seccomp.defaultAction, seccomp.defaultErrnoRet, seccomp,
                           at(base, "defaultAction"), at(base, "defaultErrnoRet")));
  for (size_t i = 0; i < seccomp.architectures.size(); ++i) {
    if (!contains(seccompArchs(), seccomp.architectures[i])) {
      return bad(at(at(base, "architectures"), i),
                 "unknown architecture " + quoted(seccomp.architectures[i]));
    }
  }
  for (size_t i = 0; i < seccomp.flags.size(); ++i) {
    if (!contains(seccompKnownFlags(), seccomp.flags[i])) {
      return bad(at(at(base, "flags"), i), "unknown flag " + quoted(seccomp.flags[i]));
    }
  }
  for (size_t i = 0; i < seccomp.syscalls.size(); ++i) {
    BERTH_TRY(validateSyscall(seccomp.syscalls[i], seccomp, at(at(base, "syscalls"), i)));
  }
  return sys::ok();
}

// ---- linux.sysctl ----

bool startsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// Which namespace isolates a sysctl, as runc decides it; nullptr for the ones
// no namespace isolates (setting those would change the host).
const char* sysctlNamespace(std::string key) {
  for (char& c : key) {
    if (c == '/') c = '.';  // "net/ipv4/ip_forward" is the same knob
  }
  if (startsWith(key, "kernel.shm") || startsWith(key, "kernel.msg") || key == "kernel.sem" ||
      startsWith(key, "fs.mqueue.")) {
    return "ipc";
  }
  if (startsWith(key, "net.")) return "network";
  if (key == "kernel.hostname" || key == "kernel.domainname") return "uts";
  return nullptr;
}

Result<void> validateSysctl(const std::map<std::string, std::string>& sysctl, SysctlNamespaces ns) {
  for (const auto& [key, value] : sysctl) {
    std::string field = "linux.sysctl[\"" + key + "\"]";
    const char* owner = sysctlNamespace(key);
    if (owner == nullptr)
      return bad(field, "not isolated by any namespace: it would change the host");
    bool present = (std::string_view(owner) == "ipc" && ns.ipc) ||
                   (std::string_view(owner) == "network" && ns.network) ||
                   (std::string_view(owner) == "uts" && ns.uts);
    if (!present)
      return bad(field, std::string("requires a ") + owner + " namespace in linux.namespaces");
  }
  return sys::ok();
}

}  // namespace

Result<void> validateResources(const Resources& r, std::string_view prefix) {
  std::string base(prefix);
  BERTH_TRY(validateDeviceRules(r.devices, at(base, "devices")));
  if (r.memory) BERTH_TRY(validateMemory(*r.memory, at(base, "memory")));
  BERTH_TRY(validateHugepages(r.hugepageLimits, at(base, "hugepageLimits")));
  return validateUnified(r.unified, at(base, "unified"));
}

Result<void> validateLinuxDetails(const Linux& linux, SysctlNamespaces ns) {
  BERTH_TRY(validateDevices(linux.devices));
  if (linux.resources) BERTH_TRY(validateResources(*linux.resources, "linux.resources"));
  if (!linux.rootfsPropagation.empty() &&
      !contains(rootfsPropagations(), linux.rootfsPropagation)) {
    return bad("linux.rootfsPropagation",
               "expected one of shared, slave, private, unbindable "
               "(or rshared, rslave, rprivate, runbindable), got " +
                   quoted(linux.rootfsPropagation));
  }
  if (linux.seccomp) BERTH_TRY(validateSeccomp(*linux.seccomp));
  BERTH_TRY(validateSysctl(linux.sysctl, ns));
  if (linux.personalityDomain && *linux.personalityDomain != "LINUX" &&
      *linux.personalityDomain != "LINUX32") {
    return bad("linux.personality.domain",
               "expected LINUX or LINUX32, got " + quoted(*linux.personalityDomain));
  }
  return sys::ok();
}

}  // namespace berth::runtime::config
