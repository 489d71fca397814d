// Resource limit table, validation and application; see rlimits.h.
#include "runtime/security/rlimits.h"

#include <array>
#include <string>

namespace berth::runtime::security {
namespace {

struct RlimitEntry {
  const char* name;
  int resource;
};

// Every limit setrlimit(2) knows on Linux.
constexpr std::array kRlimits = {
    RlimitEntry{"RLIMIT_AS", RLIMIT_AS},
    RlimitEntry{"RLIMIT_CORE", RLIMIT_CORE},
    RlimitEntry{"RLIMIT_CPU", RLIMIT_CPU},
    RlimitEntry{"RLIMIT_DATA", RLIMIT_DATA},
    RlimitEntry{"RLIMIT_FSIZE", RLIMIT_FSIZE},
    RlimitEntry{"RLIMIT_LOCKS", RLIMIT_LOCKS},
    RlimitEntry{"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    RlimitEntry{"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    RlimitEntry{"RLIMIT_NICE", RLIMIT_NICE},
    RlimitEntry{"RLIMIT_NOFILE", RLIMIT_NOFILE},
    RlimitEntry{"RLIMIT_NPROC", RLIMIT_NPROC},
    RlimitEntry{"RLIMIT_RSS", RLIMIT_RSS},
    RlimitEntry{"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    RlimitEntry{"RLIMIT_RTTIME", RLIMIT_RTTIME},
    RlimitEntry{"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    RlimitEntry{"RLIMIT_STACK", RLIMIT_STACK},
};

}  // namespace

sys::Result<int> rlimitFromName(std::string_view name) {
  for (const RlimitEntry& entry : kRlimits) {
    if (name == entry.name) return entry.resource;
  }
  return sys::Error(EINVAL, "unknown rlimit type \"" + std::string(name) + "\"");
}

const char* rlimitName(int resource) {
  for (const RlimitEntry& entry : kRlimits) {
    if (resource == entry.resource) return entry.name;
  }
  return "RLIMIT_?";
}

sys::Result<std::vector<PreparedRlimit>> prepareRlimits(
    const std::vector<config::Rlimit>& rlimits) {
  std::vector<PreparedRlimit> prepared;
  prepared.reserve(rlimits.size());
  for (size_t i = 0; i < rlimits.size(); ++i) {
    const config::Rlimit& in = rlimits[i];
    const std::string where = "process.rlimits[" + std::to_string(i) + "]";
    auto resource = rlimitFromName(in.type);
    if (!resource) return sys::Error::invalid(where + ": unknown rlimit type \"" + in.type + "\"");
    // setrlimit would fail with a bare EINVAL in the child; say why here.
    if (in.soft > in.hard) {
      return sys::Error::invalid(where + ": " + in.type + " soft limit " + std::to_string(in.soft) +
                                 " exceeds hard limit " + std::to_string(in.hard));
    }
    // The spec requires unique types; a second entry would silently win.
    for (const PreparedRlimit& earlier : prepared) {
      if (earlier.resource == *resource) {
        return sys::Error::invalid(where + ": duplicate rlimit type \"" + in.type + "\"");
      }
    }
    // uint64 max is RLIM_INFINITY on 64-bit Linux, so values pass through.
    prepared.push_back(
        PreparedRlimit{*resource, {static_cast<rlim_t>(in.soft), static_cast<rlim_t>(in.hard)}});
  }
  return prepared;
}

sys::Result<void> applyRlimitsInChild(std::span<const PreparedRlimit> rlimits) {
  for (const PreparedRlimit& entry : rlimits) {
    if (::setrlimit(static_cast<__rlimit_resource_t>(entry.resource), &entry.limit) != 0) {
      const int err = errno;  // before the message allocates
      return sys::Error(err, std::string("setrlimit ") + rlimitName(entry.resource));
    }
  }
  return sys::ok();
}

}  // namespace berth::runtime::security
