// Netns pinning and the bridge MAC (see kernel.h).
#include "net/network/kernel.h"

#include <fcntl.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "runtime/sys/fd.h"
#include "runtime/sys/fs.h"

namespace berth::net::network {

sys::Result<void> pinNetns(int netnsFd, const std::string& path) {
  BERTH_TRY(unpinNetns(path));
  sys::UniqueFd file(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444));
  if (!file) return sys::Error::fromErrno("create netns pin " + path);
  file.reset();
  // /proc/self/fd/N of an nsfs fd is the namespace itself: binding it keeps
  // the namespace alive, the same way `ip netns add` pins one.
  std::string source = "/proc/self/fd/" + std::to_string(netnsFd);
  if (::mount(source.c_str(), path.c_str(), nullptr, MS_BIND, nullptr) != 0) {
    sys::Error error = sys::Error::fromErrno("bind network namespace onto " + path);
    ::unlink(path.c_str());
    return error;
  }
  return sys::ok();
}

sys::Result<void> unpinNetns(const std::string& path) {
  if (::umount2(path.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) {
    return sys::Error::fromErrno("unmount netns pin " + path);
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return sys::Error::fromErrno("remove netns pin " + path);
  }
  return sys::ok();
}

sys::Result<void> pinBridgeMac(std::string_view bridge, std::string_view project) {
  // FNV-1a of the project name: stable and well spread; collisions only
  // matter between bridges of one node, which never share a segment.
  uint64_t hash = 1469598103934665603ULL;
  for (char c : project) hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  unsigned char mac[6] = {0x02};  // locally administered, unicast
  for (int i = 1; i < 6; ++i) mac[i] = static_cast<unsigned char>(hash >> (8 * (i - 1)));
  std::string what = "set the MAC of bridge " + std::string(bridge);
  if (bridge.size() >= IFNAMSIZ) return sys::Error::invalid(what + ": name too long");
  sys::UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock) return sys::Error::fromErrno(what);
  ifreq request{};
  std::memcpy(request.ifr_name, bridge.data(), bridge.size());
  if (::ioctl(sock.get(), SIOCGIFHWADDR, &request) != 0) return sys::Error::fromErrno(what);
  if (std::memcmp(request.ifr_hwaddr.sa_data, mac, sizeof mac) == 0) return sys::ok();
  request.ifr_hwaddr.sa_family = ARPHRD_ETHER;
  std::memcpy(request.ifr_hwaddr.sa_data, mac, sizeof mac);
  if (::ioctl(sock.get(), SIOCSIFHWADDR, &request) != 0) return sys::Error::fromErrno(what);
  return sys::ok();
}

sys::Result<void> enableIpv4Forwarding() {
  constexpr const char* kKnob = "/proc/sys/net/ipv4/ip_forward";
  auto current = sys::readFile(kKnob);
  if (current && current->starts_with("1")) return sys::ok();
  return sys::writeFile(kKnob, "1").context("enable IPv4 forwarding");
}

bool linkExists(std::string_view name) {
  return ::if_nametoindex(std::string(name).c_str()) != 0;
}

}  // namespace berth::net::network
