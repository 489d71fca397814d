// IpamStore: the persistent address plan of one data root — which subnet
// each project network has and which container holds which address — in one
// JSON state file (e.g. <root>/networks/ipam.json). Every operation is a
// read-modify-write under an exclusive flock, and the file is replaced with
// sys::writeFileAtomic, so two berthd processes on one root, or a crash at
// any point, can neither lose a lease nor hand an address out twice. A
// corrupt file is an error naming it; it is never silently reset, since
// that would give live containers' addresses to new ones.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/ipam/leases.h"
#include "net/ipam/subnet.h"
#include "net/ipam/subnet_pool.h"
#include "runtime/sys/result.h"

namespace berth::net::ipam {

// One project network as saved.
struct NetworkInfo {
  std::string name;
  Subnet subnet;
  Ipv4Address gateway;
  std::map<std::string, Ipv4Address, std::less<>> leases;  // container id -> address
};

class IpamStore {
 public:
  // The store whose state lives in `stateFile` (created with its directory
  // on first write); new networks are carved from `pool`. The lock is the
  // separate file "<stateFile>.lock": the state file itself is replaced by
  // rename, and a lock on the replaced inode would protect nothing.
  static sys::Result<IpamStore> open(std::string stateFile,
                                     SubnetPool pool = SubnetPool::defaults());

  const std::string& path() const { return path_; }

  // The subnet of `network`, carved from the pool on first use: of the
  // pool's prefix length, or of `prefixLength` when it is not 0 (a
  // container's private network needs a /30, not a project's /23).
  sys::Result<Subnet> ensureNetwork(std::string_view network, int prefixLength = 0);
  // Forgets the network and all its leases; false if it did not exist.
  sys::Result<bool> removeNetwork(std::string_view network);
  // Leases an address on an existing network (see Leases::allocate for the
  // rules on recreated containers and `preferred`).
  sys::Result<Ipv4Address> allocate(std::string_view network, std::string_view containerId,
                                    std::optional<Ipv4Address> preferred = {});
  // Frees the container's address; false if it held none (or no such network).
  sys::Result<bool> release(std::string_view network, std::string_view containerId);
  sys::Result<std::optional<Ipv4Address>> lookup(std::string_view network,
                                                 std::string_view containerId) const;
  sys::Result<std::optional<NetworkInfo>> network(std::string_view network) const;
  sys::Result<std::vector<NetworkInfo>> networks() const;

 private:
  using State = std::map<std::string, Leases, std::less<>>;

  IpamStore(std::string path, SubnetPool pool) : path_(std::move(path)), pool_(pool) {}

  // Runs `change` on the current state under the exclusive lock and saves
  // the result if it differs from what was read.
  template <class T, class Change>
  sys::Result<T> update(Change&& change);
  sys::Result<State> read() const;

  std::string path_;
  SubnetPool pool_;
};

// The state file format, exposed for tests and tools. `path` only names
// the file in errors.
sys::Result<std::map<std::string, Leases, std::less<>>> parseIpamState(std::string_view text,
                                                                       const std::string& path);
std::string formatIpamState(const std::map<std::string, Leases, std::less<>>& state);

}  // namespace berth::net::ipam
