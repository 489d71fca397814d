// Config validation: see validate.h.
//
// Each rule is one small function that returns the first violation with the
// field path, in the same notation the parser uses ("mounts[2].destination").
#include "runtime/config/validate.h"

#include <array>
#include <set>
#include <string>

#include "runtime/config/names.h"
#include "runtime/config/validate_linux.h"
#include "runtime/config/field_path.h"

namespace berth::runtime::config {
namespace {

using sys::Error;
using sys::Result;

bool isAbsolute(std::string_view path) {
  return !path.empty() && path.front() == '/';
}

// ---- namespaces: collected once, consulted by the rules that depend on them ----

struct NamespaceInfo {
  bool present = false;
  bool created = false;  // no path: the runtime makes a new one
  size_t index = 0;
};

// Indexed like knownNamespaces(), the table the features document advertises.
class NamespaceSet {
 public:
  const NamespaceInfo& operator[](std::string_view type) const {
    size_t i = indexOf(type);
    return i < info_.size() ? info_[i] : none_;
  }
  NamespaceInfo* find(std::string_view type) {
    size_t i = indexOf(type);
    return i < info_.size() ? &info_[i] : nullptr;
  }

 private:
  static size_t indexOf(std::string_view type) {
    const auto& names = knownNamespaces();
    size_t i = 0;
    while (i < names.size() && names[i] != type) ++i;
    return i;
  }

  std::array<NamespaceInfo, 8> info_{};
  NamespaceInfo none_{};
};

Result<NamespaceSet> collectNamespaces(const std::vector<Namespace>& namespaces) {
  NamespaceSet set;
  for (size_t i = 0; i < namespaces.size(); ++i) {
    const Namespace& ns = namespaces[i];
    std::string field = at("linux.namespaces", i);
    NamespaceInfo* info = set.find(ns.type);
    if (ns.type.empty()) return bad(at(field, "type"), "required");
    if (info == nullptr) return bad(at(field, "type"), "unknown namespace type " + quoted(ns.type));
    if (info->present) {
      return bad(at(field, "type"), "duplicate namespace " + quoted(ns.type) + " (also in " +
                                        at("linux.namespaces", info->index) + ")");
    }
    if (!ns.path.empty() && !isAbsolute(ns.path)) {
      return bad(at(field, "path"), "must be an absolute path, got " + quoted(ns.path));
    }
    *info = NamespaceInfo{true, ns.path.empty(), i};
  }
  return set;
}

// ---- top level ----

Result<void> validateVersion(const std::string& version) {
  if (version.empty()) return bad("ociVersion", "required");
  size_t digits = 0;
  while (digits < version.size() && version[digits] >= '0' && version[digits] <= '9') ++digits;
  bool majorOne =
      version.substr(0, digits) == "1" && (digits == version.size() || version[digits] == '.');
  if (!majorOne) {
    return bad("ociVersion", "unsupported version " + quoted(version) + " (need major version 1)");
  }
  return sys::ok();
}

Result<void> validateNames(const std::vector<std::string>& names,
                           const std::vector<std::string>& table, std::string_view field,
                           std::string_view kind) {
  for (size_t i = 0; i < names.size(); ++i) {
    if (!contains(table, names[i])) {
      return bad(at(field, i), "unknown " + std::string(kind) + " " + quoted(names[i]));
    }
  }
  return sys::ok();
}

Result<void> validateCapabilities(const Capabilities& caps, const std::string& field) {
  const auto& known = knownCapabilities();
  const std::pair<const char*, const std::vector<std::string>*> sets[] = {
      {"bounding", &caps.bounding},       {"effective", &caps.effective},
      {"inheritable", &caps.inheritable}, {"permitted", &caps.permitted},
      {"ambient", &caps.ambient},
  };
  for (const auto& [name, list] : sets) {
    BERTH_TRY(validateNames(*list, known, at(field, name), "capability"));
  }
  return sys::ok();
}

Result<void> validateRlimits(const std::vector<Rlimit>& rlimits, const std::string& field) {
  std::set<std::string_view> seen;
  for (size_t i = 0; i < rlimits.size(); ++i) {
    const Rlimit& r = rlimits[i];
    std::string item = at(field, i);
    if (!contains(knownRlimits(), r.type)) {
      return bad(at(item, "type"), "unknown rlimit " + quoted(r.type));
    }
    // runtime-spec: "the runtime MUST generate an error for any duplicate entries".
    if (!seen.insert(r.type).second)
      return bad(at(item, "type"), "duplicate rlimit " + quoted(r.type));
    // setrlimit(2) fails with EINVAL for this; say so before the container exists.
    if (r.soft > r.hard) {
      return bad(item, "soft limit " + std::to_string(r.soft) + " is above hard limit " +
                           std::to_string(r.hard));
    }
  }
  return sys::ok();
}

Result<void> validateRoot(const std::optional<Root>& root) {
  if (!root || root->path.empty()) return bad("root.path", "required");
  return sys::ok();
}

Result<void> validateHostnames(const Spec& spec, const NamespaceSet& ns) {
  // As runc: setting a name without a private UTS namespace would rename the host.
  if (!spec.hostname.empty() && !ns["uts"].present) {
    return bad("hostname", "requires a uts namespace in linux.namespaces");
  }
  if (!spec.domainname.empty() && !ns["uts"].present) {
    return bad("domainname", "requires a uts namespace in linux.namespaces");
  }
  return sys::ok();
}

Result<void> validateMappingSizes(const std::vector<IdMapping>& mappings,
                                  const std::string& field) {
  for (size_t i = 0; i < mappings.size(); ++i) {
    if (mappings[i].size == 0) return bad(at(at(field, i), "size"), "must be greater than 0");
  }
  return sys::ok();
}

Result<void> validateIdMappings(const Linux& linux, const NamespaceSet& ns) {
  BERTH_TRY(validateMappingSizes(linux.uidMappings, "linux.uidMappings"));
  BERTH_TRY(validateMappingSizes(linux.gidMappings, "linux.gidMappings"));
  const NamespaceInfo& user = ns["user"];
  bool hasMappings = !linux.uidMappings.empty() || !linux.gidMappings.empty();
  const char* field = !linux.uidMappings.empty() ? "linux.uidMappings" : "linux.gidMappings";
  if (!user.present && hasMappings)
    return bad(field, "requires a user namespace in linux.namespaces");
  if (user.present && !user.created && hasMappings) {
    return bad(field, "not allowed when joining an existing user namespace (" +
                          at(at("linux.namespaces", user.index), "path") + ")");
  }
  if (user.created && linux.uidMappings.empty()) {
    return bad("linux.uidMappings", "required by a new user namespace");
  }
  if (user.created && linux.gidMappings.empty()) {
    return bad("linux.gidMappings", "required by a new user namespace");
  }
  return sys::ok();
}

Result<void> validateTimeOffsets(const Linux& linux, const NamespaceSet& ns) {
  if (linux.timeOffsets.empty()) return sys::ok();
  // The offsets can only be written before the first process enters a new time namespace.
  if (!ns["time"].created) return bad("linux.timeOffsets", "requires a new time namespace");
  for (const auto& [clock, offset] : linux.timeOffsets) {
    std::string field = "linux.timeOffsets[\"" + clock + "\"]";
    if (clock != "monotonic" && clock != "boottime") {
      return bad(field, "unknown clock (expected monotonic or boottime)");
    }
    if (offset.nanosecs >= 1000000000u)
      return bad(at(field, "nanosecs"), "must be below 1000000000");
  }
  return sys::ok();
}

Result<void> validateMounts(const std::vector<Mount>& mounts) {
  for (size_t i = 0; i < mounts.size(); ++i) {
    const Mount& m = mounts[i];
    std::string field = at("mounts", i);
    // A relative destination is accepted, as runc does: it is taken relative to "/".
    if (m.destination.empty()) return bad(at(field, "destination"), "required");
    BERTH_TRY(validateMappingSizes(m.uidMappings, at(field, "uidMappings")));
    BERTH_TRY(validateMappingSizes(m.gidMappings, at(field, "gidMappings")));
    // An idmapped mount needs both maps to build its user namespace.
    if (m.uidMappings.empty() != m.gidMappings.empty()) {
      const char* missing = m.uidMappings.empty() ? "uidMappings" : "gidMappings";
      return bad(at(field, missing), "required for an idmapped mount (both maps must be given)");
    }
  }
  return sys::ok();
}

Result<void> validateHookList(const std::vector<Hook>& hooks, const std::string& field) {
  for (size_t i = 0; i < hooks.size(); ++i) {
    const Hook& h = hooks[i];
    std::string item = at(field, i);
    if (!isAbsolute(h.path))
      return bad(at(item, "path"), "must be an absolute path, got " + quoted(h.path));
    if (h.timeout && *h.timeout <= 0) return bad(at(item, "timeout"), "must be greater than 0");
  }
  return sys::ok();
}

Result<void> validateHooks(const std::optional<Hooks>& hooks) {
  if (!hooks) return sys::ok();
  BERTH_TRY(validateHookList(hooks->prestart, "hooks.prestart"));
  BERTH_TRY(validateHookList(hooks->createRuntime, "hooks.createRuntime"));
  BERTH_TRY(validateHookList(hooks->createContainer, "hooks.createContainer"));
  BERTH_TRY(validateHookList(hooks->startContainer, "hooks.startContainer"));
  BERTH_TRY(validateHookList(hooks->poststart, "hooks.poststart"));
  return validateHookList(hooks->poststop, "hooks.poststop");
}

}  // namespace

Result<void> validateProcess(const Process& process, std::string_view prefix) {
  if (process.args.empty()) return bad(at(prefix, "args"), "must not be empty");
  if (!isAbsolute(process.cwd)) {
    return bad(at(prefix, "cwd"), "must be an absolute path, got " + quoted(process.cwd));
  }
  if (process.capabilities) {
    BERTH_TRY(validateCapabilities(*process.capabilities, at(prefix, "capabilities")));
  }
  BERTH_TRY(validateRlimits(process.rlimits, at(prefix, "rlimits")));
  if (process.oomScoreAdj && (*process.oomScoreAdj < -1000 || *process.oomScoreAdj > 1000)) {
    return bad(at(prefix, "oomScoreAdj"), "must be between -1000 and 1000");
  }
  return sys::ok();
}

Result<void> validateSpec(const Spec& spec) {
  BERTH_TRY(validateVersion(spec.ociVersion));
  if (!spec.process) return bad("process", "required");
  BERTH_TRY(validateProcess(*spec.process, "process"));
  BERTH_TRY(validateRoot(spec.root));
  static const Linux kNoLinux;
  const Linux& linux = spec.linux ? *spec.linux : kNoLinux;
  NamespaceSet ns = BERTH_TRY(collectNamespaces(linux.namespaces));
  BERTH_TRY(validateHostnames(spec, ns));
  BERTH_TRY(validateIdMappings(linux, ns));
  BERTH_TRY(validateTimeOffsets(linux, ns));
  BERTH_TRY(validateMounts(spec.mounts));
  BERTH_TRY(validateHooks(spec.hooks));
  return validateLinuxDetails(linux, {ns["network"].present, ns["ipc"].present, ns["uts"].present});
}

}  // namespace berth::runtime::config
