// The few kernel operations ProjectNetworks needs beyond net/netlink:
// pinning a network namespace as a bind mount (the path the OCI config
// names) and a bridge MAC that does not follow its ports.
#pragma once
#include <string>
#include <string_view>

#include "runtime/sys/result.h"

namespace berth::net::network {

// Bind-mounts the namespace `netnsFd` refers to onto `path` (an empty file,
// created; a stale mount there is removed first), so the namespace lives
// until unpinNetns even when no process is in it yet.
[[nodiscard]] sys::Result<void> pinNetns(int netnsFd, const std::string& path);
// Lazily unmounts and deletes `path`; a missing or unmounted path is fine.
// MNT_DETACH: a runtime still holding the namespace open must not make the
// container's stop fail; the namespace itself goes when its last user does.
[[nodiscard]] sys::Result<void> unpinNetns(const std::string& path);
// Gives bridge `bridge` a fixed MAC derived from `project` (locally
// administered, stable across restarts). A bridge without one takes the
// lowest MAC of its ports and changes it when that port leaves: every
// container's ARP entry for the gateway then points at a MAC nobody answers
// to, and DNS and the default route stop working for tens of seconds.
[[nodiscard]] sys::Result<void> pinBridgeMac(std::string_view bridge, std::string_view project);
// Turns on IPv4 forwarding in the calling thread's network namespace (the
// node's), as every container platform does: without it the masquerade
// rules have nothing to forward and containers have no way out. A no-op
// when it is on already.
[[nodiscard]] sys::Result<void> enableIpv4Forwarding();
// True when a link named `name` exists in the calling thread's netns.
bool linkExists(std::string_view name);

}  // namespace berth::net::network
