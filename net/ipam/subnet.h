// IPv4 addresses and subnets as plain values: parsing and formatting
// ("10.89.0.0/16"), prefix arithmetic, containment and the n-th host. Pure
// functions with no system calls, so the address plan of every project
// network is decided (and unit-tested) before anything touches the kernel.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "runtime/sys/result.h"

namespace berth::net::ipam {

// An IPv4 address in host byte order (10.89.0.1 is 0x0a590001).
struct Ipv4Address {
  uint32_t bits = 0;

  // Strict dotted quad: four decimal octets 0-255 without leading zeros.
  // inet_aton would read "010.1" as octal 8.0.0.1; a typo must not become
  // another address, so every other spelling is refused.
  static sys::Result<Ipv4Address> parse(std::string_view text);
  std::string str() const;

  auto operator<=>(const Ipv4Address&) const = default;
};

class Subnet {
 public:
  // "10.89.0.0/16". The host bits must be zero: "10.89.0.1/16" is refused,
  // since a caller who wrote it meant something this cannot guess.
  static sys::Result<Subnet> parse(std::string_view cidr);
  // The subnet of `prefixLength` bits that contains `address` (host bits cleared).
  static sys::Result<Subnet> containing(Ipv4Address address, int prefixLength);

  Ipv4Address network() const { return network_; }
  int prefixLength() const { return prefixLength_; }
  uint32_t mask() const;
  Ipv4Address broadcast() const;
  // Number of addresses, network and broadcast included (2^(32-prefix)).
  uint64_t size() const { return uint64_t{1} << (32 - prefixLength_); }
  // Usable host addresses: size() - 2 (network and broadcast); 0 for /31 and /32.
  uint64_t hostCount() const;
  // The n-th host, 1-based: host(1) is network+1 (the gateway of a project
  // network), host(hostCount()) is broadcast-1.
  sys::Result<Ipv4Address> host(uint64_t n) const;

  bool contains(Ipv4Address address) const;
  bool contains(const Subnet& other) const;
  bool overlaps(const Subnet& other) const;

  std::string str() const;

  auto operator<=>(const Subnet&) const = default;

 private:
  Subnet(Ipv4Address network, int prefixLength) : network_(network), prefixLength_(prefixLength) {}

  Ipv4Address network_;
  int prefixLength_ = 32;
};

}  // namespace berth::net::ipam
