// Seccomp profile compilation in the parent (libseccomp -> classic BPF); see
// seccomp.h. Loading and the listener hand-off live in seccomp_load.cc.
#include "runtime/security/seccomp.h"

#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <optional>
#include <string_view>

namespace berth::runtime::security {
namespace {

// Debian 12's kernel headers predate this flag (Linux 6.0).
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
constexpr unsigned kFlagWaitKillableRecv = 1U << 5;
#else
constexpr unsigned kFlagWaitKillableRecv = SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
#endif

// The kernel refuses longer programs (BPF_MAXINSNS).
constexpr size_t kMaxInstructions = 4096;

struct FlagEntry {
  std::string_view name;
  unsigned value;
};

// The flags the runtime-spec lets a config request. NEW_LISTENER is derived
// from SCMP_ACT_NOTIFY rules, TSYNC_ESRCH from TSYNC + NOTIFY.
constexpr std::array kFlags = {
    FlagEntry{"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
    FlagEntry{"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
    FlagEntry{"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
    FlagEntry{"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", kFlagWaitKillableRecv},
};

struct OperatorEntry {
  std::string_view name;
  scmp_compare op;
};

constexpr std::array kOperators = {
    OperatorEntry{"SCMP_CMP_NE", SCMP_CMP_NE},
    OperatorEntry{"SCMP_CMP_LT", SCMP_CMP_LT},
    OperatorEntry{"SCMP_CMP_LE", SCMP_CMP_LE},
    OperatorEntry{"SCMP_CMP_EQ", SCMP_CMP_EQ},
    OperatorEntry{"SCMP_CMP_GE", SCMP_CMP_GE},
    OperatorEntry{"SCMP_CMP_GT", SCMP_CMP_GT},
    OperatorEntry{"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

// Owns a libseccomp filter context.
class FilterContext {
 public:
  explicit FilterContext(scmp_filter_ctx ctx) : ctx_(ctx) {}
  FilterContext(const FilterContext&) = delete;
  FilterContext& operator=(const FilterContext&) = delete;
  ~FilterContext() {
    if (ctx_ != nullptr) seccomp_release(ctx_);
  }
  scmp_filter_ctx get() const { return ctx_; }

 private:
  scmp_filter_ctx ctx_;
};

std::string quoted(std::string_view text) {
  std::string out = "\"";
  out += text;
  out += '"';
  return out;
}

// SCMP_ACT_* name (+ errnoRet) -> libseccomp action value.
sys::Result<uint32_t> parseAction(std::string_view name, std::optional<uint32_t> errnoRet,
                                  std::string_view where) {
  const bool takesErrno = name == "SCMP_ACT_ERRNO" || name == "SCMP_ACT_TRACE";
  if (errnoRet && !takesErrno) {
    return sys::Error::invalid(
        std::string(where) +
        ": errnoRet is only valid with SCMP_ACT_ERRNO and SCMP_ACT_TRACE, not " + quoted(name));
  }
  if (errnoRet && *errnoRet > 0xffff) {
    return sys::Error::invalid(std::string(where) + ": errnoRet " + std::to_string(*errnoRet) +
                               " does not fit the 16-bit seccomp return data");
  }
  // EPERM when unset, as runc and crun do for both ERRNO and TRACE.
  const uint32_t data = errnoRet.value_or(EPERM);
  if (name == "SCMP_ACT_ALLOW") return SCMP_ACT_ALLOW;
  if (name == "SCMP_ACT_ERRNO") return SCMP_ACT_ERRNO(data);
  if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD") return SCMP_ACT_KILL_THREAD;
  if (name == "SCMP_ACT_KILL_PROCESS") return SCMP_ACT_KILL_PROCESS;
  if (name == "SCMP_ACT_TRAP") return SCMP_ACT_TRAP;
  if (name == "SCMP_ACT_TRACE") return SCMP_ACT_TRACE(data);
  if (name == "SCMP_ACT_LOG") return SCMP_ACT_LOG;
  if (name == "SCMP_ACT_NOTIFY") return SCMP_ACT_NOTIFY;
  return sys::Error::invalid(std::string(where) + ": unknown action " + quoted(name));
}

sys::Result<unsigned> parseFlags(const std::vector<std::string>& names) {
  unsigned flags = 0;
  for (const std::string& name : names) {
    bool found = false;
    for (const FlagEntry& entry : kFlags) {
      if (name == entry.name) {
        flags |= entry.value;
        found = true;
      }
    }
    if (!found) return sys::Error::invalid("linux.seccomp.flags: unknown flag " + quoted(name));
  }
  return flags;
}

// "SCMP_ARCH_X86_64" -> libseccomp's "x86_64" -> its arch token.
sys::Result<void> addArchitectures(scmp_filter_ctx ctx, const std::vector<std::string>& names) {
  constexpr std::string_view kPrefix = "SCMP_ARCH_";
  for (const std::string& name : names) {
    uint32_t token = 0;
    if (name.size() > kPrefix.size() && name.compare(0, kPrefix.size(), kPrefix) == 0) {
      std::string lower = name.substr(kPrefix.size());
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      token = seccomp_arch_resolve_name(lower.c_str());
    }
    if (token == 0)
      return sys::Error::invalid("linux.seccomp.architectures: unknown architecture " +
                                 quoted(name));
    int rc = seccomp_arch_add(ctx, token);
    // The native architecture is always present: EEXIST is expected.
    if (rc < 0 && rc != -EEXIST) return sys::Error(-rc, "linux.seccomp.architectures: add " + name);
  }
  return sys::ok();
}

struct Conditions {
  std::vector<scmp_arg_cmp> compares;
  // Two conditions on one argument cannot be ANDed by libseccomp; runc and
  // crun then add each condition as its own rule (an OR), and so do we.
  bool separateRules = false;
};

sys::Result<Conditions> parseConditions(const std::vector<config::SeccompArg>& args,
                                        std::string_view where) {
  Conditions out;
  unsigned seen = 0;
  for (const config::SeccompArg& arg : args) {
    if (arg.index > 5) {
      return sys::Error::invalid(std::string(where) + ": argument index " +
                                 std::to_string(arg.index) +
                                 " out of range (a syscall has 6 arguments)");
    }
    const OperatorEntry* entry = nullptr;
    for (const OperatorEntry& candidate : kOperators) {
      if (arg.op == candidate.name) entry = &candidate;
    }
    if (entry == nullptr)
      return sys::Error::invalid(std::string(where) + ": unknown operator " + quoted(arg.op));
    if (seen & (1U << arg.index)) out.separateRules = true;
    seen |= 1U << arg.index;
    // MASKED_EQ: (arg & value) == valueTwo, exactly libseccomp's datum_a/datum_b.
    const uint64_t datumB = entry->op == SCMP_CMP_MASKED_EQ ? arg.valueTwo : 0;
    out.compares.push_back(scmp_arg_cmp{arg.index, entry->op, arg.value, datumB});
  }
  return out;
}

sys::Result<void> addSyscallRule(scmp_filter_ctx ctx, const config::SeccompSyscall& rule,
                                 uint32_t action, std::string_view where) {
  Conditions conditions = BERTH_TRY(parseConditions(rule.args, where));
  for (const std::string& name : rule.names) {
    const int nr = seccomp_syscall_resolve_name(name.c_str());
    // Unknown to this libseccomp (newer than it, or another OS's name):
    // skipped, as runc and crun do, so stock profiles load on older hosts.
    if (nr == __NR_SCMP_ERROR) continue;
    int rc = 0;
    if (conditions.separateRules) {
      for (const scmp_arg_cmp& compare : conditions.compares) {
        rc = seccomp_rule_add_array(ctx, action, nr, 1, &compare);
        if (rc < 0) break;
      }
    } else {
      rc =
          seccomp_rule_add_array(ctx, action, nr, static_cast<unsigned>(conditions.compares.size()),
                                 conditions.compares.data());
    }
    if (rc < 0)
      return sys::Error(-rc, std::string(where) + ": add rule for syscall " + quoted(name));
  }
  return sys::ok();
}

// libseccomp 2.5 can only export into an fd: use a memfd and read it back.
sys::Result<std::vector<sock_filter>> exportBpf(scmp_filter_ctx ctx) {
  sys::UniqueFd fd(::memfd_create("berth-seccomp-bpf", MFD_CLOEXEC));
  if (!fd) return sys::Error::fromErrno("linux.seccomp: memfd_create");
  int rc = seccomp_export_bpf(ctx, fd.get());
  if (rc < 0) return sys::Error(-rc, "linux.seccomp: export BPF");
  const off_t size = ::lseek(fd.get(), 0, SEEK_END);
  if (size < 0) return sys::Error::fromErrno("linux.seccomp: size of exported BPF");
  if (size % sizeof(sock_filter) != 0)
    return sys::Error::invalid("linux.seccomp: exported BPF has a partial instruction");
  std::vector<sock_filter> filter(static_cast<size_t>(size) / sizeof(sock_filter));
  auto* bytes = reinterpret_cast<char*>(filter.data());
  for (off_t done = 0; done < size;) {
    ssize_t n = ::pread(fd.get(), bytes + done, static_cast<size_t>(size - done), done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return sys::Error(n < 0 ? errno : EIO, "linux.seccomp: read back exported BPF");
    done += n;
  }
  return filter;
}

sys::Result<void> addRules(scmp_filter_ctx ctx, const config::Seccomp& profile,
                           uint32_t defaultAction, bool& usesNotify) {
  for (size_t i = 0; i < profile.syscalls.size(); ++i) {
    const config::SeccompSyscall& rule = profile.syscalls[i];
    const std::string where = "linux.seccomp.syscalls[" + std::to_string(i) + "]";
    const uint32_t action = BERTH_TRY(parseAction(rule.action, rule.errnoRet, where));
    // libseccomp rejects a rule that repeats the default action (EACCES);
    // such a rule changes nothing, so it is dropped as runc and crun do.
    if (action == defaultAction) continue;
    if (action == SCMP_ACT_NOTIFY) usesNotify = true;
    BERTH_TRY(addSyscallRule(ctx, rule, action, where));
  }
  return sys::ok();
}

}  // namespace

sys::Result<SeccompProgram> compileSeccomp(const config::Seccomp& profile) {
  SeccompProgram program;
  program.listenerPath = profile.listenerPath;
  program.listenerMetadata = profile.listenerMetadata;
  program.flags = BERTH_TRY(parseFlags(profile.flags));
  const uint32_t defaultAction = BERTH_TRY(
      parseAction(profile.defaultAction, profile.defaultErrnoRet, "linux.seccomp.defaultAction"));
  // A default NOTIFY would route every syscall, the runtime's own included,
  // to an agent that is not yet connected; runc refuses it as well.
  if (defaultAction == SCMP_ACT_NOTIFY) {
    return sys::Error::invalid(
        "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action");
  }
  FilterContext ctx(seccomp_init(defaultAction));
  if (ctx.get() == nullptr)
    return sys::Error::invalid("linux.seccomp: libseccomp rejected the default action " +
                               quoted(profile.defaultAction));
  BERTH_TRY(addArchitectures(ctx.get(), profile.architectures));
  BERTH_TRY(addRules(ctx.get(), profile, defaultAction, program.usesNotify));

  if (program.usesNotify && (program.flags & SECCOMP_FILTER_FLAG_TSYNC)) {
    // The kernel refuses TSYNC together with NEW_LISTENER unless TSYNC_ESRCH
    // says how to report a thread that failed to sync (Linux 5.7).
    program.flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
  }
  if ((program.flags & kFlagWaitKillableRecv) && !program.usesNotify) {
    return sys::Error::invalid(
        "linux.seccomp.flags: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV needs an SCMP_ACT_NOTIFY "
        "rule");
  }
  // Without an agent a notified syscall would block the container forever.
  // (A listenerPath without NOTIFY rules is harmless: nothing is sent.)
  if (program.usesNotify && program.listenerPath.empty()) {
    return sys::Error::invalid("linux.seccomp: SCMP_ACT_NOTIFY rules need a listenerPath");
  }
  program.filter = BERTH_TRY(exportBpf(ctx.get()));
  if (program.filter.size() > kMaxInstructions) {
    return sys::Error::invalid(
        "linux.seccomp: the compiled filter has " + std::to_string(program.filter.size()) +
        " instructions; the kernel allows " + std::to_string(kMaxInstructions));
  }
  return program;
}

}  // namespace berth::runtime::security
