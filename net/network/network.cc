// ProjectNetworks (see network.h): the order of the steps is the contract.
// A container's names go into the zone last on attach and first on detach,
// so a name never answers with an address whose veth is not (or no longer)
// there; its record is saved before the kernel objects it describes are
// relied on, so recover() can always find and clean them.
#include "net/network/network.h"

#include <fcntl.h>

#include <algorithm>
#include <cstdio>
#include <set>
#include <utility>

#include "net/dns/resolver.h"
#include "net/netlink/naming.h"
#include "net/network/kernel.h"
#include "runtime/sys/fd.h"
#include "runtime/sys/fs.h"

namespace berth::net::network {
namespace {

constexpr uint16_t kDnsPort = 53;

dns::SocketAddress dnsListen(ipam::Ipv4Address gateway) {
  return dns::SocketAddress{*dns::IpAddress::parse(gateway.str()), kDnsPort};
}

std::vector<std::string> namesOf(const AttachRequest& request) {
  std::vector<std::string> names;
  if (!request.hostname.empty()) names.push_back(request.hostname);
  for (const std::string& alias : request.aliases) {
    if (std::find(names.begin(), names.end(), alias) == names.end()) names.push_back(alias);
  }
  return names;
}

// Keeps the first error of a cleanup that goes on after failures.
void keepFirst(sys::Result<void>& first, sys::Result<void> next) {
  if (first && !next) first = std::move(next);
}

}  // namespace

sys::Result<std::unique_ptr<ProjectNetworks>> ProjectNetworks::open(NetworkOptions options) {
  std::string stateDir = sys::joinPath(options.dataRoot, "networks");
  BERTH_TRY(sys::mkdirAll(stateDir, 0700));
  BERTH_TRY(sys::mkdirAll(sys::joinPath(options.runRoot, "netns")));
  ipam::Subnet poolNet = BERTH_TRY_CTX(ipam::Subnet::parse(options.pool), "network pool");
  ipam::SubnetPool pool = BERTH_TRY(ipam::SubnetPool::make(poolNet, options.prefix));
  ipam::IpamStore store = BERTH_TRY(ipam::IpamStore::open(sys::joinPath(stateDir, "ipam.json"), pool));
  netlink::Socket node = BERTH_TRY(netlink::Socket::open());
  nft::Firewall firewall = BERTH_TRY(nft::Firewall::open());
  BERTH_TRY(firewall.ensureTable());
  BERTH_TRY(enableIpv4Forwarding());
  dns::ServerOptions dnsOptions;
  // No resolv.conf means no forwarding (names outside projects get
  // SERVFAIL), not a node without project networks.
  if (auto text = sys::readFile(options.resolvConfPath)) {
    dnsOptions.upstreams = dns::parseResolvConf(*text);
  }
  std::unique_ptr<dns::Server> server = BERTH_TRY(dns::Server::start(std::move(dnsOptions)));
  std::unique_ptr<LinkReaper> reaper = BERTH_TRY(LinkReaper::open());
  std::unique_ptr<ProjectNetworks> networks(
      new ProjectNetworks(std::move(options), std::move(store), std::move(node),
                          std::move(firewall), std::move(server), std::move(reaper)));
  BERTH_TRY(networks->loadRecords());
  return networks;
}

ProjectNetworks::ProjectNetworks(NetworkOptions options, ipam::IpamStore store,
                                 netlink::Socket node, nft::Firewall firewall,
                                 std::unique_ptr<dns::Server> dns,
                                 std::unique_ptr<LinkReaper> reaper)
    : options_(std::move(options)),
      store_(std::move(store)),
      node_(std::move(node)),
      firewall_(std::move(firewall)),
      dns_(std::move(dns)),
      reaper_(std::move(reaper)) {}

// Kernel state stays: containers keep their network across a berthd restart.
ProjectNetworks::~ProjectNetworks() = default;

std::string ProjectNetworks::netnsPath(const std::string& containerId) const {
  return sys::joinPath(sys::joinPath(options_.runRoot, "netns"), containerId);
}

sys::Result<void> ProjectNetworks::loadRecords() {
  std::string path = sys::joinPath(options_.dataRoot, "networks/attachments.json");
  if (!sys::pathExists(path)) return sys::ok();
  std::string text = BERTH_TRY(sys::readFile(path));
  records_ = BERTH_TRY(parseAttachments(text, path));
  return sys::ok();
}

sys::Result<void> ProjectNetworks::saveRecords() const {
  std::string path = sys::joinPath(options_.dataRoot, "networks/attachments.json");
  return sys::writeFileAtomic(path, formatAttachments(records_), 0600);
}

nft::ProjectRules ProjectNetworks::rulesLocked(const std::string& name) const {
  const Project& project = projects_.at(name);
  nft::ProjectRules rules{name, project.bridge.name, project.subnet.str(),
                          project.gateway.str(), {}};
  for (const auto& [id, record] : records_) {
    if (record.request.network != name) continue;
    for (const PortMapping& port : record.request.publish) {
      rules.ports.push_back({port.hostPort, record.address, port.containerPort, port.proto});
    }
  }
  return rules;
}

sys::Result<void> ProjectNetworks::applyRulesLocked(const std::string& name) {
  // Before recover() a project may not be up in this object yet; recover
  // reconciles its rules then.
  if (projects_.count(name) == 0) return sys::ok();
  return firewall_.apply(rulesLocked(name)).context("rules of network " + name);
}

sys::Result<ProjectNetworks::Project*> ProjectNetworks::ensureLocked(const std::string& name,
                                                                     bool applyRules, int prefix) {
  BERTH_TRY_CTX(nft::validateProjectName(name), "network name");
  // Created again while its old bridge is still being deleted: wait for
  // that (and for its subnet to be given back) first.
  reaper_->flush(netlink::bridgeName(name));
  ipam::Subnet subnet = BERTH_TRY(store_.ensureNetwork(name, prefix));
  ipam::Ipv4Address gateway = BERTH_TRY(subnet.host(1));
  unsigned mtu = BERTH_TRY(netlink::uplinkMtu(node_));
  std::string cidr = gateway.str() + "/" + std::to_string(subnet.prefixLength());
  netlink::Bridge bridge =
      BERTH_TRY(netlink::ensureBridge(node_, netlink::bridgeName(name), mtu, cidr));
  BERTH_TRY(pinBridgeMac(bridge.name, name));
  auto it = projects_.find(name);
  if (it == projects_.end()) {
    it = projects_.emplace(name, Project{subnet, gateway, bridge,
                                         std::make_shared<dns::Zone>(name), false}).first;
  }
  Project& project = it->second;
  project.subnet = subnet;
  project.gateway = gateway;
  project.bridge = bridge;
  if (applyRules) BERTH_TRY(applyRulesLocked(name));
  if (!project.served) {
    BERTH_TRY_CTX(dns_->addZone(project.zone, dnsListen(gateway)), "DNS of network " + name);
    project.served = true;
  }
  return &project;
}

sys::Result<NetworkInfo> ProjectNetworks::ensure(const std::string& name) {
  std::lock_guard lock(mutex_);
  Project* project = BERTH_TRY_CTX(ensureLocked(name, true), "ensure network " + name);
  return infoLocked(name, project->subnet, project->gateway);
}

sys::Result<void> ProjectNetworks::setNamesLocked(const Record& record) {
  std::vector<std::string> names = namesOf(record.request);
  auto it = projects_.find(record.request.network);
  if (names.empty() || it == projects_.end()) return sys::ok();
  auto address = dns::IpAddress::parse(record.address);
  if (!address) return sys::Error::invalid("bad address " + record.address);
  std::vector<dns::IpAddress> addresses{*address};
  return it->second.zone->setHost(record.request.containerId, names, addresses);
}

sys::Result<void> ProjectNetworks::unplugLocked(const std::string& containerId,
                                                const Record& record) {
  // Names first: from here on nobody is told an address that is going away.
  auto it = projects_.find(record.request.network);
  if (it != projects_.end()) it->second.zone->removeHost(containerId);
  // The veth goes in the background (deleting its host end takes eth0
  // with it); the unpinned namespace goes when its last process does.
  reaper_->deleteLater(netlink::vethHostName(containerId));
  return unpinNetns(record.netnsPath);
}

sys::Result<Attachment> ProjectNetworks::attach(const AttachRequest& request) {
  std::lock_guard lock(mutex_);
  const std::string& id = request.containerId;
  std::string what = "attach " + id + " to network " + request.network;
  BERTH_TRY_CTX(ipam::checkName("container id", id), what);
  for (const std::string& name : namesOf(request)) {
    BERTH_TRY_CTX(dns::normalizeHostName(name), what);
  }
  Project* project = BERTH_TRY_CTX(ensureLocked(request.network, true, request.prefix), what);
  if (auto old = records_.find(id); old != records_.end()) {
    // Re-attached without a detach (e.g. after a crash): start clean.
    Record stale = old->second;
    records_.erase(old);
    BERTH_TRY_CTX(saveRecords(), what);
    BERTH_TRY_CTX(unplugLocked(id, stale), what);
    if (stale.request.network != request.network) {
      BERTH_TRY_CTX(store_.release(stale.request.network, id), what);
    }
    BERTH_TRY_CTX(applyRulesLocked(stale.request.network), what);
  }
  auto held = BERTH_TRY_CTX(store_.lookup(request.network, id), what);
  ipam::Ipv4Address address = BERTH_TRY_CTX(store_.allocate(request.network, id), what);
  Record record{request, address.str(), netnsPath(id)};
  sys::Result<void> plugged = plugLocked(*project, record);
  if (!plugged) {
    // Undo whatever part was done; the first error is the one reported.
    records_.erase(id);
    (void)saveRecords();
    (void)unplugLocked(id, record);
    (void)applyRulesLocked(request.network);
    if (!held) (void)store_.release(request.network, id);
    return std::move(plugged).error().context(what);
  }
  int prefix = project->subnet.prefixLength();
  std::string gateway = project->gateway.str();
  return Attachment{record.netnsPath,
                    record.address,
                    gateway,
                    prefix,
                    hostsText(record.address, request.network, request.hostname, request.aliases),
                    resolvConfText(gateway, request.network),
                    hostnameText(request.hostname)};
}

sys::Result<void> ProjectNetworks::plugLocked(Project& project, const Record& record) {
  const std::string& id = record.request.containerId;
  // Saved first: whatever exists of this attachment after a crash is found
  // (and removed or kept) by recover().
  records_[id] = record;
  BERTH_TRY(saveRecords());
  sys::UniqueFd netns = BERTH_TRY(netlink::newNetns());
  BERTH_TRY(pinNetns(netns.get(), record.netnsPath));
  std::string veth = netlink::vethHostName(id);
  reaper_->flush(veth);  // a veth of its previous run may still be going
  netlink::Attachment link{veth,
                           record.address + "/" + std::to_string(project.subnet.prefixLength()),
                           project.gateway.str(), project.bridge.mtu};
  BERTH_TRY(netlink::attachContainer(node_, project.bridge, netns.get(), link));
  if (!record.request.publish.empty()) BERTH_TRY(applyRulesLocked(record.request.network));
  // Last: the name answers only once the address is reachable.
  return setNamesLocked(record);
}

sys::Result<void> ProjectNetworks::detach(const std::string& containerId, bool release) {
  std::lock_guard lock(mutex_);
  std::string what = "detach " + containerId;
  sys::Result<void> result;
  std::string network;
  if (auto it = records_.find(containerId); it != records_.end()) {
    Record record = it->second;
    network = record.request.network;
    keepFirst(result, unplugLocked(containerId, record));
    records_.erase(containerId);
    keepFirst(result, saveRecords());
    if (!record.request.publish.empty()) keepFirst(result, applyRulesLocked(network));
  }
  if (release) {
    if (network.empty()) {
      // No attachment (already detached): find the network holding its lease.
      auto all = store_.networks();
      if (!all) return std::move(all).error().context(what);
      for (const ipam::NetworkInfo& info : *all) {
        if (info.leases.count(containerId) != 0) network = info.name;
      }
    }
    if (!network.empty()) {
      auto released = store_.release(network, containerId);
      if (!released) keepFirst(result, std::move(released).error());
    }
  }
  return std::move(result).context(what);
}

sys::Result<void> ProjectNetworks::remove(const std::string& name) {
  std::lock_guard lock(mutex_);
  std::string what = "remove network " + name;
  std::string attached;
  for (const auto& [id, record] : records_) {
    if (record.request.network == name) attached += (attached.empty() ? "" : ", ") + id;
  }
  if (!attached.empty()) {
    return sys::Error(EBUSY, what + ": containers still attached: " + attached);
  }
  if (auto it = projects_.find(name); it != projects_.end()) {
    if (it->second.served) dns_->removeZone(dnsListen(it->second.gateway));
    projects_.erase(it);
  }
  BERTH_TRY_CTX(firewall_.remove(name), what);
  // The bridge is deleted in the background; its subnet stays taken until
  // then, so no new network can get the same gateway address meanwhile.
  reaper_->deleteLater(netlink::bridgeName(name), [this, name] {
    if (auto removed = store_.removeNetwork(name); !removed) {
      std::fprintf(stderr, "berthd: remove network %s: %s\n", name.c_str(),
                   removed.error().str().c_str());
    }
  });
  return sys::ok();
}

bool ProjectNetworks::removingLocked(const std::string& name) const {
  return reaper_->pending(netlink::bridgeName(name));
}

NetworkInfo ProjectNetworks::infoLocked(const std::string& name, const ipam::Subnet& subnet,
                                        ipam::Ipv4Address gateway) const {
  NetworkInfo info{name, netlink::bridgeName(name), subnet.str(), gateway.str(),
                   subnet.prefixLength(), {}};
  for (const auto& [id, record] : records_) {
    if (record.request.network == name) info.containers.push_back(id);
  }
  return info;
}

std::vector<NetworkInfo> ProjectNetworks::list() {
  std::lock_guard lock(mutex_);
  std::vector<NetworkInfo> out;
  auto all = store_.networks();
  if (!all) return out;
  for (const ipam::NetworkInfo& network : *all) {
    if (removingLocked(network.name)) continue;
    out.push_back(infoLocked(network.name, network.subnet, network.gateway));
  }
  return out;
}

std::optional<NetworkInfo> ProjectNetworks::inspect(const std::string& name) {
  std::lock_guard lock(mutex_);
  auto network = store_.network(name);
  if (!network || !*network || removingLocked(name)) return std::nullopt;
  return infoLocked(name, (*network)->subnet, (*network)->gateway);
}

}  // namespace berth::net::network
