// IPv4 address and subnet arithmetic; see subnet.h.
#include "net/ipam/subnet.h"

#include <charconv>

namespace berth::net::ipam {
namespace {

// A decimal number without sign or leading zeros ("0" itself is fine).
bool parseDecimal(std::string_view text, uint32_t max, uint32_t& out) {
  if (text.empty() || text.size() > 10 || (text.size() > 1 && text[0] == '0')) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value > max) return false;
  out = static_cast<uint32_t>(value);
  return true;
}

uint32_t maskOf(int prefixLength) {
  return prefixLength == 0 ? 0 : ~uint32_t{0} << (32 - prefixLength);
}

}  // namespace

sys::Result<Ipv4Address> Ipv4Address::parse(std::string_view text) {
  uint32_t bits = 0;
  std::string_view rest = text;
  for (int i = 0; i < 4; ++i) {
    size_t dot = rest.find('.');
    if ((i < 3) != (dot != std::string_view::npos)) {
      return sys::Error::invalid("invalid IPv4 address \"" + std::string(text) + "\"");
    }
    uint32_t octet = 0;
    if (!parseDecimal(rest.substr(0, dot), 255, octet)) {
      return sys::Error::invalid("invalid IPv4 address \"" + std::string(text) + "\"");
    }
    bits = bits << 8 | octet;
    rest = i < 3 ? rest.substr(dot + 1) : std::string_view();
  }
  return Ipv4Address{bits};
}

std::string Ipv4Address::str() const {
  return std::to_string(bits >> 24) + "." + std::to_string(bits >> 16 & 0xff) + "." +
         std::to_string(bits >> 8 & 0xff) + "." + std::to_string(bits & 0xff);
}

sys::Result<Subnet> Subnet::parse(std::string_view cidr) {
  size_t slash = cidr.find('/');
  uint32_t prefix = 0;
  if (slash == std::string_view::npos || !parseDecimal(cidr.substr(slash + 1), 32, prefix)) {
    return sys::Error::invalid("invalid subnet \"" + std::string(cidr) +
                               "\": expected ADDRESS/PREFIX such as 10.89.0.0/16");
  }
  Ipv4Address address = BERTH_TRY_CTX(Ipv4Address::parse(cidr.substr(0, slash)),
                                      "invalid subnet \"" + std::string(cidr) + "\"");
  int prefixLength = static_cast<int>(prefix);
  if ((address.bits & ~maskOf(prefixLength)) != 0) {
    Ipv4Address network{address.bits & maskOf(prefixLength)};
    return sys::Error::invalid("invalid subnet \"" + std::string(cidr) +
                               "\": host bits are set (did you mean " + network.str() + "/" +
                               std::to_string(prefixLength) + "?)");
  }
  return Subnet(address, prefixLength);
}

sys::Result<Subnet> Subnet::containing(Ipv4Address address, int prefixLength) {
  if (prefixLength < 0 || prefixLength > 32) {
    return sys::Error::invalid("invalid prefix length " + std::to_string(prefixLength) +
                               ": must be 0-32");
  }
  return Subnet(Ipv4Address{address.bits & maskOf(prefixLength)}, prefixLength);
}

uint32_t Subnet::mask() const {
  return maskOf(prefixLength_);
}

Ipv4Address Subnet::broadcast() const {
  return Ipv4Address{network_.bits | ~mask()};
}

uint64_t Subnet::hostCount() const {
  return prefixLength_ >= 31 ? 0 : size() - 2;
}

sys::Result<Ipv4Address> Subnet::host(uint64_t n) const {
  if (n == 0 || n > hostCount()) {
    return sys::Error::invalid("subnet " + str() + " has no host number " + std::to_string(n) +
                               " (it has " + std::to_string(hostCount()) + ")");
  }
  return Ipv4Address{network_.bits + static_cast<uint32_t>(n)};
}

bool Subnet::contains(Ipv4Address address) const {
  return (address.bits & mask()) == network_.bits;
}

bool Subnet::contains(const Subnet& other) const {
  return other.prefixLength_ >= prefixLength_ && contains(other.network_);
}

bool Subnet::overlaps(const Subnet& other) const {
  return contains(other) || other.contains(*this);
}

std::string Subnet::str() const {
  return network_.str() + "/" + std::to_string(prefixLength_);
}

}  // namespace berth::net::ipam
