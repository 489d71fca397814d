// Text of /etc/hosts, /etc/resolv.conf and /etc/hostname for an attached
// container (see files.h).
#include "net/network/files.h"

#include <algorithm>

namespace berth::net::network {

std::string hostsText(std::string_view address, std::string_view project,
                      std::string_view hostname, const std::vector<std::string>& aliases) {
  std::string text =
      "127.0.0.1\tlocalhost\n"
      "::1\tlocalhost ip6-localhost ip6-loopback\n";
  std::vector<std::string> names;
  auto add = [&names](std::string name) {
    if (!name.empty() && std::find(names.begin(), names.end(), name) == names.end()) {
      names.push_back(std::move(name));
    }
  };
  if (!hostname.empty()) {
    add(std::string(hostname));
    add(std::string(hostname) + "." + std::string(project));
  }
  for (const std::string& alias : aliases) add(alias);
  if (names.empty()) return text;
  text += address;
  text += '\t';
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) text += ' ';
    text += names[i];
  }
  text += '\n';
  return text;
}

std::string resolvConfText(std::string_view gateway, std::string_view project) {
  std::string text = "search ";
  text += project;
  text += "\nnameserver ";
  text += gateway;
  text += '\n';
  return text;
}

std::string hostnameText(std::string_view hostname) {
  if (hostname.empty()) return "";
  return std::string(hostname) + "\n";
}

}  // namespace berth::net::network
