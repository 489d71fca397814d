// Hash-based interface names (see naming.h).
#include "net/netlink/naming.h"

#include <cstdint>

namespace berth::net::netlink {
namespace {

// FNV-1a, 64 bit: tiny, stable across releases and platforms (unlike
// std::hash), and well enough spread for short names.
std::uint64_t fnv1a64(std::string_view text) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

// The `digits` most significant hex digits of the hash of `text`.
std::string hashedName(std::string_view prefix, std::string_view text, int digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::uint64_t hash = fnv1a64(text);
  std::string out(prefix);
  for (int i = 0; i < digits; ++i) out += kHex[(hash >> (60 - 4 * i)) & 0xf];
  return out;
}

}  // namespace

std::string bridgeName(std::string_view project) {
  return hashedName(kBridgePrefix, project, 8);
}

std::string vethHostName(std::string_view containerId) {
  return hashedName(kVethPrefix, containerId, kMaxIfNameLength - kVethPrefix.size());
}

bool isValidIfName(std::string_view name) {
  if (name.empty() || name.size() > kMaxIfNameLength) return false;
  if (name == "." || name == "..") return false;
  for (unsigned char c : name) {
    if (c == '/' || c == ':' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
        c == '\f' || c == 0)
      return false;
  }
  return true;
}

}  // namespace berth::net::netlink
