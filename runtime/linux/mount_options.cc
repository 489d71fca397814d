// Mount option table and parsing; see mount_options.h.
#include "runtime/linux/mount_options.h"

#include <sys/mount.h>
#include <sys/statvfs.h>

#include <array>

namespace berth::runtime::linux {
namespace {

struct FlagOption {
  std::string_view name;
  bool clear;  // true: the option turns the flag off ("rw" clears MS_RDONLY)
  unsigned long flag;
};

// The names runc and mount(8) accept; "defaults" and "remount"-free on purpose.
constexpr std::array kFlagOptions = {
    FlagOption{"async", true, MS_SYNCHRONOUS},      FlagOption{"atime", true, MS_NOATIME},
    FlagOption{"bind", false, MS_BIND},             FlagOption{"defaults", false, 0},
    FlagOption{"dev", true, MS_NODEV},              FlagOption{"diratime", true, MS_NODIRATIME},
    FlagOption{"dirsync", false, MS_DIRSYNC},       FlagOption{"exec", true, MS_NOEXEC},
    FlagOption{"iversion", false, MS_I_VERSION},    FlagOption{"lazytime", false, MS_LAZYTIME},
    FlagOption{"loud", true, MS_SILENT},            FlagOption{"mand", false, MS_MANDLOCK},
    FlagOption{"noatime", false, MS_NOATIME},       FlagOption{"nodev", false, MS_NODEV},
    FlagOption{"nodiratime", false, MS_NODIRATIME}, FlagOption{"noexec", false, MS_NOEXEC},
    FlagOption{"noiversion", true, MS_I_VERSION},   FlagOption{"nolazytime", true, MS_LAZYTIME},
    FlagOption{"nomand", true, MS_MANDLOCK},        FlagOption{"norelatime", true, MS_RELATIME},
    FlagOption{"nostrictatime", true, MS_STRICTATIME}, FlagOption{"nosuid", false, MS_NOSUID},
    FlagOption{"nosymfollow", false, MS_NOSYMFOLLOW}, FlagOption{"rbind", false, MS_BIND | MS_REC},
    FlagOption{"relatime", false, MS_RELATIME},     FlagOption{"ro", false, MS_RDONLY},
    FlagOption{"rw", true, MS_RDONLY},              FlagOption{"silent", false, MS_SILENT},
    FlagOption{"strictatime", false, MS_STRICTATIME}, FlagOption{"suid", true, MS_NOSUID},
    FlagOption{"symfollow", true, MS_NOSYMFOLLOW},  FlagOption{"sync", false, MS_SYNCHRONOUS},
};

struct PropagationOption {
  std::string_view name;
  unsigned long flags;
};

constexpr std::array kPropagationOptions = {
    PropagationOption{"private", MS_PRIVATE},        PropagationOption{"rprivate", MS_PRIVATE | MS_REC},
    PropagationOption{"shared", MS_SHARED},          PropagationOption{"rshared", MS_SHARED | MS_REC},
    PropagationOption{"slave", MS_SLAVE},            PropagationOption{"rslave", MS_SLAVE | MS_REC},
    PropagationOption{"unbindable", MS_UNBINDABLE},  PropagationOption{"runbindable", MS_UNBINDABLE | MS_REC},
};

struct AttrOption {
  std::string_view name;
  bool clear;
  uint64_t attr;
};

constexpr std::array kRecursiveOptions = {
    AttrOption{"rro", false, MOUNT_ATTR_RDONLY},           AttrOption{"rrw", true, MOUNT_ATTR_RDONLY},
    AttrOption{"rnosuid", false, MOUNT_ATTR_NOSUID},       AttrOption{"rsuid", true, MOUNT_ATTR_NOSUID},
    AttrOption{"rnodev", false, MOUNT_ATTR_NODEV},         AttrOption{"rdev", true, MOUNT_ATTR_NODEV},
    AttrOption{"rnoexec", false, MOUNT_ATTR_NOEXEC},       AttrOption{"rexec", true, MOUNT_ATTR_NOEXEC},
    AttrOption{"rnodiratime", false, MOUNT_ATTR_NODIRATIME}, AttrOption{"rdiratime", true, MOUNT_ATTR_NODIRATIME},
    AttrOption{"rrelatime", false, MOUNT_ATTR_RELATIME},   AttrOption{"rnorelatime", true, MOUNT_ATTR_RELATIME},
    AttrOption{"rnoatime", false, MOUNT_ATTR_NOATIME},     AttrOption{"ratime", true, MOUNT_ATTR_NOATIME},
    AttrOption{"rstrictatime", false, MOUNT_ATTR_STRICTATIME},
    AttrOption{"rnostrictatime", true, MOUNT_ATTR_STRICTATIME},
    AttrOption{"rnosymfollow", false, MOUNT_ATTR_NOSYMFOLLOW}, AttrOption{"rsymfollow", true, MOUNT_ATTR_NOSYMFOLLOW},
};

constexpr unsigned long kAtimeFlags = MS_NOATIME | MS_RELATIME | MS_STRICTATIME | MS_NODIRATIME;

template <class Table>
const auto* findOption(const Table& table, std::string_view name) {
  for (const auto& entry : table) {
    if (entry.name == name) return &entry;
  }
  return static_cast<decltype(&table[0])>(nullptr);
}

void applyRecursive(MountOptions& out, const AttrOption& opt) {
  if (opt.clear) {
    out.recursiveSet &= ~opt.attr;
    out.recursiveClear |= opt.attr;
    return;
  }
  out.recursiveSet |= opt.attr;
  out.recursiveClear &= ~opt.attr;
  // The atime mode is a field, not a bit: mount_setattr(2) only changes it when
  // MOUNT_ATTR__ATIME is in attr_clr (and MOUNT_ATTR_RELATIME is 0).
  if ((opt.attr & MOUNT_ATTR__ATIME) == opt.attr) out.recursiveClear |= MOUNT_ATTR__ATIME;
}

}  // namespace

bool MountOptions::isBind() const { return (flags & MS_BIND) != 0; }
bool MountOptions::isRecursiveBind() const { return (flags & (MS_BIND | MS_REC)) == (MS_BIND | MS_REC); }
bool MountOptions::needsRemount() const {
  return isBind() && ((flags & ~(MS_BIND | MS_REC | MS_REMOUNT)) != 0 || clearFlags != 0);
}

sys::Result<MountOptions> parseMountOptions(const std::vector<std::string>& options) {
  MountOptions out;
  for (const auto& option : options) {
    if (const auto* flag = findOption(kFlagOptions, option)) {
      if (flag->clear) {
        out.flags &= ~flag->flag;
        out.clearFlags |= flag->flag;
      } else {
        out.flags |= flag->flag;
        out.clearFlags &= ~flag->flag;
      }
    } else if (const auto* prop = findOption(kPropagationOptions, option)) {
      out.propagation.push_back(prop->flags);
    } else if (const auto* attr = findOption(kRecursiveOptions, option)) {
      applyRecursive(out, *attr);
    } else if (option == "idmap" || option == "ridmap") {
      return sys::Error(ENOTSUP, "mount option \"" + option + "\": idmapped mounts are not supported");
    } else if (option == "tmpcopyup" || option.starts_with("x-") || option.starts_with("X-")) {
      // "x-*" options are for userspace tools (mount(8) convention), never for
      // the kernel; "tmpcopyup" is a runc extension berth does not implement.
      continue;
    } else if (!option.empty()) {
      if (!out.data.empty()) out.data += ',';
      out.data += option;
    }
  }
  return out;
}

sys::Result<unsigned long> parsePropagation(std::string_view name) {
  if (const auto* prop = findOption(kPropagationOptions, name)) return prop->flags;
  return sys::Error::invalid("unknown rootfs propagation \"" + std::string(name) + "\"");
}

unsigned long statfsToMountFlags(unsigned long statfsFlags) {
  // ST_NOSYMFOLLOW is not in glibc 2.36's headers; the kernel value is 0x2000.
  constexpr unsigned long kStNoSymFollow = 0x2000;
  struct Pair {
    unsigned long st;
    unsigned long ms;
  };
  constexpr std::array kPairs = {
      Pair{ST_RDONLY, MS_RDONLY},     Pair{ST_NOSUID, MS_NOSUID},         Pair{ST_NODEV, MS_NODEV},
      Pair{ST_NOEXEC, MS_NOEXEC},     Pair{ST_SYNCHRONOUS, MS_SYNCHRONOUS}, Pair{ST_MANDLOCK, MS_MANDLOCK},
      Pair{ST_NOATIME, MS_NOATIME},   Pair{ST_NODIRATIME, MS_NODIRATIME}, Pair{ST_RELATIME, MS_RELATIME},
      Pair{kStNoSymFollow, MS_NOSYMFOLLOW},
  };
  unsigned long out = 0;
  for (const auto& pair : kPairs) {
    if (statfsFlags & pair.st) out |= pair.ms;
  }
  return out;
}

unsigned long bindRemountFlags(const MountOptions& options, unsigned long sourceMountFlags) {
  unsigned long keep = sourceMountFlags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC |
                                           MS_SYNCHRONOUS | MS_MANDLOCK | MS_NOSYMFOLLOW | kAtimeFlags);
  // The atime setting is one mode: a requested one replaces the source's whole.
  if ((options.flags | options.clearFlags) & kAtimeFlags) keep &= ~kAtimeFlags;
  keep &= ~options.clearFlags;
  unsigned long requested = options.flags & ~(MS_REC | MS_REMOUNT);
  return (requested | keep | MS_BIND | MS_REMOUNT) & ~(MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE);
}

}  // namespace berth::runtime::linux
