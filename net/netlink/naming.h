// Interface names for project bridges and container veths.
//
// Linux interface names hold at most 15 bytes (IFNAMSIZ - 1), so neither a
// project name nor a container id fits as is. Both are hashed: the names are
// stable (the same project always maps to the same bridge, so berthd finds its
// bridges again after a restart) and recognisable by their prefix, which lets
// a cleanup pass tell berth's links from anybody else's.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace berth::net::netlink {

// The longest interface name the kernel accepts (IFNAMSIZ minus the NUL).
inline constexpr std::size_t kMaxIfNameLength = 15;
inline constexpr std::string_view kBridgePrefix = "berth-";
inline constexpr std::string_view kVethPrefix = "bveth";

// "berth-" + 8 hex digits of a hash of the project name, e.g. "berth-1a2b3c4d".
std::string bridgeName(std::string_view project);

// "bveth" + 10 hex digits of a hash of the container id (40 bits: a collision
// among a node's containers is vanishingly unlikely), e.g. "bveth0123456789".
std::string vethHostName(std::string_view containerId);

// True when the kernel would accept `name` as an interface name: 1..15 bytes,
// not "." or "..", no '/', ':' or whitespace (dev_valid_name()).
bool isValidIfName(std::string_view name);

}  // namespace berth::net::netlink
