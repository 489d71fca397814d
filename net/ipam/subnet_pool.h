// SubnetPool: carves one subnet per project network out of an address pool
// (default 10.89.0.0/16 in /23 pieces, room for 128 projects of 509
// containers each). It decides only; which subnets are taken is the
// caller's state (IpamStore persists it).
#pragma once

#include <vector>

#include "net/ipam/subnet.h"
#include "runtime/sys/result.h"

namespace berth::net::ipam {

inline constexpr const char* kDefaultPool = "10.89.0.0/16";
inline constexpr int kDefaultPrefixLength = 23;

class SubnetPool {
 public:
  // `prefixLength` is the size of each project's subnet: at least the pool's
  // own prefix and at most /30 (the smallest subnet with a gateway and one
  // container address).
  static sys::Result<SubnetPool> make(Subnet pool, int prefixLength = kDefaultPrefixLength);
  // kDefaultPool carved in kDefaultPrefixLength pieces.
  static SubnetPool defaults();

  const Subnet& pool() const { return pool_; }
  int prefixLength() const { return prefixLength_; }
  // How many project subnets the pool holds when nothing else is in it.
  uint64_t capacity() const { return uint64_t{1} << (prefixLength_ - pool_.prefixLength()); }

  // The lowest subnet of prefixLength() inside the pool that overlaps none
  // of `taken` (which may have other sizes, or lie partly outside the pool,
  // e.g. after the configuration changed). Error when none is left:
  // "address pool 10.89.0.0/16 is full: 128 project networks of /23".
  sys::Result<Subnet> carve(const std::vector<Subnet>& taken) const;

 private:
  SubnetPool(Subnet pool, int prefixLength) : pool_(pool), prefixLength_(prefixLength) {}

  Subnet pool_;
  int prefixLength_;
};

}  // namespace berth::net::ipam
