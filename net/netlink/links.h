// Project bridges and container attachment over rtnetlink.
//
// Every function takes the Socket of the namespace it acts in (the "node"
// namespace for bridges and host-side veths), so the calling thread never
// changes namespace. Addresses are given as text ("10.89.0.1/23") and are
// parsed and checked before the first request, so bad input changes nothing.
#pragma once

#include <string>
#include <string_view>

#include "net/netlink/socket.h"
#include "runtime/sys/result.h"

namespace berth::net::netlink {

// MTU used when the node has no default route (e.g. inside a test namespace).
inline constexpr unsigned kFallbackMtu = 1500;

struct Bridge {
  std::string name;
  int ifindex = 0;
  unsigned mtu = 0;
};

// Creates bridge `name` with `mtu` and the gateway address `gatewayCidr`
// ("10.89.0.1/23") and sets it up. Idempotent: an existing bridge is brought
// to the same state (MTU, address, up); a non-bridge link with that name is an
// EEXIST error.
sys::Result<Bridge> ensureBridge(Socket& node, std::string_view name, unsigned mtu,
                                 std::string_view gatewayCidr);

// Deletes link `name`; a missing link is success. Deleting one end of a veth
// pair deletes the other end too, wherever it lives.
sys::Result<void> deleteLink(Socket& sock, std::string_view name);

struct VethSpec {
  std::string hostName;  // end created in the socket's namespace, set up
  std::string peerName;  // the other end, left down (see links.cc)
  unsigned mtu = kFallbackMtu;
  int masterIndex = 0;   // bridge to enslave the host end to; 0: none
  int peerNetnsFd = -1;  // namespace to create the peer in; -1: the socket's
};

// Creates a veth pair in one request: the kernel places the peer directly in
// `peerNetnsFd` under its final name, so no rename or move follows.
sys::Result<void> createVethPair(Socket& sock, const VethSpec& spec);

struct Attachment {
  std::string hostName;  // veth end on the bridge: vethHostName(containerId)
  std::string address;   // the container's address with prefix, "10.89.0.5/23"
  std::string gateway;   // the bridge's address, "10.89.0.1"
  unsigned mtu = kFallbackMtu;
};

// Connects the container namespace `containerNetnsFd` to `bridge`: a veth
// pair (host end enslaved, up and in hairpin mode, so the container reaches
// its own published ports through the node; peer `eth0` inside the
// container), then, inside: the address on eth0, lo up, default route via
// the gateway. On failure the veth pair is removed again.
sys::Result<void> attachContainer(Socket& node, const Bridge& bridge, int containerNetnsFd,
                                  const Attachment& attachment);

// Removes the container's veth pair (deleting the host end takes eth0 with
// it). Returns without waiting for the container namespace to go away.
sys::Result<void> detachContainer(Socket& node, std::string_view hostName);

// The MTU of the device carrying the node's IPv4 default route, or
// kFallbackMtu when there is no default route.
sys::Result<unsigned> uplinkMtu(Socket& node);

}  // namespace berth::net::netlink
