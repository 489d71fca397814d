// The decisions of the DNS server that need no sockets: which upstream
// resolvers a resolv.conf names, and whether a query is answered from the
// zone (and with what) or forwarded. Kept apart from server.cc so they are
// unit-tested without root.
#pragma once

#include <string_view>
#include <vector>

#include "net/dns/address.h"
#include "net/dns/packet.h"
#include "net/dns/zone.h"

namespace berth::net::dns {

// The "nameserver ADDR" lines of a resolv.conf text, in order, port 53.
// Comments, other keywords and malformed lines are skipped (a broken line
// must not take name resolution down with it); an IPv6 zone index
// ("fe80::1%eth0") is dropped together with its address, since the server's
// sockets are not bound to that link.
std::vector<SocketAddress> parseResolvConf(std::string_view text);

struct LocalDecision {
  bool forward = false;  // true: relay the query to the upstreams
  Rcode rcode = Rcode::kNoError;
  bool authoritative = false;
};

// What to answer `query` with from `zone`; records are appended to `out`.
// Queries outside the zone are forwarded when `can_forward`, else REFUSED.
// Zone transfers and classes other than IN are REFUSED.
LocalDecision decideLocally(const Zone& zone, const Query& query, bool can_forward,
                            std::vector<Record>& out);

}  // namespace berth::net::dns
