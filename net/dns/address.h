// IP and socket addresses as the DNS server needs them: an IPv4 or IPv6
// address in network byte order (the bytes an A/AAAA record carries and a
// reverse name spells), its text form, and the sockaddr conversion for bind,
// sendto and recvfrom. Kept here so net/dns depends on nothing but runtime/sys.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace berth::net::dns {

struct IpAddress {
  int family = AF_INET;             // AF_INET or AF_INET6
  std::array<uint8_t, 16> bytes{};  // network order; IPv4 uses the first 4

  size_t size() const { return family == AF_INET ? 4 : 16; }
  bool operator==(const IpAddress&) const = default;

  // "10.89.0.2", "fd00::1" (no brackets, no zone index).
  static std::optional<IpAddress> parse(std::string_view text);
  static IpAddress v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d);
  std::string str() const;
  // The reverse-lookup name without trailing dot: "2.0.89.10.in-addr.arpa",
  // or 32 nibbles + ".ip6.arpa".
  std::string reverseName() const;
};

struct SocketAddress {
  IpAddress ip;
  uint16_t port = 53;

  bool operator==(const SocketAddress&) const = default;
  // "10.89.0.1:53", "[fd00::1]:53".
  std::string str() const;
  // Fills `storage`; returns the length to pass to bind/connect/sendto.
  socklen_t toSockaddr(sockaddr_storage& storage) const;
  static std::optional<SocketAddress> fromSockaddr(const sockaddr_storage& storage);
};

// Parses the address part of a reverse name ("4.3.2.1.in-addr.arpa",
// "<32 nibbles>.ip6.arpa"; lower case, no trailing dot). nullopt for any
// other name, including partial ones.
std::optional<IpAddress> parseReverseName(std::string_view name);

}  // namespace berth::net::dns
