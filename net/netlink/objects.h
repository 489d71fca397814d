// Owners for libnl objects (internal to net/netlink): each frees its object
// with the matching libnl call, so no error path can leak one.
#pragma once

#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/msg.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>

#include <memory>

namespace berth::net::netlink::detail {

struct LinkFree {
  void operator()(rtnl_link* link) const { rtnl_link_put(link); }
};
struct AddrFree {
  void operator()(nl_addr* addr) const { nl_addr_put(addr); }
};
struct RtnlAddrFree {
  void operator()(rtnl_addr* addr) const { rtnl_addr_put(addr); }
};
struct RouteFree {
  void operator()(rtnl_route* route) const { rtnl_route_put(route); }
};
struct CacheFree {
  void operator()(nl_cache* cache) const { nl_cache_free(cache); }
};
struct MsgFree {
  void operator()(nl_msg* msg) const { nlmsg_free(msg); }
};

using LinkPtr = std::unique_ptr<rtnl_link, LinkFree>;
using AddrPtr = std::unique_ptr<nl_addr, AddrFree>;
using RtnlAddrPtr = std::unique_ptr<rtnl_addr, RtnlAddrFree>;
using RoutePtr = std::unique_ptr<rtnl_route, RouteFree>;
using CachePtr = std::unique_ptr<nl_cache, CacheFree>;
using MsgPtr = std::unique_ptr<nl_msg, MsgFree>;

}  // namespace berth::net::netlink::detail
