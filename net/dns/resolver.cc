// resolv.conf parsing and the local answer policy; see resolver.h.
#include "net/dns/resolver.h"

namespace berth::net::dns {

namespace {

std::string_view trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

}  // namespace

std::vector<SocketAddress> parseResolvConf(std::string_view text) {
  std::vector<SocketAddress> out;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    size_t comment = line.find_first_of("#;");
    line = trim(line.substr(0, comment == std::string_view::npos ? line.size() : comment));
    constexpr std::string_view kKeyword = "nameserver";
    if (!line.starts_with(kKeyword) || line.size() == kKeyword.size()) continue;
    if (line[kKeyword.size()] != ' ' && line[kKeyword.size()] != '\t') continue;
    std::string_view value = trim(line.substr(kKeyword.size()));
    if (value.find_first_of(" \t") != std::string_view::npos) continue;  // trailing junk
    auto ip = IpAddress::parse(value);
    if (!ip) continue;
    SocketAddress server{*ip, 53};
    bool seen = false;
    for (const SocketAddress& s : out) seen = seen || s == server;
    if (!seen) out.push_back(server);
  }
  return out;
}

LocalDecision decideLocally(const Zone& zone, const Query& query, bool can_forward,
                            std::vector<Record>& out) {
  if (query.error != Rcode::kNoError) return {false, query.error, false};
  if (query.qclass != kClassIn && query.qclass != rtype::kAny)
    return {false, Rcode::kRefused, false};
  if (query.qtype == rtype::kAxfr || query.qtype == rtype::kIxfr)
    return {false, Rcode::kRefused, false};
  switch (zone.lookup(query.name, query.qtype, out)) {
    case LookupStatus::kFound:
      return {false, Rcode::kNoError, true};
    case LookupStatus::kNoName:
      return {false, Rcode::kNxDomain, true};
    case LookupStatus::kNotOurs:
      break;
  }
  if (can_forward) return {true, Rcode::kNoError, false};
  return {false, Rcode::kRefused, false};
}

}  // namespace berth::net::dns
