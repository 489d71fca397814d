// Name tables: see names.h. Sorted tables are listed sorted so the features
// document prints them in a stable order, as runc does.
#include "runtime/config/names.h"

#include <algorithm>

namespace berth::runtime::config {

const std::vector<std::string>& knownCapabilities() {
  static const std::vector<std::string> kCaps = {
      "CAP_CHOWN",
      "CAP_DAC_OVERRIDE",
      "CAP_DAC_READ_SEARCH",
      "CAP_FOWNER",
      "CAP_FSETID",
      "CAP_KILL",
      "CAP_SETGID",
      "CAP_SETUID",
      "CAP_SETPCAP",
      "CAP_LINUX_IMMUTABLE",
      "CAP_NET_BIND_SERVICE",
      "CAP_NET_BROADCAST",
      "CAP_NET_ADMIN",
      "CAP_NET_RAW",
      "CAP_IPC_LOCK",
      "CAP_IPC_OWNER",
      "CAP_SYS_MODULE",
      "CAP_SYS_RAWIO",
      "CAP_SYS_CHROOT",
      "CAP_SYS_PTRACE",
      "CAP_SYS_PACCT",
      "CAP_SYS_ADMIN",
      "CAP_SYS_BOOT",
      "CAP_SYS_NICE",
      "CAP_SYS_RESOURCE",
      "CAP_SYS_TIME",
      "CAP_SYS_TTY_CONFIG",
      "CAP_MKNOD",
      "CAP_LEASE",
      "CAP_AUDIT_WRITE",
      "CAP_AUDIT_CONTROL",
      "CAP_SETFCAP",
      "CAP_MAC_OVERRIDE",
      "CAP_MAC_ADMIN",
      "CAP_SYSLOG",
      "CAP_WAKE_ALARM",
      "CAP_BLOCK_SUSPEND",
      "CAP_AUDIT_READ",
      "CAP_PERFMON",
      "CAP_BPF",
      "CAP_CHECKPOINT_RESTORE",
  };
  return kCaps;
}

const std::vector<std::string>& knownRlimits() {
  static const std::vector<std::string> kRlimits = {
      "RLIMIT_CPU",      "RLIMIT_FSIZE", "RLIMIT_DATA",   "RLIMIT_STACK",
      "RLIMIT_CORE",     "RLIMIT_RSS",   "RLIMIT_NPROC",  "RLIMIT_NOFILE",
      "RLIMIT_MEMLOCK",  "RLIMIT_AS",    "RLIMIT_LOCKS",  "RLIMIT_SIGPENDING",
      "RLIMIT_MSGQUEUE", "RLIMIT_NICE",  "RLIMIT_RTPRIO", "RLIMIT_RTTIME",
  };
  return kRlimits;
}

const std::vector<std::string>& knownNamespaces() {
  static const std::vector<std::string> kNamespaces = {
      "cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts",
  };
  return kNamespaces;
}

const std::vector<std::string>& knownHooks() {
  static const std::vector<std::string> kHooks = {
      "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
  };
  return kHooks;
}

const std::vector<std::string>& knownMountOptions() {
  static const std::vector<std::string> kOptions = {
      "acl",          "async",       "atime",          "bind",
      "defaults",     "dev",         "diratime",       "dirsync",
      "exec",         "iversion",    "lazytime",       "loud",
      "mand",         "noacl",       "noatime",        "nodev",
      "nodiratime",   "noexec",      "noiversion",     "nolazytime",
      "nomand",       "norelatime",  "nostrictatime",  "nosuid",
      "nosymfollow",  "private",     "ratime",         "rbind",
      "rdev",         "rdiratime",   "relatime",       "remount",
      "rexec",        "rnoatime",    "rnodev",         "rnodiratime",
      "rnoexec",      "rnorelatime", "rnostrictatime", "rnosuid",
      "rnosymfollow", "ro",          "rprivate",       "rrelatime",
      "rro",          "rrw",         "rshared",        "rslave",
      "rstrictatime", "rsuid",       "rsymfollow",     "runbindable",
      "rw",           "shared",      "silent",         "slave",
      "strictatime",  "suid",        "symfollow",      "sync",
      "tmpcopyup",    "unbindable",
  };
  return kOptions;
}

const std::vector<std::string>& seccompActions() {
  static const std::vector<std::string> kActions = {
      "SCMP_ACT_ALLOW",        "SCMP_ACT_ERRNO",       "SCMP_ACT_KILL",
      "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG",
      "SCMP_ACT_NOTIFY",       "SCMP_ACT_TRACE",       "SCMP_ACT_TRAP",
  };
  return kActions;
}

const std::vector<std::string>& seccompOperators() {
  static const std::vector<std::string> kOperators = {
      "SCMP_CMP_EQ", "SCMP_CMP_GE",        "SCMP_CMP_GT", "SCMP_CMP_LE",
      "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE",
  };
  return kOperators;
}

const std::vector<std::string>& seccompArchs() {
  // The runtime-spec 1.1 list; every one is known to libseccomp 2.5.
  static const std::vector<std::string> kArchs = {
      "SCMP_ARCH_AARCH64",   "SCMP_ARCH_ARM",      "SCMP_ARCH_MIPS",     "SCMP_ARCH_MIPS64",
      "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL",   "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32",
      "SCMP_ARCH_PARISC",    "SCMP_ARCH_PARISC64", "SCMP_ARCH_PPC",      "SCMP_ARCH_PPC64",
      "SCMP_ARCH_PPC64LE",   "SCMP_ARCH_RISCV64",  "SCMP_ARCH_S390",     "SCMP_ARCH_S390X",
      "SCMP_ARCH_X32",       "SCMP_ARCH_X86",      "SCMP_ARCH_X86_64",
  };
  return kArchs;
}

const std::vector<std::string>& seccompKnownFlags() {
  static const std::vector<std::string> kFlags = {
      "SECCOMP_FILTER_FLAG_LOG",
      "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
      "SECCOMP_FILTER_FLAG_TSYNC",
      "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
  };
  return kFlags;
}

const std::vector<std::string>& seccompSupportedFlags() {
  // libseccomp 2.5 has filter attributes for these three; WAIT_KILLABLE_RECV
  // needs 2.6 (SCMP_FLTATR_CTL_WAITKILL), so it is known but not applied.
  static const std::vector<std::string> kFlags = {
      "SECCOMP_FILTER_FLAG_LOG",
      "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
      "SECCOMP_FILTER_FLAG_TSYNC",
  };
  return kFlags;
}

const std::vector<std::string>& rootfsPropagations() {
  static const std::vector<std::string> kPropagations = {
      "private", "rprivate", "rshared", "rslave", "runbindable", "shared", "slave", "unbindable",
  };
  return kPropagations;
}

bool contains(const std::vector<std::string>& table, std::string_view name) {
  return std::find(table.begin(), table.end(), name) != table.end();
}

}  // namespace berth::runtime::config
