// The default seccomp profile: see container_seccomp.h.
//
// The allowlist is grouped by what the syscalls are for, so a reviewer can
// see why each is there. Names from every architecture berth builds for are
// mixed freely: the runtime skips names its libseccomp does not know for the
// target architectures (as runc and crun do), so listing the 32-bit *64 and
// *_time64 variants costs nothing and keeps x86 (i386) binaries working.
#include "agent/engine/container_seccomp.h"

#include <cerrno>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace berth::agent::engine {
namespace {

using runtime::config::Seccomp;
using runtime::config::SeccompArg;
using runtime::config::SeccompSyscall;

#if defined(__x86_64__)
const std::vector<std::string> kArchitectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86",
                                                 "SCMP_ARCH_X32"};
#elif defined(__aarch64__)
const std::vector<std::string> kArchitectures = {"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"};
#else
const std::vector<std::string> kArchitectures = {};  // the native architecture only
#endif

// Every group is allowed unconditionally.
const std::initializer_list<const char*> kFileIo = {"read",
                                                    "write",
                                                    "readv",
                                                    "writev",
                                                    "pread64",
                                                    "pwrite64",
                                                    "preadv",
                                                    "preadv2",
                                                    "pwritev",
                                                    "pwritev2",
                                                    "lseek",
                                                    "_llseek",
                                                    "open",
                                                    "openat",
                                                    "openat2",
                                                    "creat",
                                                    "close",
                                                    "close_range",
                                                    "dup",
                                                    "dup2",
                                                    "dup3",
                                                    "fcntl",
                                                    "fcntl64",
                                                    "ioctl",
                                                    "flock",
                                                    "fsync",
                                                    "fdatasync",
                                                    "sync",
                                                    "syncfs",
                                                    "sync_file_range",
                                                    "sync_file_range2",
                                                    "truncate",
                                                    "truncate64",
                                                    "ftruncate",
                                                    "ftruncate64",
                                                    "fallocate",
                                                    "fadvise64",
                                                    "fadvise64_64",
                                                    "arm_fadvise64_64",
                                                    "readahead",
                                                    "sendfile",
                                                    "sendfile64",
                                                    "splice",
                                                    "tee",
                                                    "vmsplice",
                                                    "copy_file_range",
                                                    "cachestat"};

const std::initializer_list<const char*> kFileMetadata = {
    "stat",
    "stat64",
    "lstat",
    "lstat64",
    "fstat",
    "fstat64",
    "newfstatat",
    "fstatat64",
    "statx",
    "statfs",
    "statfs64",
    "fstatfs",
    "fstatfs64",
    "access",
    "faccessat",
    "faccessat2",
    "readlink",
    "readlinkat",
    "getdents",
    "getdents64",
    "getcwd",
    "chdir",
    "fchdir",
    "mkdir",
    "mkdirat",
    "rmdir",
    "rename",
    "renameat",
    "renameat2",
    "link",
    "linkat",
    "symlink",
    "symlinkat",
    "unlink",
    "unlinkat",
    "mknod",
    "mknodat",
    "chmod",
    "fchmod",
    "fchmodat",
    "fchmodat2",
    "chown",
    "chown32",
    "fchown",
    "fchown32",
    "fchownat",
    "lchown",
    "lchown32",
    "umask",
    "utime",
    "utimes",
    "utimensat",
    "utimensat_time64",
    "futimesat",
    "getxattr",
    "lgetxattr",
    "fgetxattr",
    "setxattr",
    "lsetxattr",
    "fsetxattr",
    "listxattr",
    "llistxattr",
    "flistxattr",
    "removexattr",
    "lremovexattr",
    "fremovexattr",
    "getxattrat",
    "setxattrat",
    "listxattrat",
    "removexattrat",
    "inotify_init",
    "inotify_init1",
    "inotify_add_watch",
    "inotify_rm_watch",
    "fanotify_mark",
    "name_to_handle_at",
    "chroot"};  // chroot: CAP_SYS_CHROOT is a default capability

const std::initializer_list<const char*> kMemory = {"brk",
                                                    "mmap",
                                                    "mmap2",
                                                    "munmap",
                                                    "mremap",
                                                    "mprotect",
                                                    "madvise",
                                                    "mincore",
                                                    "mlock",
                                                    "mlock2",
                                                    "munlock",
                                                    "mlockall",
                                                    "munlockall",
                                                    "msync",
                                                    "membarrier",
                                                    "memfd_create",
                                                    "memfd_secret",
                                                    "get_mempolicy",
                                                    "set_mempolicy",
                                                    "set_mempolicy_home_node",
                                                    "mbind",
                                                    "remap_file_pages",
                                                    "pkey_alloc",
                                                    "pkey_free",
                                                    "pkey_mprotect",
                                                    "mseal",
                                                    "map_shadow_stack"};

// clone is absent on purpose (argument-filtered below); clone3 gets ENOSYS.
const std::initializer_list<const char*> kProcess = {"fork",
                                                     "vfork",
                                                     "execve",
                                                     "execveat",
                                                     "exit",
                                                     "exit_group",
                                                     "wait4",
                                                     "waitid",
                                                     "waitpid",
                                                     "kill",
                                                     "tkill",
                                                     "tgkill",
                                                     "getpid",
                                                     "getppid",
                                                     "gettid",
                                                     "getpgid",
                                                     "setpgid",
                                                     "getpgrp",
                                                     "getsid",
                                                     "setsid",
                                                     "getpriority",
                                                     "setpriority",
                                                     "sched_yield",
                                                     "sched_getaffinity",
                                                     "sched_setaffinity",
                                                     "sched_getparam",
                                                     "sched_setparam",
                                                     "sched_getscheduler",
                                                     "sched_setscheduler",
                                                     "sched_get_priority_max",
                                                     "sched_get_priority_min",
                                                     "sched_rr_get_interval",
                                                     "sched_rr_get_interval_time64",
                                                     "sched_getattr",
                                                     "sched_setattr",
                                                     "set_tid_address",
                                                     "set_robust_list",
                                                     "get_robust_list",
                                                     "rseq",
                                                     "arch_prctl",
                                                     "prctl",
                                                     "capget",
                                                     "capset",
                                                     "ioprio_get",
                                                     "ioprio_set",
                                                     "getrusage",
                                                     "times",
                                                     "getrlimit",
                                                     "setrlimit",
                                                     "prlimit64",
                                                     "ugetrlimit",
                                                     "getcpu",
                                                     "uname",
                                                     "sysinfo",
                                                     "syslog",
                                                     "restart_syscall",
                                                     "seccomp",
                                                     "pidfd_open",
                                                     "pidfd_send_signal",
                                                     "pidfd_getfd",
                                                     "process_vm_readv",
                                                     "process_vm_writev",
                                                     "process_mrelease",
                                                     "ptrace",
                                                     "set_thread_area",
                                                     "get_thread_area",
                                                     "modify_ldt",
                                                     "set_tls",
                                                     "cacheflush",
                                                     "breakpoint",
                                                     "landlock_add_rule",
                                                     "landlock_create_ruleset",
                                                     "landlock_restrict_self",
                                                     "getrandom"};

const std::initializer_list<const char*> kCredentials = {
    "getuid",    "getuid32",    "geteuid",   "geteuid32",   "getgid",    "getgid32",
    "getegid",   "getegid32",   "getresuid", "getresuid32", "getresgid", "getresgid32",
    "getgroups", "getgroups32", "setuid",    "setuid32",    "setgid",    "setgid32",
    "setreuid",  "setreuid32",  "setregid",  "setregid32",  "setresuid", "setresuid32",
    "setresgid", "setresgid32", "setgroups", "setgroups32", "setfsuid",  "setfsuid32",
    "setfsgid",  "setfsgid32"};

const std::initializer_list<const char*> kSignalsAndTime = {"rt_sigaction",
                                                            "rt_sigprocmask",
                                                            "rt_sigreturn",
                                                            "rt_sigpending",
                                                            "rt_sigsuspend",
                                                            "rt_sigtimedwait",
                                                            "rt_sigtimedwait_time64",
                                                            "rt_sigqueueinfo",
                                                            "rt_tgsigqueueinfo",
                                                            "sigaltstack",
                                                            "signalfd",
                                                            "signalfd4",
                                                            "sigaction",
                                                            "sigprocmask",
                                                            "sigreturn",
                                                            "sigsuspend",
                                                            "sigpending",
                                                            "signal",
                                                            "pause",
                                                            "alarm",
                                                            "clock_gettime",
                                                            "clock_gettime64",
                                                            "clock_getres",
                                                            "clock_getres_time64",
                                                            "clock_nanosleep",
                                                            "clock_nanosleep_time64",
                                                            "nanosleep",
                                                            "gettimeofday",
                                                            "time",
                                                            "getitimer",
                                                            "setitimer",
                                                            "timer_create",
                                                            "timer_delete",
                                                            "timer_settime",
                                                            "timer_settime64",
                                                            "timer_gettime",
                                                            "timer_gettime64",
                                                            "timer_getoverrun",
                                                            "timerfd_create",
                                                            "timerfd_settime",
                                                            "timerfd_settime64",
                                                            "timerfd_gettime",
                                                            "timerfd_gettime64",
                                                            "adjtimex",
                                                            "clock_adjtime",
                                                            "clock_adjtime64"};

const std::initializer_list<const char*> kEventsAndIpc = {"poll",
                                                          "ppoll",
                                                          "ppoll_time64",
                                                          "select",
                                                          "_newselect",
                                                          "pselect6",
                                                          "pselect6_time64",
                                                          "epoll_create",
                                                          "epoll_create1",
                                                          "epoll_ctl",
                                                          "epoll_wait",
                                                          "epoll_pwait",
                                                          "epoll_pwait2",
                                                          "eventfd",
                                                          "eventfd2",
                                                          "futex",
                                                          "futex_time64",
                                                          "futex_waitv",
                                                          "futex_wake",
                                                          "futex_wait",
                                                          "futex_requeue",
                                                          "io_setup",
                                                          "io_destroy",
                                                          "io_submit",
                                                          "io_cancel",
                                                          "io_getevents",
                                                          "io_pgetevents",
                                                          "io_pgetevents_time64",
                                                          "pipe",
                                                          "pipe2",
                                                          "shmget",
                                                          "shmat",
                                                          "shmdt",
                                                          "shmctl",
                                                          "semget",
                                                          "semop",
                                                          "semctl",
                                                          "semtimedop",
                                                          "semtimedop_time64",
                                                          "msgget",
                                                          "msgsnd",
                                                          "msgrcv",
                                                          "msgctl",
                                                          "mq_open",
                                                          "mq_unlink",
                                                          "mq_timedsend",
                                                          "mq_timedsend_time64",
                                                          "mq_timedreceive",
                                                          "mq_timedreceive_time64",
                                                          "mq_notify",
                                                          "mq_getsetattr",
                                                          "ipc"};

const std::initializer_list<const char*> kNetwork = {
    "socket",   "socketpair",  "bind",        "listen",          "accept",   "accept4",
    "connect",  "getsockname", "getpeername", "sendto",          "recvfrom", "sendmsg",
    "recvmsg",  "sendmmsg",    "recvmmsg",    "recvmmsg_time64", "send",     "recv",
    "shutdown", "setsockopt",  "getsockopt",  "socketcall"};

SeccompSyscall allow(std::initializer_list<const char*> names) {
  SeccompSyscall rule;
  rule.names.assign(names.begin(), names.end());
  rule.action = "SCMP_ACT_ALLOW";
  return rule;
}

SeccompSyscall allowIfArg0(const char* name, const char* op, uint64_t value) {
  SeccompSyscall rule = allow({name});
  rule.args.push_back(SeccompArg{0, value, 0, op});
  return rule;
}

Seccomp buildProfile() {
  Seccomp profile;
  profile.defaultAction = "SCMP_ACT_ERRNO";
  profile.defaultErrnoRet = EPERM;
  profile.architectures = kArchitectures;
  for (auto group : {kFileIo, kFileMetadata, kMemory, kProcess, kCredentials, kSignalsAndTime,
                     kEventsAndIpc, kNetwork}) {
    profile.syscalls.push_back(allow(group));
  }
  // personality: only the values programs use to query or pick the Linux
  // ABI (0, PER_LINUX32 = 8, UNAME26 = 0x20000, both, and 0xffffffff =
  // query); other flags such as ADDR_NO_RANDOMIZE weaken ASLR.
  for (uint64_t persona : {0x0ULL, 0x8ULL, 0x20000ULL, 0x20008ULL, 0xffffffffULL}) {
    profile.syscalls.push_back(allowIfArg0("personality", "SCMP_CMP_EQ", persona));
  }
  // clone without any CLONE_NEW* flag (NEWNS 0x20000, NEWCGROUP 0x2000000,
  // NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET 0x4000000..0x40000000): creating
  // namespaces needs CAP_SYS_ADMIN, which containers do not get.
  constexpr uint64_t kCloneNamespaceFlags = 0x7E020000;
  SeccompSyscall clone = allowIfArg0("clone", "SCMP_CMP_MASKED_EQ", kCloneNamespaceFlags);
  clone.args[0].value = kCloneNamespaceFlags;
  clone.args[0].valueTwo = 0;  // (flags & mask) == 0
  profile.syscalls.push_back(std::move(clone));
  // clone3 passes its flags in memory, where seccomp cannot look: ENOSYS
  // makes glibc (2.34+) fall back to clone, which the rule above checks.
  SeccompSyscall clone3;
  clone3.names = {"clone3"};
  clone3.action = "SCMP_ACT_ERRNO";
  clone3.errnoRet = ENOSYS;
  profile.syscalls.push_back(std::move(clone3));
  return profile;
}

}  // namespace

const Seccomp& defaultSeccompProfile() {
  static const Seccomp profile = buildProfile();
  return profile;
}

}  // namespace berth::agent::engine
