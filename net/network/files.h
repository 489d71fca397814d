// The files a container reads its network identity from (/etc/hosts,
// /etc/resolv.conf, /etc/hostname), generated as text from its attachment.
// Pure functions, unit-tested without root; the engine writes the texts into
// the container's bundle.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace berth::net::network {

// localhost lines, then "<address>\t<hostname> <hostname>.<project> <aliases...>"
// (duplicates dropped); with neither hostname nor aliases only localhost.
std::string hostsText(std::string_view address, std::string_view project,
                      std::string_view hostname, const std::vector<std::string>& aliases);
// "search <project>" (bare names try the project first) and the gateway as
// the only nameserver: the embedded DNS server forwards the rest.
std::string resolvConfText(std::string_view gateway, std::string_view project);
// "<hostname>\n" ("" when empty).
std::string hostnameText(std::string_view hostname);

}  // namespace berth::net::network
