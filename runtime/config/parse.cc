// Parsing config.json into the config model: see parse.h.
//
// One Reader<T>::read per struct of spec.h, each listing the struct's JSON
// fields in spec order. The generic machinery (types, ranges, paths) lives
// in json_reader.h.
#include "runtime/config/parse.h"

#include <utility>

#include "runtime/config/json_reader.h"
#include "runtime/sys/fs.h"

namespace berth::runtime::config {
namespace json {

#define BERTH_DECLARE_READER(Type)                                          \
  template <>                                                               \
  struct Reader<Type> {                                                     \
    static sys::Result<void> read(const Json& v, const Path& p, Type& out); \
  }

BERTH_DECLARE_READER(User);
BERTH_DECLARE_READER(Rlimit);
BERTH_DECLARE_READER(Capabilities);
BERTH_DECLARE_READER(ConsoleSize);
BERTH_DECLARE_READER(Process);
BERTH_DECLARE_READER(Root);
BERTH_DECLARE_READER(IdMapping);
BERTH_DECLARE_READER(Mount);
BERTH_DECLARE_READER(Hook);
BERTH_DECLARE_READER(Hooks);
BERTH_DECLARE_READER(Namespace);
BERTH_DECLARE_READER(Device);
BERTH_DECLARE_READER(DeviceCgroupRule);
BERTH_DECLARE_READER(MemoryResources);
BERTH_DECLARE_READER(CpuResources);
BERTH_DECLARE_READER(PidsResources);
BERTH_DECLARE_READER(WeightDevice);
BERTH_DECLARE_READER(ThrottleDevice);
BERTH_DECLARE_READER(BlockIoResources);
BERTH_DECLARE_READER(HugepageLimit);
using InterfacePriority = std::pair<std::string, uint32_t>;
BERTH_DECLARE_READER(InterfacePriority);
BERTH_DECLARE_READER(NetworkResources);
BERTH_DECLARE_READER(Resources);
BERTH_DECLARE_READER(SeccompArg);
BERTH_DECLARE_READER(SeccompSyscall);
BERTH_DECLARE_READER(Seccomp);
BERTH_DECLARE_READER(TimeOffset);
BERTH_DECLARE_READER(Linux);
BERTH_DECLARE_READER(Spec);

#undef BERTH_DECLARE_READER

// ---- process ----

sys::Result<void> Reader<User>::read(const Json& v, const Path& p, User& out) {
  Fields f(v, p);
  f("uid", out.uid)("gid", out.gid)("umask", out.umask)("additionalGids", out.additionalGids);
  f("username", out.username);
  return std::move(f).result();
}

sys::Result<void> Reader<Rlimit>::read(const Json& v, const Path& p, Rlimit& out) {
  Fields f(v, p);
  f("type", out.type)("hard", out.hard)("soft", out.soft);
  return std::move(f).result();
}

sys::Result<void> Reader<Capabilities>::read(const Json& v, const Path& p, Capabilities& out) {
  Fields f(v, p);
  f("bounding", out.bounding)("effective", out.effective)("inheritable", out.inheritable);
  f("permitted", out.permitted)("ambient", out.ambient);
  return std::move(f).result();
}

sys::Result<void> Reader<ConsoleSize>::read(const Json& v, const Path& p, ConsoleSize& out) {
  Fields f(v, p);
  f("height", out.height)("width", out.width);
  return std::move(f).result();
}

sys::Result<void> Reader<Process>::read(const Json& v, const Path& p, Process& out) {
  Fields f(v, p);
  f("terminal", out.terminal)("consoleSize", out.consoleSize)("user", out.user);
  f("args", out.args)("commandLine", out.commandLine)("env", out.env)("cwd", out.cwd);
  f("capabilities", out.capabilities)("rlimits", out.rlimits);
  f("noNewPrivileges", out.noNewPrivileges)("apparmorProfile", out.apparmorProfile);
  f("oomScoreAdj", out.oomScoreAdj)("selinuxLabel", out.selinuxLabel);
  return std::move(f).result();
}

// ---- root, mounts, hooks ----

sys::Result<void> Reader<Root>::read(const Json& v, const Path& p, Root& out) {
  Fields f(v, p);
  f("path", out.path)("readonly", out.readonly);
  return std::move(f).result();
}

sys::Result<void> Reader<IdMapping>::read(const Json& v, const Path& p, IdMapping& out) {
  Fields f(v, p);
  f("containerID", out.containerID)("hostID", out.hostID)("size", out.size);
  return std::move(f).result();
}

sys::Result<void> Reader<Mount>::read(const Json& v, const Path& p, Mount& out) {
  Fields f(v, p);
  f("destination", out.destination)("type", out.type)("source", out.source);
  f("options", out.options)("uidMappings", out.uidMappings)("gidMappings", out.gidMappings);
  return std::move(f).result();
}

sys::Result<void> Reader<Hook>::read(const Json& v, const Path& p, Hook& out) {
  Fields f(v, p);
  f("path", out.path)("args", out.args)("env", out.env)("timeout", out.timeout);
  return std::move(f).result();
}

sys::Result<void> Reader<Hooks>::read(const Json& v, const Path& p, Hooks& out) {
  Fields f(v, p);
  f("prestart", out.prestart)("createRuntime", out.createRuntime);
  f("createContainer", out.createContainer)("startContainer", out.startContainer);
  f("poststart", out.poststart)("poststop", out.poststop);
  return std::move(f).result();
}

// ---- linux: namespaces, devices ----

sys::Result<void> Reader<Namespace>::read(const Json& v, const Path& p, Namespace& out) {
  Fields f(v, p);
  f("type", out.type)("path", out.path);
  return std::move(f).result();
}

sys::Result<void> Reader<Device>::read(const Json& v, const Path& p, Device& out) {
  Fields f(v, p);
  f("type", out.type)("path", out.path)("major", out.major)("minor", out.minor);
  f("fileMode", out.fileMode)("uid", out.uid)("gid", out.gid);
  // The model cannot tell an absent number from 0, so the spec's "required
  // for c, b and u" is checked here, where absence is still visible.
  if (out.type == "c" || out.type == "b" || out.type == "u") {
    for (const char* key : {"major", "minor"}) {
      if (f.find(key) == nullptr) f.fail(key, "required for device type " + out.type);
    }
  }
  return std::move(f).result();
}

// ---- linux.resources ----

sys::Result<void> Reader<DeviceCgroupRule>::read(const Json& v, const Path& p,
                                                 DeviceCgroupRule& out) {
  Fields f(v, p);
  f("allow", out.allow)("type", out.type)("major", out.major)("minor", out.minor);
  f("access", out.access);
  return std::move(f).result();
}

sys::Result<void> Reader<MemoryResources>::read(const Json& v, const Path& p,
                                                MemoryResources& out) {
  Fields f(v, p);
  f("limit", out.limit)("reservation", out.reservation)("swap", out.swap)("kernel", out.kernel);
  f("kernelTCP", out.kernelTCP)("swappiness", out.swappiness);
  f("disableOOMKiller", out.disableOOMKiller)("useHierarchy", out.useHierarchy);
  f("checkBeforeUpdate", out.checkBeforeUpdate);
  return std::move(f).result();
}

sys::Result<void> Reader<CpuResources>::read(const Json& v, const Path& p, CpuResources& out) {
  Fields f(v, p);
  f("shares", out.shares)("quota", out.quota)("burst", out.burst)("period", out.period);
  f("realtimeRuntime", out.realtimeRuntime)("realtimePeriod", out.realtimePeriod);
  f("cpus", out.cpus)("mems", out.mems)("idle", out.idle);
  return std::move(f).result();
}

sys::Result<void> Reader<PidsResources>::read(const Json& v, const Path& p, PidsResources& out) {
  Fields f(v, p);
  f("limit", out.limit);
  return std::move(f).result();
}

sys::Result<void> Reader<WeightDevice>::read(const Json& v, const Path& p, WeightDevice& out) {
  Fields f(v, p);
  f("major", out.major)("minor", out.minor)("weight", out.weight)("leafWeight", out.leafWeight);
  return std::move(f).result();
}

sys::Result<void> Reader<ThrottleDevice>::read(const Json& v, const Path& p, ThrottleDevice& out) {
  Fields f(v, p);
  f("major", out.major)("minor", out.minor)("rate", out.rate);
  return std::move(f).result();
}

sys::Result<void> Reader<BlockIoResources>::read(const Json& v, const Path& p,
                                                 BlockIoResources& out) {
  Fields f(v, p);
  f("weight", out.weight)("leafWeight", out.leafWeight)("weightDevice", out.weightDevice);
  f("throttleReadBpsDevice", out.throttleReadBpsDevice);
  f("throttleWriteBpsDevice", out.throttleWriteBpsDevice);
  f("throttleReadIOPSDevice", out.throttleReadIOPSDevice);
  f("throttleWriteIOPSDevice", out.throttleWriteIOPSDevice);
  return std::move(f).result();
}

sys::Result<void> Reader<HugepageLimit>::read(const Json& v, const Path& p, HugepageLimit& out) {
  Fields f(v, p);
  f("pageSize", out.pageSize)("limit", out.limit);
  return std::move(f).result();
}

sys::Result<void> Reader<InterfacePriority>::read(const Json& v, const Path& p,
                                                  InterfacePriority& out) {
  Fields f(v, p);
  f("name", out.first)("priority", out.second);
  return std::move(f).result();
}

sys::Result<void> Reader<NetworkResources>::read(const Json& v, const Path& p,
                                                 NetworkResources& out) {
  Fields f(v, p);
  f("classID", out.classID)("priorities", out.priorities);
  return std::move(f).result();
}

sys::Result<void> Reader<Resources>::read(const Json& v, const Path& p, Resources& out) {
  Fields f(v, p);
  f("devices", out.devices)("memory", out.memory)("cpu", out.cpu)("pids", out.pids);
  f("blockIO", out.blockIO)("hugepageLimits", out.hugepageLimits)("network", out.network);
  f("unified", out.unified);
  // "rdma" is not in the model: berth reports rdma:false in its features.
  return std::move(f).result();
}

// ---- linux.seccomp ----

sys::Result<void> Reader<SeccompArg>::read(const Json& v, const Path& p, SeccompArg& out) {
  Fields f(v, p);
  f("index", out.index)("value", out.value)("valueTwo", out.valueTwo)("op", out.op);
  return std::move(f).result();
}

sys::Result<void> Reader<SeccompSyscall>::read(const Json& v, const Path& p, SeccompSyscall& out) {
  Fields f(v, p);
  f("names", out.names)("action", out.action)("errnoRet", out.errnoRet)("args", out.args);
  return std::move(f).result();
}

sys::Result<void> Reader<Seccomp>::read(const Json& v, const Path& p, Seccomp& out) {
  Fields f(v, p);
  f("defaultAction", out.defaultAction)("defaultErrnoRet", out.defaultErrnoRet);
  f("architectures", out.architectures)("flags", out.flags);
  f("listenerPath", out.listenerPath)("listenerMetadata", out.listenerMetadata);
  f("syscalls", out.syscalls);
  return std::move(f).result();
}

// ---- linux, spec ----

sys::Result<void> Reader<TimeOffset>::read(const Json& v, const Path& p, TimeOffset& out) {
  Fields f(v, p);
  f("secs", out.secs)("nanosecs", out.nanosecs);
  return std::move(f).result();
}

// linux.personality is {"domain": "LINUX", "flags": [...]}; the model keeps
// the domain only (the spec defines no flags yet), but both are type-checked.
sys::Result<void> readPersonality(const Json& v, const Path& p, Linux& out) {
  Fields f(v, p);
  std::string domain;
  std::vector<std::string> flags;
  f("domain", domain)("flags", flags);
  BERTH_TRY(std::move(f).result());
  out.personalityDomain = std::move(domain);
  return sys::ok();
}

sys::Result<void> Reader<Linux>::read(const Json& v, const Path& p, Linux& out) {
  Fields f(v, p);
  f("namespaces", out.namespaces)("uidMappings", out.uidMappings)("gidMappings", out.gidMappings);
  f("timeOffsets", out.timeOffsets)("devices", out.devices)("cgroupsPath", out.cgroupsPath);
  f("resources", out.resources)("rootfsPropagation", out.rootfsPropagation);
  f("seccomp", out.seccomp)("sysctl", out.sysctl)("maskedPaths", out.maskedPaths);
  f("readonlyPaths", out.readonlyPaths)("mountLabel", out.mountLabel);
  // intelRdt, netDevices, memoryPolicy: not implemented, ignored like unknown fields.
  const Json* personality = f.find("personality");
  BERTH_TRY(std::move(f).result());
  if (personality != nullptr) {
    BERTH_TRY(readPersonality(*personality, p.child("personality"), out));
  }
  return sys::ok();
}

sys::Result<void> Reader<Spec>::read(const Json& v, const Path& p, Spec& out) {
  Fields f(v, p);
  f("ociVersion", out.ociVersion)("process", out.process)("root", out.root);
  f("hostname", out.hostname)("domainname", out.domainname)("mounts", out.mounts);
  f("hooks", out.hooks)("annotations", out.annotations)("linux", out.linux);
  return std::move(f).result();
}

}  // namespace json

namespace {

template <class T>
sys::Result<T> parseDocumentAs(std::string_view text) {
  json::Json doc = BERTH_TRY(json::parseDocument(text));
  T out{};
  BERTH_TRY(json::Reader<T>::read(doc, json::Path(), out));
  return out;
}

}  // namespace

sys::Result<Spec> parseSpec(std::string_view text) {
  return parseDocumentAs<Spec>(text);
}

sys::Result<Process> parseProcess(std::string_view text) {
  return parseDocumentAs<Process>(text);
}

sys::Result<Resources> parseResources(std::string_view text) {
  return parseDocumentAs<Resources>(text);
}

sys::Result<Spec> loadSpec(const std::string& bundleDir) {
  std::string path = sys::joinPath(bundleDir, "config.json");
  std::string text = BERTH_TRY(sys::readFile(path));
  return parseSpec(text).context(path);
}

}  // namespace berth::runtime::config
