// Text, reverse-name and sockaddr forms of IpAddress / SocketAddress.
#include "net/dns/address.h"

#include <arpa/inet.h>

#include <cstring>

namespace berth::net::dns {

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  char buf[INET6_ADDRSTRLEN];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  IpAddress ip;
  if (inet_pton(AF_INET, buf, ip.bytes.data()) == 1) {
    ip.family = AF_INET;
    return ip;
  }
  if (inet_pton(AF_INET6, buf, ip.bytes.data()) == 1) {
    ip.family = AF_INET6;
    return ip;
  }
  return std::nullopt;
}

IpAddress IpAddress::v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  IpAddress ip;
  ip.bytes[0] = a;
  ip.bytes[1] = b;
  ip.bytes[2] = c;
  ip.bytes[3] = d;
  return ip;
}

std::string IpAddress::str() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(family, bytes.data(), buf, sizeof buf);
  return buf;
}

std::string IpAddress::reverseName() const {
  std::string out;
  if (family == AF_INET) {
    for (int i = 3; i >= 0; --i) {
      out += std::to_string(bytes[i]);
      out += '.';
    }
    return out + "in-addr.arpa";
  }
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 15; i >= 0; --i) {
    out += kHex[bytes[i] & 0xf];
    out += '.';
    out += kHex[bytes[i] >> 4];
    out += '.';
  }
  return out + "ip6.arpa";
}

std::string SocketAddress::str() const {
  if (ip.family == AF_INET6) return "[" + ip.str() + "]:" + std::to_string(port);
  return ip.str() + ":" + std::to_string(port);
}

socklen_t SocketAddress::toSockaddr(sockaddr_storage& storage) const {
  std::memset(&storage, 0, sizeof storage);
  if (ip.family == AF_INET) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&storage);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    std::memcpy(&sin->sin_addr, ip.bytes.data(), 4);
    return sizeof(sockaddr_in);
  }
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(&storage);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(port);
  std::memcpy(&sin6->sin6_addr, ip.bytes.data(), 16);
  return sizeof(sockaddr_in6);
}

std::optional<SocketAddress> SocketAddress::fromSockaddr(const sockaddr_storage& storage) {
  SocketAddress out;
  if (storage.ss_family == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(&storage);
    out.ip.family = AF_INET;
    std::memcpy(out.ip.bytes.data(), &sin->sin_addr, 4);
    out.port = ntohs(sin->sin_port);
    return out;
  }
  if (storage.ss_family == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&storage);
    out.ip.family = AF_INET6;
    std::memcpy(out.ip.bytes.data(), &sin6->sin6_addr, 16);
    out.port = ntohs(sin6->sin6_port);
    return out;
  }
  return std::nullopt;
}

namespace {

constexpr std::string_view kV4Suffix = ".in-addr.arpa";
constexpr std::string_view kV6Suffix = ".ip6.arpa";

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::optional<IpAddress> parseV4Reverse(std::string_view labels) {
  IpAddress ip;
  int octet = 3;
  size_t pos = 0;
  while (octet >= 0) {
    size_t dot = labels.find('.', pos);
    std::string_view part =
        labels.substr(pos, dot == std::string_view::npos ? labels.npos : dot - pos);
    if (part.empty() || part.size() > 3) return std::nullopt;
    if (part.size() > 1 && part[0] == '0') return std::nullopt;  // canonical decimal only
    int value = 0;
    for (char c : part) {
      if (c < '0' || c > '9') return std::nullopt;
      value = value * 10 + (c - '0');
    }
    if (value > 255) return std::nullopt;
    ip.bytes[octet--] = static_cast<uint8_t>(value);
    if (dot == std::string_view::npos) break;
    if (octet < 0) return std::nullopt;  // more than four labels
    pos = dot + 1;
  }
  if (octet != -1) return std::nullopt;
  return ip;
}

std::optional<IpAddress> parseV6Reverse(std::string_view labels) {
  // 32 single-nibble labels separated by dots: 63 characters.
  if (labels.size() != 63) return std::nullopt;
  IpAddress ip;
  ip.family = AF_INET6;
  for (int i = 0; i < 32; ++i) {
    int v = hexValue(labels[static_cast<size_t>(i) * 2]);
    if (v < 0) return std::nullopt;
    if (i < 31 && labels[static_cast<size_t>(i) * 2 + 1] != '.') return std::nullopt;
    int byte = 15 - i / 2;
    if (i % 2 == 0) {
      ip.bytes[byte] |= static_cast<uint8_t>(v);
    } else {
      ip.bytes[byte] |= static_cast<uint8_t>(v << 4);
    }
  }
  return ip;
}

}  // namespace

std::optional<IpAddress> parseReverseName(std::string_view name) {
  if (name.size() > kV4Suffix.size() && name.ends_with(kV4Suffix)) {
    return parseV4Reverse(name.substr(0, name.size() - kV4Suffix.size()));
  }
  if (name.size() > kV6Suffix.size() && name.ends_with(kV6Suffix)) {
    return parseV6Reverse(name.substr(0, name.size() - kV6Suffix.size()));
  }
  return std::nullopt;
}

}  // namespace berth::net::dns
