// Leases: which container holds which address on one project network. The
// gateway (the first host address) is reserved for the bridge; the network
// and broadcast addresses are never leased; no address is ever held by two
// containers. In-memory and pure: IpamStore loads, changes and saves it under
// a lock.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "net/ipam/subnet.h"
#include "runtime/sys/result.h"

namespace berth::net::ipam {

// Container ids and network names are saved as JSON keys and shown in
// errors: 1-255 printable ASCII characters without spaces. `kind` names
// the field in the error ("container id").
sys::Result<void> checkName(std::string_view kind, std::string_view name);

class Leases {
 public:
  // `subnet` must be /30 or larger (one gateway and one container address).
  static sys::Result<Leases> make(Subnet subnet);

  const Subnet& subnet() const { return subnet_; }
  Ipv4Address gateway() const { return Ipv4Address{subnet_.network().bits + 1}; }
  // Addresses containers can hold: the hosts minus the gateway (509 in a /23).
  uint64_t capacity() const { return subnet_.hostCount() - 1; }
  size_t size() const { return byContainer_.size(); }

  // The address of `containerId`. A container that already holds one keeps
  // it, so a recreated container (same id) answers at the same address. With
  // `preferred` (the address a recreated container had under another id, or
  // one the user asked for) that address is leased if it is free, and an
  // error names its holder if not; a container moving to a free preferred
  // address gives up its old one. Otherwise the next free address after the
  // last one handed out: a just-released address is reused only after the
  // others, so peers' ARP and DNS caches are less likely to point at a
  // stranger. Error when full: "subnet 10.89.2.0/23 is full (509 containers)".
  sys::Result<Ipv4Address> allocate(std::string_view containerId,
                                    std::optional<Ipv4Address> preferred = {});
  // Frees the container's address; false if it held none.
  bool release(std::string_view containerId);
  std::optional<Ipv4Address> lookup(std::string_view containerId) const;
  // Who holds `address`, if anyone.
  std::optional<std::string> holder(Ipv4Address address) const;

  const std::map<std::string, Ipv4Address, std::less<>>& byContainer() const {
    return byContainer_;
  }
  // The last address handed out (where the next search starts).
  Ipv4Address last() const { return last_; }

  // For loading saved state: records an existing lease after checking it
  // (inside the subnet, not reserved, not held by another container).
  sys::Result<void> restore(std::string_view containerId, Ipv4Address address);
  void restoreLast(Ipv4Address last);

 private:
  explicit Leases(Subnet subnet) : subnet_(subnet), last_(gateway()) {}

  sys::Result<void> checkLeasable(Ipv4Address address) const;
  std::optional<Ipv4Address> findFree() const;
  void assign(std::string_view containerId, Ipv4Address address);

  Subnet subnet_;
  Ipv4Address last_;
  std::map<std::string, Ipv4Address, std::less<>> byContainer_;
  std::map<uint32_t, std::string> byAddress_;
};

}  // namespace berth::net::ipam
