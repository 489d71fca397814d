// The identity switch in the child; see credentials.h for the order and why.
#include "runtime/security/credentials.h"

#include <grp.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <charconv>
#include <string>
#include <type_traits>

namespace berth::runtime::security {
namespace {

static_assert(std::is_same_v<gid_t, uint32_t>, "config gids are passed to setgroups as they are");

constexpr int kMaxCap = 63;

bool hasCap(uint64_t mask, int cap) {
  return (mask >> cap) & 1U;
}

// Errors are built only on failure: the happy path allocates nothing.
sys::Error errnoError(const char* what) {
  const int err = errno;
  return sys::Error(err, what);
}

sys::Error capError(const char* what, int cap) {
  const int err = errno;
  return sys::Error(err, std::string(what) + " " + std::to_string(cap));
}

sys::Result<void> dropBoundingSet(uint64_t keep) {
  for (int cap = 0; cap <= kMaxCap; ++cap) {
    const int present = ::prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
    if (present < 0 && errno == EINVAL) break;  // past the kernel's last capability
    if (present < 0) return capError("read bounding capability", cap);
    if (present == 1 && !hasCap(keep, cap) && ::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
      return capError("drop bounding capability", cap);
    }
  }
  return sys::ok();
}

// Raw capset: libcap's cap_t would allocate in the child.
sys::Result<void> setProcessCaps(const CapabilitySets& caps) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  for (int word = 0; word < _LINUX_CAPABILITY_U32S_3; ++word) {
    const int shift = 32 * word;
    data[word].effective = static_cast<uint32_t>(caps.effective >> shift);
    data[word].permitted = static_cast<uint32_t>(caps.permitted >> shift);
    data[word].inheritable = static_cast<uint32_t>(caps.inheritable >> shift);
  }
  if (::syscall(SYS_capset, &header, data) != 0) {
    return errnoError("capset (effective must be within permitted, inheritable within bounding)");
  }
  return sys::ok();
}

sys::Result<void> setAmbientCaps(const CapabilitySets& caps) {
  // EINVAL: a kernel without ambient capabilities (< 4.3) has none to clear.
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
    return errnoError("clear ambient capabilities");
  }
  const uint64_t raisable = caps.ambient & caps.permitted & caps.inheritable;
  for (int cap = 0; cap <= kMaxCap; ++cap) {
    if (hasCap(raisable, cap) && ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0) {
      return capError("raise ambient capability", cap);
    }
  }
  return sys::ok();
}

sys::Error idError(const char* what, uint32_t id) {
  const int err = errno;  // EINVAL: the id is not mapped in this user namespace
  return sys::Error(err, std::string(what) + " " + std::to_string(id));
}

sys::Result<void> switchIds(const config::User& user, bool setgroupsAllowed) {
  if (setgroupsAllowed &&
      ::setgroups(user.additionalGids.size(), user.additionalGids.data()) != 0) {
    return errnoError("setgroups");
  }
  if (::setresgid(user.gid, user.gid, user.gid) != 0) return idError("setresgid", user.gid);
  if (::setresuid(user.uid, user.uid, user.uid) != 0) return idError("setresuid", user.uid);
  return sys::ok();
}

sys::Result<uint32_t> parseId(std::string_view text, std::string_view what, std::string_view spec) {
  uint32_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  // (uint32_t)-1 means "leave unchanged" to setresuid/setresgid: never an id.
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() ||
      value == UINT32_MAX) {
    return sys::Error::invalid("invalid user \"" + std::string(spec) + "\": " + std::string(what) +
                               " must be a number below 4294967295");
  }
  return value;
}

}  // namespace

sys::Result<void> switchUserInChild(const config::User& user, const CapabilitySets& caps,
                                    bool setgroupsAllowed) {
  // Keep the permitted set across setresuid away from 0; the kernel would
  // otherwise clear it and capset below could grant nothing.
  if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return errnoError("prctl PR_SET_KEEPCAPS 1");
  // PR_CAPBSET_DROP needs CAP_SETPCAP, which the uid change may take away.
  BERTH_TRY(dropBoundingSet(caps.bounding));
  BERTH_TRY(switchIds(user, setgroupsAllowed));
  if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) return errnoError("prctl PR_SET_KEEPCAPS 0");
  BERTH_TRY(setProcessCaps(caps));
  // Ambient caps must already be permitted and inheritable: after capset.
  BERTH_TRY(setAmbientCaps(caps));
  if (user.umask) ::umask(static_cast<mode_t>(*user.umask & 0777));
  return sys::ok();
}

sys::Result<void> setNoNewPrivilegesInChild() {
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return errnoError("prctl PR_SET_NO_NEW_PRIVS");
  return sys::ok();
}

sys::Result<config::User> parseUserSpec(std::string_view spec, const config::User& base) {
  config::User user = base;
  const size_t colon = spec.find(':');
  user.uid = BERTH_TRY(parseId(spec.substr(0, colon), "uid", spec));
  if (colon != std::string_view::npos)
    user.gid = BERTH_TRY(parseId(spec.substr(colon + 1), "gid", spec));
  return user;
}

}  // namespace berth::runtime::security
