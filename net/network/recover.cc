// ProjectNetworks::recover (see network.h): after a berthd restart the
// kernel still has the bridges, veths, pinned namespaces and rules, but the
// DNS zones lived in the old process. The persisted state says what should
// exist; the engine says which containers still run. Attachments of stopped
// containers are cleaned up (their leases kept for a restart), running ones
// get their names back (and their veth, if the bridge was lost), and the
// rules are reconciled in one transaction: no duplicates, no leftovers.
#include <fcntl.h>

#include <map>

#include "net/netlink/naming.h"
#include "net/network/kernel.h"
#include "net/network/network.h"
#include "runtime/sys/fd.h"
#include "runtime/sys/fs.h"

namespace berth::net::network {
namespace {

void keepFirst(sys::Result<void>& first, sys::Result<void> next) {
  if (first && !next) first = std::move(next);
}

}  // namespace

sys::Result<void> ProjectNetworks::recoverRecordLocked(const Record& record) {
  const std::string& id = record.request.containerId;
  Project& project = projects_.at(record.request.network);
  std::string veth = netlink::vethHostName(id);
  if (!linkExists(veth)) {
    // The bridge was recreated (and took the veth with it) while the
    // container kept running: plug its pinned namespace in again.
    sys::UniqueFd netns(::open(record.netnsPath.c_str(), O_RDONLY | O_CLOEXEC));
    if (!netns) return sys::Error::fromErrno("open " + record.netnsPath);
    netlink::Attachment link{veth,
                             record.address + "/" + std::to_string(project.subnet.prefixLength()),
                             project.gateway.str(), project.bridge.mtu};
    BERTH_TRY(netlink::attachContainer(node_, project.bridge, netns.get(), link));
  }
  return setNamesLocked(record);
}

sys::Result<void> ProjectNetworks::recover(const std::vector<AttachRequest>& running) {
  std::lock_guard lock(mutex_);
  sys::Result<void> result;
  std::map<std::string, const AttachRequest*> alive;
  for (const AttachRequest& request : running) alive[request.containerId] = &request;

  // Attachments of containers that stopped while berthd was away.
  for (auto it = records_.begin(); it != records_.end();) {
    if (alive.count(it->first) != 0) {
      ++it;
      continue;
    }
    keepFirst(result, unplugLocked(it->first, it->second));
    it = records_.erase(it);
  }
  // Running containers: the engine's request is authoritative for names and
  // ports; one that berthd crashed before recording is adopted when its
  // lease and pinned namespace exist.
  for (const auto& [id, request] : alive) {
    auto it = records_.find(id);
    if (it != records_.end()) {
      if (it->second.request.network == request->network) it->second.request = *request;
      continue;
    }
    auto lease = store_.lookup(request->network, id);
    if (lease && *lease && sys::pathExists(netnsPath(id))) {
      records_[id] = Record{*request, (*lease)->str(), netnsPath(id)};
    }
  }
  keepFirst(result, saveRecords());

  auto networks = store_.networks();
  if (!networks) return std::move(networks).error().context("recover networks");
  std::vector<nft::ProjectRules> desired;
  for (const ipam::NetworkInfo& network : *networks) {
    auto project = ensureLocked(network.name, false);
    if (!project) {
      keepFirst(result, std::move(project).error().context("recover network " + network.name));
      continue;
    }
    desired.push_back(rulesLocked(network.name));
  }
  for (const auto& [id, record] : records_) {
    if (projects_.count(record.request.network) == 0) continue;
    keepFirst(result, recoverRecordLocked(record).context("recover container " + id));
  }
  keepFirst(result, firewall_.reconcile(desired).context("recover rules"));
  return result;
}

}  // namespace berth::net::network
