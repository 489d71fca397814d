// First-fit carving of project subnets out of the pool; see subnet_pool.h.
#include "net/ipam/subnet_pool.h"

#include <algorithm>

namespace berth::net::ipam {

sys::Result<SubnetPool> SubnetPool::make(Subnet pool, int prefixLength) {
  if (prefixLength < pool.prefixLength() || prefixLength > 30) {
    return sys::Error::invalid("invalid network size /" + std::to_string(prefixLength) +
                               " for address pool " + pool.str() + ": must be between /" +
                               std::to_string(pool.prefixLength()) + " and /30");
  }
  return SubnetPool(pool, prefixLength);
}

SubnetPool SubnetPool::defaults() {
  return SubnetPool(*Subnet::parse(kDefaultPool), kDefaultPrefixLength);
}

sys::Result<Subnet> SubnetPool::carve(const std::vector<Subnet>& taken) const {
  std::vector<Subnet> sorted;
  for (const Subnet& subnet : taken) {
    if (subnet.overlaps(pool_)) sorted.push_back(subnet);
  }
  std::sort(sorted.begin(), sorted.end(),
            [](const Subnet& a, const Subnet& b) { return a.network() < b.network(); });
  // 64-bit so that stepping past 255.255.255.255 cannot wrap to 0.
  const uint64_t step = uint64_t{1} << (32 - prefixLength_);
  const uint64_t end = uint64_t{pool_.network().bits} + pool_.size();
  uint64_t candidate = pool_.network().bits;
  for (const Subnet& subnet : sorted) {
    uint64_t start = subnet.network().bits;
    if (candidate + step <= start) break;  // the candidate ends before this taken subnet
    uint64_t after = uint64_t{subnet.broadcast().bits} + 1;
    // Round up to the next multiple of `step`: project subnets stay aligned.
    candidate = std::max(candidate, (after + step - 1) / step * step);
  }
  if (candidate + step > end) {
    return sys::Error::invalid("address pool " + pool_.str() +
                               " is full: " + std::to_string(capacity()) +
                               " project networks of /" + std::to_string(prefixLength_));
  }
  return Subnet::containing(Ipv4Address{static_cast<uint32_t>(candidate)}, prefixLength_);
}

}  // namespace berth::net::ipam
