// How a container's spec becomes its attachment to a project network
// (container_network.cc): the pieces the engine uses, apart for tests.
#pragma once

#include <string>

#include "agent/engine/container_record.h"
#include "net/network/types.h"
#include "runtime/sys/result.h"

namespace berth::agent::engine {

// "HOST:CONTAINER[/tcp|udp]" (tcp by default); an invalid-argument error naming the text.
[[nodiscard]] sys::Result<net::network::PortMapping> parsePublish(const std::string& text);

// The network a container joins: its first --network; "" for "none"; when
// it names none, a network of its own, "c-" + the first 12 hex digits of
// its id (a /30: the gateway and the container), removed with it.
std::string networkOf(const ContainerRecord& record);
inline constexpr int kPrivateNetworkPrefix = 30;

// The attach request of a container: networkOf (an empty network for
// "none"), hostname = --hostname or its name, aliases = its
// name (when not the hostname) and --alias values, its published ports.
[[nodiscard]] sys::Result<net::network::AttachRequest> attachRequestFor(
    const ContainerRecord& record);

}  // namespace berth::agent::engine
