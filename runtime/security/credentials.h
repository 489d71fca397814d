// The container process's final identity: user and groups, capabilities,
// no_new_privs and umask, applied in the child right before execve.
//
// The init must run the last stages in this order (runc's finalizeNamespace
// and standard_init; each step's reason beside it):
//   1. applyRlimitsInChild      raising a hard limit needs CAP_SYS_RESOURCE,
//                               so before capabilities are dropped.
//   2. setNoNewPrivilegesInChild  if process.noNewPrivileges.
//   3. loadSeccompInChild       HERE only when noNewPrivileges is false:
//                               without NNP the kernel requires CAP_SYS_ADMIN
//                               to load a filter, which step 4 may drop.
//   4. switchUserInChild        bounding set, groups, gid, uid, capabilities.
//   5. loadSeccompInChild       HERE when noNewPrivileges is true: as late as
//                               possible, so the profile need not allow the
//                               syscalls the init itself still makes.
//   6. execve
#pragma once

#include <string_view>

#include "runtime/config/spec.h"
#include "runtime/security/capabilities.h"
#include "runtime/sys/result.h"

namespace berth::runtime::security {

// Switches to user.uid/gid/additionalGids and leaves exactly `caps`:
//   PR_SET_KEEPCAPS 1 (keep permitted caps across the uid change);
//   drop bounding caps not in caps.bounding (needs CAP_SETPCAP, so first);
//   setgroups(additionalGids) -- an empty list clears the runtime's own
//     groups -- unless !setgroupsAllowed (user namespace with setgroups
//     "deny"), where the call would fail with EPERM;
//   setresgid, setresuid; PR_SET_KEEPCAPS 0;
//   capset effective/permitted/inheritable;
//   raise each ambient cap that is both permitted and inheritable (the kernel
//     refuses others; runc ignores them, and so do we);
//   umask, if set.
// The calling process must be single-threaded (the child after clone).
sys::Result<void> switchUserInChild(const config::User& user, const CapabilitySets& caps,
                                    bool setgroupsAllowed);

// prctl(PR_SET_NO_NEW_PRIVS, 1): execve can no longer grant privileges
// (setuid bits, file capabilities).
sys::Result<void> setNoNewPrivilegesInChild();

// `exec --user uid[:gid]`, numbers only as in runc (names would need the
// container's /etc/passwd). Fields not given (gid, groups, umask) keep the
// values of `base`, the container's process.user, as runc does.
sys::Result<config::User> parseUserSpec(std::string_view spec, const config::User& base = {});

}  // namespace berth::runtime::security
