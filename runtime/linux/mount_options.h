// Mount options as config.json writes them ("ro", "rbind", "rslave", "mode=755"),
// turned into what mount(2) and mount_setattr(2) take.
//
// Parsing is pure (no system calls) so every option, and how options combine, is
// unit-tested without root. The option table follows runc, whose spelling every
// OCI client (podman, containerd, CRI-O) already produces: known flag names set or
// clear MS_* bits, r-prefixed attributes ("rro") apply to a whole tree through
// mount_setattr(AT_RECURSIVE), propagation names are applied after the mount, and
// anything unknown is file system data ("size=64k", "newinstance").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/sys/result.h"

namespace berth::runtime::linux {

struct MountOptions {
  unsigned long flags = 0;       // MS_* bits to set (MS_BIND, MS_REC, MS_RDONLY ...)
  unsigned long clearFlags = 0;  // MS_* bits the user asked to clear ("rw", "suid", "dev" ...)
  // Propagation changes (MS_SHARED, MS_SLAVE|MS_REC ...), in the order given; each
  // is a separate mount(2) call because the kernel takes one type per call.
  std::vector<unsigned long> propagation;
  uint64_t recursiveSet = 0;    // MOUNT_ATTR_* for mount_setattr(AT_RECURSIVE)
  uint64_t recursiveClear = 0;
  std::string data;             // unknown options, comma-joined, passed as mount data

  bool isBind() const;
  bool isRecursiveBind() const;
  bool hasRecursiveAttrs() const { return recursiveSet != 0 || recursiveClear != 0; }
  // True when a bind mount needs the MS_REMOUNT pass: a bind ignores every flag
  // but MS_BIND/MS_REC on the first call.
  bool needsRemount() const;
};

// Fails only on options berth recognises but cannot honour (idmapped mounts).
sys::Result<MountOptions> parseMountOptions(const std::vector<std::string>& options);

// linux.rootfsPropagation: "shared", "rslave", ... -> MS_* (with MS_REC for r-variants).
sys::Result<unsigned long> parsePropagation(std::string_view name);

// statfs(2) f_flags (ST_*) -> the matching MS_* bits a bind remount must carry.
unsigned long statfsToMountFlags(unsigned long statfsFlags);

// The flags for mount(MS_REMOUNT|MS_BIND) of a bind mount: what the user asked for,
// plus the flags the source mount already has that the user did not explicitly clear.
// Keeping them matters in a user namespace, where the kernel refuses to drop a flag
// that is locked on the source (EPERM), and it keeps a nosuid source nosuid.
unsigned long bindRemountFlags(const MountOptions& options, unsigned long sourceMountFlags);

}  // namespace berth::runtime::linux
