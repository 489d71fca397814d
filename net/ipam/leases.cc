// Address leases of one project network; see leases.h.
#include "net/ipam/leases.h"

namespace berth::net::ipam {

sys::Result<void> checkName(std::string_view kind, std::string_view name) {
  bool printable = !name.empty() && name.size() <= 255;
  for (char c : name) printable = printable && c > ' ' && c < 0x7f;
  if (!printable) {
    return sys::Error::invalid("invalid " + std::string(kind) + " \"" + std::string(name) +
                               "\": must be 1-255 printable ASCII characters without spaces");
  }
  return sys::ok();
}

sys::Result<Leases> Leases::make(Subnet subnet) {
  if (subnet.prefixLength() > 30) {
    return sys::Error::invalid("subnet " + subnet.str() +
                               " is too small for a network: at most /30");
  }
  return Leases(subnet);
}

sys::Result<void> Leases::checkLeasable(Ipv4Address address) const {
  if (!subnet_.contains(address)) {
    return sys::Error::invalid("address " + address.str() + " is outside " + subnet_.str());
  }
  if (address == subnet_.network() || address == subnet_.broadcast()) {
    return sys::Error::invalid("address " + address.str() +
                               " is the network or broadcast address of " + subnet_.str());
  }
  if (address == gateway()) {
    return sys::Error::invalid("address " + address.str() + " is the gateway of " + subnet_.str());
  }
  return sys::ok();
}

std::optional<Ipv4Address> Leases::findFree() const {
  const uint32_t first = gateway().bits + 1;
  const uint32_t lastHost = subnet_.broadcast().bits - 1;
  // Next fit: from just after last_ to the end, then from the start. Each
  // pass walks the used addresses in order and stops at the first gap.
  auto scan = [&](uint32_t from, uint32_t to) -> std::optional<Ipv4Address> {
    if (from > to) return std::nullopt;
    uint32_t candidate = from;
    for (auto it = byAddress_.lower_bound(from); it != byAddress_.end() && it->first == candidate;
         ++it) {
      if (candidate == to) return std::nullopt;
      ++candidate;
    }
    return Ipv4Address{candidate};
  };
  uint32_t start = last_.bits >= first && last_.bits < lastHost ? last_.bits + 1 : first;
  if (auto found = scan(start, lastHost)) return found;
  if (start > first) return scan(first, start - 1);
  return std::nullopt;
}

void Leases::assign(std::string_view containerId, Ipv4Address address) {
  release(containerId);
  byContainer_.emplace(std::string(containerId), address);
  byAddress_.emplace(address.bits, std::string(containerId));
}

sys::Result<Ipv4Address> Leases::allocate(std::string_view containerId,
                                          std::optional<Ipv4Address> preferred) {
  BERTH_TRY_CTX(checkName("container id", containerId), "lease an address");
  std::optional<Ipv4Address> current = lookup(containerId);
  if (preferred && current != preferred) {
    BERTH_TRY_CTX(checkLeasable(*preferred),
                  "lease address for container " + std::string(containerId));
    if (auto other = holder(*preferred)) {
      return sys::Error::invalid("lease address for container " + std::string(containerId) +
                                 ": address " + preferred->str() + " is in use by container " +
                                 *other);
    }
    assign(containerId, *preferred);
    return *preferred;
  }
  if (current) return *current;
  std::optional<Ipv4Address> address = findFree();
  if (!address) {
    return sys::Error::invalid("subnet " + subnet_.str() + " is full (" +
                               std::to_string(capacity()) + " containers)");
  }
  assign(containerId, *address);
  last_ = *address;
  return *address;
}

bool Leases::release(std::string_view containerId) {
  auto it = byContainer_.find(containerId);
  if (it == byContainer_.end()) return false;
  byAddress_.erase(it->second.bits);
  byContainer_.erase(it);
  return true;
}

std::optional<Ipv4Address> Leases::lookup(std::string_view containerId) const {
  auto it = byContainer_.find(containerId);
  if (it == byContainer_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> Leases::holder(Ipv4Address address) const {
  auto it = byAddress_.find(address.bits);
  if (it == byAddress_.end()) return std::nullopt;
  return it->second;
}

sys::Result<void> Leases::restore(std::string_view containerId, Ipv4Address address) {
  BERTH_TRY(checkName("container id", containerId));
  BERTH_TRY_CTX(checkLeasable(address), "lease of container " + std::string(containerId));
  if (lookup(containerId)) {
    return sys::Error::invalid("container " + std::string(containerId) + " holds two leases");
  }
  if (auto other = holder(address)) {
    return sys::Error::invalid("address " + address.str() + " is leased to both " + *other +
                               " and " + std::string(containerId));
  }
  assign(containerId, address);
  return sys::ok();
}

void Leases::restoreLast(Ipv4Address last) {
  if (subnet_.contains(last)) last_ = last;
}

}  // namespace berth::net::ipam
