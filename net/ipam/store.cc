// Persistent, lock-protected IPAM state; see store.h.
#include "net/ipam/store.h"

#include <fcntl.h>
#include <sys/file.h>

#include <cerrno>
#include <nlohmann/json.hpp>

#include "runtime/sys/fd.h"
#include "runtime/sys/fs.h"

namespace berth::net::ipam {
namespace {

constexpr int kStateVersion = 1;

using Json = nlohmann::json;
using State = std::map<std::string, Leases, std::less<>>;

std::string parentDir(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// Holds an flock on "<state>.lock" for its lifetime. Each holder opens its
// own descriptor: flock belongs to the open file description, so two threads
// of one process exclude each other just as two processes do.
sys::Result<sys::UniqueFd> lockState(const std::string& statePath, int operation) {
  std::string lockPath = statePath + ".lock";
  BERTH_TRY_CTX(sys::mkdirAll(parentDir(statePath), 0700), "create the directory of " + statePath);
  sys::UniqueFd fd(::open(lockPath.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd) return sys::Error::fromErrno("open " + lockPath);
  while (::flock(fd.get(), operation) < 0) {
    if (errno != EINTR) return sys::Error::fromErrno("lock " + lockPath);
  }
  return fd;
}

// A JSON string member as a string, or an error saying what is wrong.
sys::Result<std::string> stringField(const Json& object, const char* key,
                                     const std::string& where) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) {
    return sys::Error::invalid(where + ": \"" + key + "\" must be a string");
  }
  return it->get<std::string>();
}

sys::Result<Leases> parseNetwork(const Json& entry, const std::string& where) {
  if (!entry.is_object()) return sys::Error::invalid(where + ": must be an object");
  std::string cidr = BERTH_TRY(stringField(entry, "subnet", where));
  Subnet subnet = BERTH_TRY_CTX(Subnet::parse(cidr), where);
  Leases leases = BERTH_TRY_CTX(Leases::make(subnet), where);
  if (entry.contains("last")) {
    std::string last = BERTH_TRY(stringField(entry, "last", where));
    leases.restoreLast(BERTH_TRY_CTX(Ipv4Address::parse(last), where + ": last"));
  }
  auto list = entry.find("leases");
  if (list == entry.end()) return leases;
  if (!list->is_object()) return sys::Error::invalid(where + ": \"leases\" must be an object");
  for (const auto& [containerId, address] : list->items()) {
    if (!address.is_string()) {
      return sys::Error::invalid(where + ": lease of " + containerId + " must be a string");
    }
    Ipv4Address parsed = BERTH_TRY_CTX(Ipv4Address::parse(address.get<std::string>()), where);
    BERTH_TRY_CTX(leases.restore(containerId, parsed), where);
  }
  return leases;
}

NetworkInfo infoOf(const std::string& name, const Leases& leases) {
  return NetworkInfo{name, leases.subnet(), leases.gateway(), leases.byContainer()};
}

}  // namespace

sys::Result<State> parseIpamState(std::string_view text, const std::string& path) {
  const std::string where = "corrupt IPAM state file " + path;
  Json root = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded() || !root.is_object())
    return sys::Error::invalid(where + ": not a JSON object");
  auto version = root.find("version");
  if (version == root.end() || !version->is_number_integer() ||
      version->get<int64_t>() != kStateVersion) {
    return sys::Error::invalid(where + ": unknown \"version\" (expected " +
                               std::to_string(kStateVersion) + ")");
  }
  auto networks = root.find("networks");
  if (networks == root.end() || !networks->is_object()) {
    return sys::Error::invalid(where + ": \"networks\" must be an object");
  }
  State state;
  for (const auto& [name, entry] : networks->items()) {
    BERTH_TRY_CTX(checkName("network name", name), where);
    Leases leases = BERTH_TRY(parseNetwork(entry, where + ": network " + name));
    for (const auto& [otherName, other] : state) {
      if (other.subnet().overlaps(leases.subnet())) {
        return sys::Error::invalid(where + ": networks " + otherName + " (" + other.subnet().str() +
                                   ") and " + name + " (" + leases.subnet().str() + ") overlap");
      }
    }
    state.emplace(name, std::move(leases));
  }
  return state;
}

std::string formatIpamState(const State& state) {
  Json networks = Json::object();
  for (const auto& [name, leases] : state) {
    Json list = Json::object();
    for (const auto& [containerId, address] : leases.byContainer())
      list[containerId] = address.str();
    networks[name] =
        Json{{"subnet", leases.subnet().str()}, {"last", leases.last().str()}, {"leases", list}};
  }
  Json root{{"version", kStateVersion}, {"networks", networks}};
  return root.dump(1) + "\n";
}

sys::Result<IpamStore> IpamStore::open(std::string stateFile, SubnetPool pool) {
  if (stateFile.empty()) return sys::Error::invalid("open IPAM state: empty path");
  return IpamStore(std::move(stateFile), pool);
}

sys::Result<IpamStore::State> IpamStore::read() const {
  if (!sys::pathExists(path_)) return State{};
  std::string text = BERTH_TRY(sys::readFile(path_));
  return parseIpamState(text, path_);
}

template <class T, class Change>
sys::Result<T> IpamStore::update(Change&& change) {
  sys::UniqueFd lock = BERTH_TRY(lockState(path_, LOCK_EX));
  State state = BERTH_TRY(read());
  // Compared with the canonical form of what was read, so an operation that
  // changes nothing (a lookup-like allocate, releasing an unknown id) costs no fsync.
  std::string before = formatIpamState(state);
  sys::Result<T> result = change(state);
  if (!result) return result;
  std::string after = formatIpamState(state);
  if (after != before) BERTH_TRY_CTX(sys::writeFileAtomic(path_, after, 0644), "save IPAM state");
  return result;
}

sys::Result<Subnet> IpamStore::ensureNetwork(std::string_view network, int prefixLength) {
  BERTH_TRY_CTX(checkName("network name", network), "create network");
  std::string what = "create network " + std::string(network);
  SubnetPool pool = prefixLength == 0
                        ? pool_
                        : BERTH_TRY_CTX(SubnetPool::make(pool_.pool(), prefixLength), what);
  return update<Subnet>([&](State& state) -> sys::Result<Subnet> {
    if (auto it = state.find(network); it != state.end()) return it->second.subnet();
    std::vector<Subnet> taken;
    for (const auto& [name, leases] : state) taken.push_back(leases.subnet());
    Subnet subnet = BERTH_TRY_CTX(pool.carve(taken), what);
    state.emplace(std::string(network), BERTH_TRY(Leases::make(subnet)));
    return subnet;
  });
}

sys::Result<bool> IpamStore::removeNetwork(std::string_view network) {
  return update<bool>([&](State& state) -> sys::Result<bool> {
    auto it = state.find(network);
    if (it == state.end()) return false;
    state.erase(it);
    return true;
  });
}

sys::Result<Ipv4Address> IpamStore::allocate(std::string_view network, std::string_view containerId,
                                             std::optional<Ipv4Address> preferred) {
  return update<Ipv4Address>([&](State& state) -> sys::Result<Ipv4Address> {
    auto it = state.find(network);
    if (it == state.end()) {
      return sys::Error::invalid("lease an address on network " + std::string(network) +
                                 ": no such network");
    }
    return it->second.allocate(containerId, preferred);
  });
}

sys::Result<bool> IpamStore::release(std::string_view network, std::string_view containerId) {
  return update<bool>([&](State& state) -> sys::Result<bool> {
    auto it = state.find(network);
    return it != state.end() && it->second.release(containerId);
  });
}

sys::Result<std::optional<Ipv4Address>> IpamStore::lookup(std::string_view network,
                                                          std::string_view containerId) const {
  std::optional<NetworkInfo> info = BERTH_TRY(this->network(network));
  if (!info) return std::optional<Ipv4Address>();
  auto it = info->leases.find(containerId);
  if (it == info->leases.end()) return std::optional<Ipv4Address>();
  return std::optional<Ipv4Address>(it->second);
}

sys::Result<std::optional<NetworkInfo>> IpamStore::network(std::string_view network) const {
  // Shared lock: not needed for a consistent view (the file is replaced by
  // rename), but it orders a reader after a writer that already holds the lock.
  sys::UniqueFd lock = BERTH_TRY(lockState(path_, LOCK_SH));
  State state = BERTH_TRY(read());
  auto it = state.find(network);
  if (it == state.end()) return std::optional<NetworkInfo>();
  return std::optional<NetworkInfo>(infoOf(it->first, it->second));
}

sys::Result<std::vector<NetworkInfo>> IpamStore::networks() const {
  sys::UniqueFd lock = BERTH_TRY(lockState(path_, LOCK_SH));
  State state = BERTH_TRY(read());
  std::vector<NetworkInfo> out;
  for (const auto& [name, leases] : state) out.push_back(infoOf(name, leases));
  return out;
}

}  // namespace berth::net::ipam
