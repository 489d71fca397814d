// Bridges, veth pairs and container addressing over libnl-route (see links.h).
#include "net/netlink/links.h"

#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/errno.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/nexthop.h>
#include <sys/socket.h>

#include <array>
#include <cstring>
#include <string>

#include "net/netlink/naming.h"
#include "net/netlink/objects.h"

namespace berth::net::netlink {
namespace {

using detail::AddrPtr;
using detail::CachePtr;
using detail::LinkPtr;
using detail::MsgPtr;
using detail::RoutePtr;
using detail::RtnlAddrPtr;

// Loopback is ifindex 1 in every network namespace (LOOPBACK_IFINDEX).
constexpr int kLoopbackIndex = 1;
constexpr char kContainerIfName[] = "eth0";

bool isMissing(int nlCode) {
  return nlCode == -NLE_OBJ_NOTFOUND || nlCode == -NLE_NODEV;
}

sys::Result<void> checkIfName(std::string_view name) {
  if (isValidIfName(name)) return sys::ok();
  return sys::Error(EINVAL, "invalid interface name \"" + std::string(name) + "\"");
}

// Parses an IPv4 address; with `wantPrefix` it must carry "/len" (1..32).
sys::Result<AddrPtr> parseIpv4(std::string_view text, bool wantPrefix) {
  std::string copy(text);
  bool hasPrefix = copy.find('/') != std::string::npos;
  nl_addr* raw = nullptr;
  if (hasPrefix == wantPrefix && nl_addr_parse(copy.c_str(), AF_INET, &raw) == 0) {
    AddrPtr addr(raw);
    unsigned prefix = nl_addr_get_prefixlen(raw);
    if (nl_addr_get_len(raw) == 4 && (!wantPrefix || (prefix >= 1 && prefix <= 32))) return addr;
  }
  return sys::Error(EINVAL, std::string(wantPrefix ? "invalid IPv4 address/prefix \""
                                                   : "invalid IPv4 address \"") +
                                copy + "\"");
}

// The link called `name`, or nullptr when there is none.
sys::Result<LinkPtr> findLink(Socket& sock, const char* name) {
  rtnl_link* raw = nullptr;
  int err = rtnl_link_get_kernel(sock.get(), 0, name, &raw);
  if (isMissing(err)) return LinkPtr();
  if (err < 0) return nlError(err, std::string("look up link ") + name);
  return LinkPtr(raw);
}

sys::Result<LinkPtr> newLink() {
  LinkPtr link(rtnl_link_alloc());
  if (!link) return sys::Error(ENOMEM, "allocate link");
  return link;
}

// Adds `local` (with its prefix) to link `ifindex`; an existing one is fine.
sys::Result<void> ensureAddress(Socket& sock, int ifindex, nl_addr* local) {
  RtnlAddrPtr addr(rtnl_addr_alloc());
  if (!addr) return sys::Error(ENOMEM, "allocate address");
  rtnl_addr_set_ifindex(addr.get(), ifindex);
  rtnl_addr_set_family(addr.get(), AF_INET);
  int err = rtnl_addr_set_local(addr.get(), local);
  if (err == 0) rtnl_addr_set_prefixlen(addr.get(), nl_addr_get_prefixlen(local));
  if (err == 0) err = rtnl_addr_add(sock.get(), addr.get(), NLM_F_CREATE | NLM_F_EXCL);
  if (err == -NLE_EXIST) return sys::ok();
  if (err < 0) return nlError(err, "add address");
  return sys::ok();
}

// Brings an existing bridge to `mtu` and up; refuses other kinds of link.
sys::Result<void> reconcileBridge(Socket& sock, rtnl_link* link, unsigned mtu) {
  const char* type = rtnl_link_get_type(link);
  if (type == nullptr || std::strcmp(type, "bridge") != 0)
    return sys::Error(
        EEXIST, std::string("a link of type ") + (type ? type : "unknown") + " has that name");
  bool up = (rtnl_link_get_flags(link) & IFF_UP) != 0;
  if (rtnl_link_get_mtu(link) == mtu && up) return sys::ok();
  LinkPtr change = BERTH_TRY(newLink());
  rtnl_link_set_mtu(change.get(), mtu);
  rtnl_link_set_flags(change.get(), IFF_UP);
  int err = rtnl_link_change(sock.get(), link, change.get(), 0);
  if (err < 0) return nlError(err, "set mtu " + std::to_string(mtu) + " and up");
  return sys::ok();
}

// Errors come back complete, starting with `what` ("create bridge X").
sys::Result<LinkPtr> createOrFindBridge(Socket& sock, const std::string& name, unsigned mtu,
                                        const std::string& what) {
  LinkPtr link = BERTH_TRY_CTX(findLink(sock, name.c_str()), what);
  if (link) {
    BERTH_TRY_CTX(reconcileBridge(sock, link.get(), mtu), what);
    return link;
  }
  LinkPtr want = BERTH_TRY(newLink());
  rtnl_link_set_name(want.get(), name.c_str());
  int err = rtnl_link_set_type(want.get(), "bridge");
  if (err < 0) return nlError(err, what + ": link type bridge");
  rtnl_link_set_mtu(want.get(), mtu);
  rtnl_link_set_flags(want.get(), IFF_UP);
  err = rtnl_link_add(sock.get(), want.get(), NLM_F_CREATE | NLM_F_EXCL);
  // EEXIST: created concurrently since the lookup; check that one instead.
  if (err < 0 && err != -NLE_EXIST) return nlError(err, what);
  link = BERTH_TRY_CTX(findLink(sock, name.c_str()), what);
  if (!link) return sys::Error(ENODEV, what + ": vanished right after creation");
  if (err == -NLE_EXIST) BERTH_TRY_CTX(reconcileBridge(sock, link.get(), mtu), what);
  return link;
}

}  // namespace

sys::Result<Bridge> ensureBridge(Socket& node, std::string_view name, unsigned mtu,
                                 std::string_view gatewayCidr) {
  std::string what = "create bridge " + std::string(name);
  BERTH_TRY_CTX(checkIfName(name), what);
  AddrPtr gateway = BERTH_TRY_CTX(parseIpv4(gatewayCidr, true), what);
  LinkPtr link = BERTH_TRY(createOrFindBridge(node, std::string(name), mtu, what));
  int ifindex = rtnl_link_get_ifindex(link.get());
  BERTH_TRY_CTX(ensureAddress(node, ifindex, gateway.get()),
                what + ": address " + std::string(gatewayCidr));
  return Bridge{std::string(name), ifindex, mtu};
}

sys::Result<void> deleteLink(Socket& sock, std::string_view name) {
  std::string copy(name);
  LinkPtr link = BERTH_TRY(newLink());
  rtnl_link_set_name(link.get(), copy.c_str());
  int err = rtnl_link_delete(sock.get(), link.get());
  if (err < 0 && !isMissing(err)) return nlError(err, "delete link " + copy);
  return sys::ok();
}

sys::Result<void> createVethPair(Socket& sock, const VethSpec& spec) {
  std::string what = "create veth pair " + spec.hostName + "/" + spec.peerName;
  BERTH_TRY_CTX(checkIfName(spec.hostName), what);
  BERTH_TRY_CTX(checkIfName(spec.peerName), what);
  LinkPtr veth(rtnl_link_veth_alloc());
  if (!veth) return sys::Error(ENOMEM, what + ": allocate");
  // The peer object belongs to `veth` and is freed with it.
  rtnl_link* peer = rtnl_link_veth_get_peer(veth.get());
  rtnl_link_set_name(veth.get(), spec.hostName.c_str());
  rtnl_link_set_mtu(veth.get(), spec.mtu);
  rtnl_link_set_flags(veth.get(), IFF_UP);
  if (spec.masterIndex > 0) rtnl_link_set_master(veth.get(), spec.masterIndex);
  rtnl_link_set_name(peer, spec.peerName.c_str());
  rtnl_link_set_mtu(peer, spec.mtu);
  // The peer stays down: the kernel configures it before the pair is joined,
  // and veth_open() refuses IFF_UP then (ENOTCONN).
  // IFLA_NET_NS_FD inside VETH_INFO_PEER: the kernel registers the peer in
  // that namespace directly, so its name only has to be free there.
  if (spec.peerNetnsFd >= 0) rtnl_link_set_ns_fd(peer, spec.peerNetnsFd);
  int err = rtnl_link_add(sock.get(), veth.get(), NLM_F_CREATE | NLM_F_EXCL);
  if (err < 0) return nlError(err, what);
  return sys::ok();
}

namespace {

// RTM_NEWLINK setting IFF_UP on `ifindex`, nothing else.
sys::Result<MsgPtr> linkUpRequest(int ifindex) {
  MsgPtr msg(nlmsg_alloc_simple(RTM_NEWLINK, 0));
  if (!msg) return sys::Error(ENOMEM, "allocate message");
  ifinfomsg info{};
  info.ifi_family = AF_UNSPEC;
  info.ifi_index = ifindex;
  info.ifi_flags = IFF_UP;
  info.ifi_change = IFF_UP;
  if (nlmsg_append(msg.get(), &info, sizeof(info), NLMSG_ALIGNTO) < 0)
    return sys::Error(EMSGSIZE, "build link request");
  return msg;
}

// RTM_SETLINK of the bridge port `ifindex`: hairpin mode on. Without it the
// bridge never sends a frame back out of the port it came in on, so a
// container could not reach its own published port through the node's
// address (DNAT turns the reply path into a U-turn on the same port).
sys::Result<MsgPtr> hairpinRequest(int ifindex) {
  MsgPtr msg(nlmsg_alloc_simple(RTM_SETLINK, NLM_F_ACK));
  if (!msg) return sys::Error(ENOMEM, "allocate message");
  ifinfomsg info{};
  info.ifi_family = AF_BRIDGE;
  info.ifi_index = ifindex;
  if (nlmsg_append(msg.get(), &info, sizeof(info), NLMSG_ALIGNTO) < 0)
    return sys::Error(EMSGSIZE, "build hairpin request");
  nlattr* protinfo = nla_nest_start(msg.get(), IFLA_PROTINFO | NLA_F_NESTED);
  if (protinfo == nullptr || nla_put_u8(msg.get(), IFLA_BRPORT_MODE, 1) < 0)
    return sys::Error(EMSGSIZE, "build hairpin request");
  nla_nest_end(msg.get(), protinfo);
  return msg;
}

sys::Result<void> enableHairpin(Socket& node, const std::string& port) {
  LinkPtr link = BERTH_TRY(findLink(node, port.c_str()));
  if (!link) return sys::Error(ENODEV, "find bridge port " + port);
  MsgPtr msg = BERTH_TRY(hairpinRequest(rtnl_link_get_ifindex(link.get())));
  int err = nl_send_auto(node.get(), msg.get());
  if (err >= 0) err = nl_wait_for_ack(node.get());
  if (err < 0) return nlError(err, "enable hairpin on " + port);
  return sys::ok();
}

sys::Result<MsgPtr> addressRequest(int ifindex, nl_addr* local) {
  RtnlAddrPtr addr(rtnl_addr_alloc());
  if (!addr) return sys::Error(ENOMEM, "allocate address");
  rtnl_addr_set_ifindex(addr.get(), ifindex);
  rtnl_addr_set_family(addr.get(), AF_INET);
  nl_msg* raw = nullptr;
  int err = rtnl_addr_set_local(addr.get(), local);
  if (err == 0) rtnl_addr_set_prefixlen(addr.get(), nl_addr_get_prefixlen(local));
  if (err == 0) err = rtnl_addr_build_add_request(addr.get(), NLM_F_CREATE | NLM_F_EXCL, &raw);
  if (err < 0) return nlError(err, "build address request");
  return MsgPtr(raw);
}

sys::Result<MsgPtr> defaultRouteRequest(int ifindex, nl_addr* gateway) {
  RoutePtr route(rtnl_route_alloc());
  std::array<unsigned char, 4> any{};
  AddrPtr dst(nl_addr_build(AF_INET, any.data(), any.size()));
  rtnl_nexthop* hop = rtnl_route_nh_alloc();
  if (!route || !dst || hop == nullptr) {
    if (hop != nullptr) rtnl_route_nh_free(hop);
    return sys::Error(ENOMEM, "allocate route");
  }
  nl_addr_set_prefixlen(dst.get(), 0);
  rtnl_route_nh_set_ifindex(hop, ifindex);
  rtnl_route_nh_set_gateway(hop, gateway);
  rtnl_route_add_nexthop(route.get(), hop);  // the route owns `hop` from here
  rtnl_route_set_family(route.get(), AF_INET);
  rtnl_route_set_table(route.get(), RT_TABLE_MAIN);
  rtnl_route_set_scope(route.get(), RT_SCOPE_UNIVERSE);
  rtnl_route_set_protocol(route.get(), RTPROT_STATIC);
  rtnl_route_set_type(route.get(), RTN_UNICAST);
  nl_msg* raw = nullptr;
  int err = rtnl_route_set_dst(route.get(), dst.get());
  if (err == 0) err = rtnl_route_build_add_request(route.get(), NLM_F_CREATE | NLM_F_EXCL, &raw);
  if (err < 0) return nlError(err, "build route request");
  return MsgPtr(raw);
}

// Inside the container: the four requests are sent back to back and their
// acknowledgements collected afterwards (the kernel handles a socket's
// requests in order, so the route sees eth0 up with its address).
sys::Result<void> configureInside(Socket& sock, const Attachment& attachment, nl_addr* address,
                                  nl_addr* gateway) {
  LinkPtr eth0 = BERTH_TRY(findLink(sock, kContainerIfName));
  if (!eth0) return sys::Error(ENODEV, "find eth0 in the container");
  int ifindex = rtnl_link_get_ifindex(eth0.get());
  struct Step {
    std::string what;
    MsgPtr msg;
  };
  std::array<Step, 4> steps{{
      {"set eth0 up", BERTH_TRY(linkUpRequest(ifindex))},
      {"add address " + attachment.address + " to eth0",
       BERTH_TRY(addressRequest(ifindex, address))},
      {"set lo up", BERTH_TRY(linkUpRequest(kLoopbackIndex))},
      {"add default route via " + attachment.gateway,
       BERTH_TRY(defaultRouteRequest(ifindex, gateway))},
  }};
  for (Step& step : steps) {
    int err = nl_send_auto(sock.get(), step.msg.get());
    if (err < 0) return nlError(err, step.what);
  }
  for (Step& step : steps) {
    int err = nl_wait_for_ack(sock.get());
    if (err < 0) return nlError(err, step.what);
  }
  return sys::ok();
}

}  // namespace

sys::Result<void> attachContainer(Socket& node, const Bridge& bridge, int containerNetnsFd,
                                  const Attachment& attachment) {
  std::string what = "attach " + attachment.hostName + " to bridge " + bridge.name;
  // Prepare: everything that can fail without side effects comes first.
  AddrPtr address = BERTH_TRY_CTX(parseIpv4(attachment.address, true), what);
  AddrPtr gateway = BERTH_TRY_CTX(parseIpv4(attachment.gateway, false), what);
  BERTH_TRY_CTX(checkIfName(attachment.hostName), what);
  Socket inside = BERTH_TRY_CTX(Socket::openInNetns(containerNetnsFd), what);

  VethSpec spec{attachment.hostName, kContainerIfName, attachment.mtu, bridge.ifindex,
                containerNetnsFd};
  BERTH_TRY_CTX(createVethPair(node, spec), what);
  sys::Result<void> configured = enableHairpin(node, attachment.hostName);
  if (configured) configured = configureInside(inside, attachment, address.get(), gateway.get());
  if (!configured) {
    // Undo: the container must not keep a half-configured eth0. The delete
    // error, if any, is secondary to the one being reported.
    (void)deleteLink(node, attachment.hostName);
    return std::move(configured).error().context(what);
  }
  return sys::ok();
}

sys::Result<void> detachContainer(Socket& node, std::string_view hostName) {
  return deleteLink(node, hostName).context("detach " + std::string(hostName));
}

sys::Result<unsigned> uplinkMtu(Socket& node) {
  nl_cache* raw = nullptr;
  int err = rtnl_route_alloc_cache(node.get(), AF_INET, 0, &raw);
  if (err < 0) return nlError(err, "list routes for the uplink MTU");
  CachePtr routes(raw);
  int ifindex = 0;
  for (nl_object* obj = nl_cache_get_first(routes.get()); obj != nullptr && ifindex == 0;
       obj = nl_cache_get_next(obj)) {
    auto* route = reinterpret_cast<rtnl_route*>(obj);
    nl_addr* dst = rtnl_route_get_dst(route);
    if (rtnl_route_get_table(route) != RT_TABLE_MAIN || rtnl_route_get_type(route) != RTN_UNICAST ||
        (dst != nullptr && nl_addr_get_prefixlen(dst) != 0) || rtnl_route_get_nnexthops(route) < 1)
      continue;
    ifindex = rtnl_route_nh_get_ifindex(rtnl_route_nexthop_n(route, 0));
  }
  if (ifindex == 0) return kFallbackMtu;
  rtnl_link* link = nullptr;
  err = rtnl_link_get_kernel(node.get(), ifindex, nullptr, &link);
  if (err < 0) return nlError(err, "look up the default route's link " + std::to_string(ifindex));
  LinkPtr owned(link);
  return rtnl_link_get_mtu(owned.get());
}

}  // namespace berth::net::netlink
