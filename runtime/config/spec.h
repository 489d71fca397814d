// The OCI runtime-spec configuration (config.json) for Linux, as a typed model.
//
// This is the single in-memory form of a container's configuration: the JSON
// parser (parse.h) fills it, the validator checks it before any system call,
// and every runtime module reads from it. Optional fields are std::optional so
// "absent" and "zero" stay distinct, as the spec requires (e.g. an absent
// memory limit is not a limit of 0).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace berth::runtime::config {

struct User {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::optional<uint32_t> umask;
  std::vector<uint32_t> additionalGids;
  std::string username;  // Windows only in the spec; kept for completeness.
};

struct Rlimit {
  std::string type;  // "RLIMIT_NOFILE"
  uint64_t hard = 0;
  uint64_t soft = 0;
};

struct Capabilities {
  std::vector<std::string> bounding, effective, inheritable, permitted, ambient;
};

struct ConsoleSize {
  unsigned height = 0;
  unsigned width = 0;
};

struct Process {
  bool terminal = false;
  std::optional<ConsoleSize> consoleSize;
  User user;
  std::vector<std::string> args;
  std::string commandLine;  // Windows only.
  std::vector<std::string> env;
  std::string cwd = "/";
  std::optional<Capabilities> capabilities;
  std::vector<Rlimit> rlimits;
  bool noNewPrivileges = false;
  std::string apparmorProfile;
  std::optional<int> oomScoreAdj;
  std::string selinuxLabel;
};

struct Root {
  std::string path;
  bool readonly = false;
};

struct IdMapping {
  uint32_t containerID = 0;
  uint32_t hostID = 0;
  uint32_t size = 0;
};

struct Mount {
  std::string destination;
  std::string type;
  std::string source;
  std::vector<std::string> options;
  std::vector<IdMapping> uidMappings;  // idmapped mount (runtime-spec 1.1)
  std::vector<IdMapping> gidMappings;
};

struct Hook {
  std::string path;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::optional<int> timeout;  // seconds
};

struct Hooks {
  std::vector<Hook> prestart, createRuntime, createContainer, startContainer, poststart, poststop;
};

struct Namespace {
  std::string type;  // pid network mount ipc uts user cgroup time
  std::string path;  // empty = create a new one
};

struct Device {
  std::string type;  // c b u p
  std::string path;
  int64_t major = 0;
  int64_t minor = 0;
  std::optional<uint32_t> fileMode;
  std::optional<uint32_t> uid;
  std::optional<uint32_t> gid;
};

struct DeviceCgroupRule {
  bool allow = false;
  std::string type;  // a c b (empty = a)
  std::optional<int64_t> major;  // absent = wildcard
  std::optional<int64_t> minor;
  std::string access;  // rwm
};

struct MemoryResources {
  std::optional<int64_t> limit;
  std::optional<int64_t> reservation;
  std::optional<int64_t> swap;
  std::optional<int64_t> kernel;
  std::optional<int64_t> kernelTCP;
  std::optional<uint64_t> swappiness;
  std::optional<bool> disableOOMKiller;
  std::optional<bool> useHierarchy;
  std::optional<bool> checkBeforeUpdate;
};

struct CpuResources {
  std::optional<uint64_t> shares;
  std::optional<int64_t> quota;
  std::optional<uint64_t> burst;
  std::optional<uint64_t> period;
  std::optional<int64_t> realtimeRuntime;
  std::optional<uint64_t> realtimePeriod;
  std::string cpus;
  std::string mems;
  std::optional<int64_t> idle;
};

struct PidsResources {
  std::optional<int64_t> limit;
};

struct WeightDevice {
  int64_t major = 0;
  int64_t minor = 0;
  std::optional<uint16_t> weight;
  std::optional<uint16_t> leafWeight;
};

struct ThrottleDevice {
  int64_t major = 0;
  int64_t minor = 0;
  uint64_t rate = 0;
};

struct BlockIoResources {
  std::optional<uint16_t> weight;
  std::optional<uint16_t> leafWeight;
  std::vector<WeightDevice> weightDevice;
  std::vector<ThrottleDevice> throttleReadBpsDevice, throttleWriteBpsDevice;
  std::vector<ThrottleDevice> throttleReadIOPSDevice, throttleWriteIOPSDevice;
};

struct HugepageLimit {
  std::string pageSize;  // "2MB"
  uint64_t limit = 0;
};

struct NetworkResources {
  std::optional<uint32_t> classID;
  std::vector<std::pair<std::string, uint32_t>> priorities;  // interface name -> priority
};

struct Resources {
  std::vector<DeviceCgroupRule> devices;
  std::optional<MemoryResources> memory;
  std::optional<CpuResources> cpu;
  std::optional<PidsResources> pids;
  std::optional<BlockIoResources> blockIO;
  std::vector<HugepageLimit> hugepageLimits;
  std::optional<NetworkResources> network;
  std::map<std::string, std::string> unified;  // cgroup v2 key -> value
};

struct SeccompArg {
  unsigned index = 0;
  uint64_t value = 0;
  uint64_t valueTwo = 0;
  std::string op;  // SCMP_CMP_EQ ...
};

struct SeccompSyscall {
  std::vector<std::string> names;
  std::string action;  // SCMP_ACT_*
  std::optional<uint32_t> errnoRet;
  std::vector<SeccompArg> args;
};

struct Seccomp {
  std::string defaultAction;
  std::optional<uint32_t> defaultErrnoRet;
  std::vector<std::string> architectures;  // SCMP_ARCH_*
  std::vector<std::string> flags;          // SECCOMP_FILTER_FLAG_*
  std::string listenerPath;
  std::string listenerMetadata;
  std::vector<SeccompSyscall> syscalls;
};

struct TimeOffset {
  int64_t secs = 0;
  uint32_t nanosecs = 0;
};

struct Linux {
  std::vector<Namespace> namespaces;
  std::vector<IdMapping> uidMappings;
  std::vector<IdMapping> gidMappings;
  std::map<std::string, TimeOffset> timeOffsets;  // "monotonic" / "boottime"
  std::vector<Device> devices;
  std::string cgroupsPath;
  std::optional<Resources> resources;
  std::string rootfsPropagation;  // shared slave private unbindable (+ r variants)
  std::optional<Seccomp> seccomp;
  std::map<std::string, std::string> sysctl;
  std::vector<std::string> maskedPaths;
  std::vector<std::string> readonlyPaths;
  std::string mountLabel;
  std::optional<std::string> personalityDomain;  // "LINUX" / "LINUX32"
};

struct Spec {
  std::string ociVersion;
  std::optional<Process> process;  // required for create; optional in the spec
  std::optional<Root> root;
  std::string hostname;
  std::string domainname;
  std::vector<Mount> mounts;
  std::optional<Hooks> hooks;
  std::map<std::string, std::string> annotations;
  std::optional<Linux> linux;
};

}  // namespace berth::runtime::config
