// ProjectNetworks: the project-network service berthd uses. It ties the net/
// libraries together: IpamStore decides subnets and addresses, netlink builds
// a bridge per project and a veth per container, nft applies the project's
// masquerade/isolation/published-port rules, and the embedded DNS server
// answers the project's container names on the gateway (port 53) while it
// forwards every other name to the node's resolvers.
//
// Everything acts in the network namespace of the thread that called open()
// (the node's); the object serializes its calls with one mutex, so berthd may
// call it from any thread. What must survive a berthd restart is persisted
// under <dataRoot>/networks/: ipam.json (subnets and leases, IpamStore) and
// attachments.json (which container is attached where, with its names and
// published ports). Kernel state (bridges, veths, rules, pinned netns) is
// left in place when the object is destroyed; recover() rebuilds the rest
// (DNS zones, rules without duplicates) after a restart.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "net/dns/server.h"
#include "net/dns/zone.h"
#include "net/ipam/store.h"
#include "net/netlink/links.h"
#include "net/netlink/socket.h"
#include "net/network/files.h"
#include "net/network/link_reaper.h"
#include "net/network/state.h"
#include "net/network/types.h"
#include "net/nft/firewall.h"
#include "runtime/sys/result.h"

namespace berth::net::network {

class ProjectNetworks {
 public:
  [[nodiscard]] static sys::Result<std::unique_ptr<ProjectNetworks>> open(NetworkOptions options);
  ~ProjectNetworks();
  ProjectNetworks(const ProjectNetworks&) = delete;
  ProjectNetworks& operator=(const ProjectNetworks&) = delete;

  // Creates the project's network on first use (subnet, bridge with the
  // gateway, rules, DNS zone on gateway:53); brings an existing one to the
  // same state. Idempotent.
  [[nodiscard]] sys::Result<NetworkInfo> ensure(const std::string& name);
  // Attaches a container (ensuring its network): a fresh netns pinned at
  // <runRoot>/netns/<id>, an address (the same id keeps its lease), veth +
  // eth0 + default route, hairpin, published ports, and its DNS names, all
  // in place before this returns. Attaching an attached id re-attaches it.
  [[nodiscard]] sys::Result<Attachment> attach(const AttachRequest& request);
  // The container stopped: names gone at once, veth deleted, netns mount
  // removed, published ports dropped; the lease is kept unless `release`.
  // Unknown ids succeed (a lease they still hold is released if asked).
  [[nodiscard]] sys::Result<void> detach(const std::string& containerId, bool release);
  // Deletes bridge, rules, zone and subnet; refused while containers are
  // attached (the error names them). Unknown networks succeed.
  [[nodiscard]] sys::Result<void> remove(const std::string& name);
  std::vector<NetworkInfo> list();
  std::optional<NetworkInfo> inspect(const std::string& name);
  // After a berthd restart: bridges, DNS zones and rules rebuilt from the
  // persisted state; attachments not in `running` are detached (lease kept),
  // those in it get their names and ports back (and their veth if it is gone).
  [[nodiscard]] sys::Result<void> recover(const std::vector<AttachRequest>& running);
  // Returns once the links that detach() and remove() left to delete in the
  // background (see link_reaper.h) are gone, and removed networks with them.
  void settle() { reaper_->settle(); }

 private:
  struct Project {
    ipam::Subnet subnet;
    ipam::Ipv4Address gateway;
    netlink::Bridge bridge;
    std::shared_ptr<dns::Zone> zone;
    bool served = false;  // zone added to the DNS server
  };
  using Record = AttachmentRecord;

  ProjectNetworks(NetworkOptions options, ipam::IpamStore store, netlink::Socket node,
                  nft::Firewall firewall, std::unique_ptr<dns::Server> dns,
                  std::unique_ptr<LinkReaper> reaper);
  bool removingLocked(const std::string& name) const;
  sys::Result<Project*> ensureLocked(const std::string& name, bool applyRules, int prefix = 0);
  sys::Result<void> plugLocked(Project& project, const Record& record);
  sys::Result<void> recoverRecordLocked(const Record& record);
  sys::Result<void> applyRulesLocked(const std::string& name);
  nft::ProjectRules rulesLocked(const std::string& name) const;
  sys::Result<void> setNamesLocked(const Record& record);
  sys::Result<void> unplugLocked(const std::string& containerId, const Record& record);
  sys::Result<void> loadRecords();
  sys::Result<void> saveRecords() const;
  std::string netnsPath(const std::string& containerId) const;
  NetworkInfo infoLocked(const std::string& name, const ipam::Subnet& subnet,
                         ipam::Ipv4Address gateway) const;

  NetworkOptions options_;
  ipam::IpamStore store_;
  netlink::Socket node_;
  nft::Firewall firewall_;
  std::unique_ptr<dns::Server> dns_;
  std::mutex mutex_;
  std::map<std::string, Project> projects_;  // networks brought up by this object
  std::map<std::string, Record> records_;    // container id -> attachment
  // Last, so it is destroyed first: its pending jobs still use store_.
  std::unique_ptr<LinkReaper> reaper_;
};

}  // namespace berth::net::network
