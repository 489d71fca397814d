// Unit tests for config validation: the real configs are valid, and each
// class of invalid input is rejected with the offending field named.
#include "runtime/config/validate.h"

#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>

#include "runtime/config/parse.h"
#include "tests/unit/config/testutil.h"

namespace berth::runtime::config {
namespace {

using nlohmann::json;
using testing::fixture;

sys::Result<void> parseAndValidate(const std::string& text) {
  auto spec = parseSpec(text);
  if (!spec.ok()) return std::move(spec).error();
  return validateSpec(*spec);
}

TEST(ValidateSpec, RealConfigsAreValid) {
  for (const char* name :
       {"runc_spec.json", "runc_spec_rootless.json", "podman_userns.json", "full.json"}) {
    auto result = parseAndValidate(fixture(name));
    EXPECT_TRUE(result.ok()) << name << ": " << result.error().str();
  }
}

TEST(ValidateSpec, RelativeMountDestinationIsAccepted) {
  json doc = json::parse(fixture("runc_spec.json"));
  doc["mounts"].push_back({{"destination", "var/data"}, {"type", "tmpfs"}, {"source", "tmpfs"}});
  auto result = parseAndValidate(doc.dump());
  EXPECT_TRUE(result.ok()) << result.error().str();
}

struct Invalid {
  const char* name;
  std::function<void(json&)> mutate;
  const char* message;  // the exact error text
};

std::ostream& operator<<(std::ostream& os, const Invalid& c) {
  return os << c.name;
}

class ValidateSpecRejects : public ::testing::TestWithParam<Invalid> {};

TEST_P(ValidateSpecRejects, NamingTheField) {
  // Start from `runc spec` (valid) plus a seccomp profile, and break one thing.
  json doc = json::parse(fixture("runc_spec.json"));
  doc["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ERRNO"},
                             {"syscalls", {{{"names", {"read"}}, {"action", "SCMP_ACT_ALLOW"}}}}};
  GetParam().mutate(doc);
  auto result = parseAndValidate(doc.dump());
  ASSERT_FALSE(result.ok()) << GetParam().name;
  EXPECT_EQ(result.error().what(), GetParam().message);
  EXPECT_EQ(result.error().code(), 0);
}

json& ns(json& d) {
  return d["linux"]["namespaces"];
}
json& sc(json& d) {
  return d["linux"]["seccomp"];
}
json& res(json& d) {
  return d["linux"]["resources"];
}

const Invalid kInvalid[] = {
    {"no_version", [](json& d) { d.erase("ociVersion"); }, "ociVersion: required"},
    {"version_2", [](json& d) { d["ociVersion"] = "2.0.0"; },
     "ociVersion: unsupported version \"2.0.0\" (need major version 1)"},
    {"version_10", [](json& d) { d["ociVersion"] = "10.1"; },
     "ociVersion: unsupported version \"10.1\" (need major version 1)"},
    {"no_process", [](json& d) { d.erase("process"); }, "process: required"},
    {"empty_args", [](json& d) { d["process"]["args"] = json::array(); },
     "process.args: must not be empty"},
    {"relative_cwd", [](json& d) { d["process"]["cwd"] = "srv"; },
     "process.cwd: must be an absolute path, got \"srv\""},
    {"no_root", [](json& d) { d.erase("root"); }, "root.path: required"},
    {"empty_root", [](json& d) { d["root"]["path"] = ""; }, "root.path: required"},
    {"unknown_cap", [](json& d) { d["process"]["capabilities"]["effective"][1] = "CAP_FLY"; },
     "process.capabilities.effective[1]: unknown capability \"CAP_FLY\""},
    {"lowercase_cap", [](json& d) { d["process"]["capabilities"]["ambient"] = {"chown"}; },
     "process.capabilities.ambient[0]: unknown capability \"chown\""},
    {"unknown_rlimit", [](json& d) { d["process"]["rlimits"][0]["type"] = "RLIMIT_FOO"; },
     "process.rlimits[0].type: unknown rlimit \"RLIMIT_FOO\""},
    {"duplicate_rlimit",
     [](json& d) {
       d["process"]["rlimits"].push_back({{"type", "RLIMIT_NOFILE"}, {"hard", 1}, {"soft", 1}});
     },
     "process.rlimits[1].type: duplicate rlimit \"RLIMIT_NOFILE\""},
    {"soft_above_hard", [](json& d) { d["process"]["rlimits"][0]["soft"] = 4096; },
     "process.rlimits[0]: soft limit 4096 is above hard limit 1024"},
    {"oom_score", [](json& d) { d["process"]["oomScoreAdj"] = 1001; },
     "process.oomScoreAdj: must be between -1000 and 1000"},
    {"unknown_ns", [](json& d) { ns(d)[2]["type"] = "ipcx"; },
     "linux.namespaces[2].type: unknown namespace type \"ipcx\""},
    {"empty_ns", [](json& d) { ns(d)[2]["type"] = ""; }, "linux.namespaces[2].type: required"},
    {"duplicate_ns",
     [](json& d) {
       ns(d).push_back({{"type", "pid"}});
     },
     "linux.namespaces[5].type: duplicate namespace \"pid\" (also in linux.namespaces[0])"},
    {"relative_ns_path", [](json& d) { ns(d)[1]["path"] = "netns/x"; },
     "linux.namespaces[1].path: must be an absolute path, got \"netns/x\""},
    {"hostname_without_uts", [](json& d) { ns(d).erase(3); },
     "hostname: requires a uts namespace in linux.namespaces"},
    {"domainname_without_uts",
     [](json& d) {
       ns(d).erase(3);
       d.erase("hostname");
       d["domainname"] = "x";
     },
     "domainname: requires a uts namespace in linux.namespaces"},
    {"mappings_without_userns",
     [](json& d) {
       d["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 1000}, {"size", 1}}};
     },
     "linux.uidMappings: requires a user namespace in linux.namespaces"},
    {"userns_without_uid_mappings",
     [](json& d) {
       ns(d).push_back({{"type", "user"}});
       d["linux"]["gidMappings"] = {{{"containerID", 0}, {"hostID", 1000}, {"size", 1}}};
     },
     "linux.uidMappings: required by a new user namespace"},
    {"userns_without_gid_mappings",
     [](json& d) {
       ns(d).push_back({{"type", "user"}});
       d["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 1000}, {"size", 1}}};
     },
     "linux.gidMappings: required by a new user namespace"},
    {"mappings_with_joined_userns",
     [](json& d) {
       ns(d).push_back({{"type", "user"}, {"path", "/proc/1/ns/user"}});
       d["linux"]["gidMappings"] = {{{"containerID", 0}, {"hostID", 1000}, {"size", 1}}};
     },
     "linux.gidMappings: not allowed when joining an existing user namespace "
     "(linux.namespaces[5].path)"},
    {"mapping_size_zero",
     [](json& d) {
       ns(d).push_back({{"type", "user"}});
       d["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 1000}, {"size", 0}}};
       d["linux"]["gidMappings"] = d["linux"]["uidMappings"];
     },
     "linux.uidMappings[0].size: must be greater than 0"},
    {"time_offsets_without_timens",
     [](json& d) {
       d["linux"]["timeOffsets"] = {{"boottime", {{"secs", 1}}}};
     },
     "linux.timeOffsets: requires a new time namespace"},
    {"time_offsets_joined_timens",
     [](json& d) {
       ns(d).push_back({{"type", "time"}, {"path", "/proc/1/ns/time"}});
       d["linux"]["timeOffsets"] = {{"boottime", {{"secs", 1}}}};
     },
     "linux.timeOffsets: requires a new time namespace"},
    {"time_offsets_bad_clock",
     [](json& d) {
       ns(d).push_back({{"type", "time"}});
       d["linux"]["timeOffsets"] = {{"realtime", {{"secs", 1}}}};
     },
     "linux.timeOffsets[\"realtime\"]: unknown clock (expected monotonic or boottime)"},
    {"time_offsets_nanosecs",
     [](json& d) {
       ns(d).push_back({{"type", "time"}});
       d["linux"]["timeOffsets"] = {{"monotonic", {{"secs", 1}, {"nanosecs", 1000000000}}}};
     },
     "linux.timeOffsets[\"monotonic\"].nanosecs: must be below 1000000000"},
    {"mount_no_destination", [](json& d) { d["mounts"][3].erase("destination"); },
     "mounts[3].destination: required"},
    {"mount_half_idmap",
     [](json& d) {
       d["mounts"][0]["uidMappings"] = {{{"containerID", 0}, {"hostID", 1}, {"size", 1}}};
     },
     "mounts[0].gidMappings: required for an idmapped mount (both maps must be given)"},
    {"hook_relative",
     [](json& d) {
       d["hooks"]["poststop"] = {{{"path", "cleanup"}}};
     },
     "hooks.poststop[0].path: must be an absolute path, got \"cleanup\""},
    {"hook_no_path",
     [](json& d) {
       d["hooks"]["createRuntime"] = {{{"args", {"x"}}}};
     },
     "hooks.createRuntime[0].path: must be an absolute path, got \"\""},
    {"hook_timeout",
     [](json& d) {
       d["hooks"]["prestart"] = {{{"path", "/x"}, {"timeout", 0}}};
     },
     "hooks.prestart[0].timeout: must be greater than 0"},
    {"device_type",
     [](json& d) {
       d["linux"]["devices"] = {{{"type", "x"}, {"path", "/dev/x"}}};
     },
     "linux.devices[0].type: expected one of c, b, u, p, got \"x\""},
    {"device_path",
     [](json& d) {
       d["linux"]["devices"] = {{{"type", "p"}, {"path", "dev/x"}}};
     },
     "linux.devices[0].path: must be an absolute path, got \"dev/x\""},
    {"device_major",
     [](json& d) {
       d["linux"]["devices"] = {{{"type", "c"}, {"path", "/dev/x"}, {"major", -3}, {"minor", 1}}};
     },
     "linux.devices[0].major: must not be negative"},
    {"device_rule_type", [](json& d) { res(d)["devices"][0]["type"] = "p"; },
     "linux.resources.devices[0].type: expected one of a, c, b, got \"p\""},
    {"device_rule_access", [](json& d) { res(d)["devices"][0]["access"] = "rwx"; },
     "linux.resources.devices[0].access: expected letters of \"rwm\", got \"rwx\""},
    {"memory_swap_below_limit",
     [](json& d) {
       res(d)["memory"] = {{"limit", 2000000}, {"swap", 1000000}};
     },
     "linux.resources.memory.swap: memory+swap limit 1000000 is below the memory limit 2000000"},
    {"memory_limit_negative",
     [](json& d) {
       res(d)["memory"] = {{"limit", -2}};
     },
     "linux.resources.memory.limit: must be -1 (unlimited) or a size in bytes"},
    {"unified_slash",
     [](json& d) {
       res(d)["unified"] = {{"../../cgroup.procs", "1"}};
     },
     "linux.resources.unified[\"../../cgroup.procs\"]: must be a cgroup file name without \"/\" or "
     "\"..\""},
    {"unified_dotdot",
     [](json& d) {
       res(d)["unified"] = {{"..", "1"}};
     },
     "linux.resources.unified[\"..\"]: must be a cgroup file name without \"/\" or \"..\""},
    {"propagation", [](json& d) { d["linux"]["rootfsPropagation"] = "rprivat"; },
     "linux.rootfsPropagation: expected one of shared, slave, private, unbindable (or rshared, "
     "rslave, "
     "rprivate, runbindable), got \"rprivat\""},
    {"seccomp_no_default", [](json& d) { sc(d).erase("defaultAction"); },
     "linux.seccomp.defaultAction: required"},
    {"seccomp_default_action", [](json& d) { sc(d)["defaultAction"] = "SCMP_ACT_DENY"; },
     "linux.seccomp.defaultAction: unknown action \"SCMP_ACT_DENY\""},
    {"seccomp_action", [](json& d) { sc(d)["syscalls"][0]["action"] = "ALLOW"; },
     "linux.seccomp.syscalls[0].action: unknown action \"ALLOW\""},
    {"seccomp_arch",
     [](json& d) {
       sc(d)["architectures"] = {"SCMP_ARCH_X86_64", "x86_64"};
     },
     "linux.seccomp.architectures[1]: unknown architecture \"x86_64\""},
    {"seccomp_flag", [](json& d) { sc(d)["flags"] = {"SECCOMP_FILTER_FLAG_NEW_LISTENER"}; },
     "linux.seccomp.flags[0]: unknown flag \"SECCOMP_FILTER_FLAG_NEW_LISTENER\""},
    {"seccomp_op",
     [](json& d) {
       sc(d)["syscalls"][0]["args"] = {{{"index", 0}, {"value", 1}, {"op", "SCMP_CMP_XOR"}}};
     },
     "linux.seccomp.syscalls[0].args[0].op: unknown operator \"SCMP_CMP_XOR\""},
    {"seccomp_arg_index",
     [](json& d) {
       sc(d)["syscalls"][0]["args"] = {{{"index", 6}, {"value", 1}, {"op", "SCMP_CMP_EQ"}}};
     },
     "linux.seccomp.syscalls[0].args[0].index: must be between 0 and 5"},
    {"seccomp_no_names", [](json& d) { sc(d)["syscalls"][0]["names"] = json::array(); },
     "linux.seccomp.syscalls[0].names: must not be empty"},
    {"seccomp_notify_without_listener",
     [](json& d) { sc(d)["syscalls"][0]["action"] = "SCMP_ACT_NOTIFY"; },
     "linux.seccomp.listenerPath: required by linux.seccomp.syscalls[0].action SCMP_ACT_NOTIFY"},
    {"seccomp_errno_with_allow", [](json& d) { sc(d)["syscalls"][0]["errnoRet"] = 1; },
     "linux.seccomp.syscalls[0].errnoRet: only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE"},
    {"sysctl_host",
     [](json& d) {
       d["linux"]["sysctl"] = {{"vm.swappiness", "10"}};
     },
     "linux.sysctl[\"vm.swappiness\"]: not isolated by any namespace: it would change the host"},
    {"sysctl_kernel_other",
     [](json& d) {
       d["linux"]["sysctl"] = {{"kernel.pid_max", "10"}};
     },
     "linux.sysctl[\"kernel.pid_max\"]: not isolated by any namespace: it would change the host"},
    {"sysctl_net_without_netns",
     [](json& d) {
       ns(d).erase(1);
       d["linux"]["sysctl"] = {{"net/ipv4/ip_forward", "1"}};
     },
     "linux.sysctl[\"net/ipv4/ip_forward\"]: requires a network namespace in linux.namespaces"},
    {"sysctl_ipc_without_ipcns",
     [](json& d) {
       ns(d).erase(2);
       d["linux"]["sysctl"] = {{"kernel.shmmax", "1"}};
     },
     "linux.sysctl[\"kernel.shmmax\"]: requires a ipc namespace in linux.namespaces"},
    {"personality",
     [](json& d) {
       d["linux"]["personality"] = {{"domain", "LINUX64"}};
     },
     "linux.personality.domain: expected LINUX or LINUX32, got \"LINUX64\""},
};

INSTANTIATE_TEST_SUITE_P(Rules, ValidateSpecRejects, ::testing::ValuesIn(kInvalid),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(ValidateProcess, ExecProcessRules) {
  Process p;
  p.args = {"ls"};
  p.cwd = "/";
  EXPECT_TRUE(validateProcess(p).ok());
  p.cwd = "tmp";
  auto bad = validateProcess(p);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().what(), "process.cwd: must be an absolute path, got \"tmp\"");
}

TEST(ValidateResources, UpdateRules) {
  Resources r;
  r.memory = MemoryResources{};
  r.memory->limit = 100;
  r.memory->swap = -1;
  EXPECT_TRUE(validateResources(r).ok());
  r.unified["a/b"] = "1";
  auto bad = validateResources(r, "resources");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().what(),
            "resources.unified[\"a/b\"]: must be a cgroup file name without \"/\" or \"..\"");
}

}  // namespace
}  // namespace berth::runtime::config
