// Zone: the names of one project's containers, the table the DNS server
// answers from. Each container (keyed by an id the caller picks, e.g. the
// container name) has names (hostname first, then aliases) and addresses;
// every name resolves bare ("web") and qualified by the project ("web.shop"),
// case-insensitively, with or without trailing dot. Addresses resolve back
// (PTR) to the container's first name qualified by the project.
//
// Thread-safe: lookups take a shared lock, setHost/removeHost an exclusive
// one, so a lookup that starts after removeHost returns never sees the host.
#pragma once

#include <cstdint>
#include <functional>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "net/dns/address.h"
#include "net/dns/packet.h"
#include "runtime/sys/result.h"

namespace berth::net::dns {

enum class LookupStatus {
  kNotOurs,  // outside the zone: forward upstream
  kNoName,   // under the project's domain but unknown: NXDOMAIN
  kFound,    // the name exists; `out` holds the records of the asked type
             // (empty: NODATA)
};

class Zone {
 public:
  // `project` is the domain suffix (lower-cased, validated by setHost's rules).
  explicit Zone(std::string project);

  const std::string& project() const { return project_; }

  // Adds the host `id`, or replaces all its names and addresses at once.
  // Names are DNS labels or dotted names (letters, digits, '-', '_'; labels
  // of 1-63 bytes); invalid ones fail the whole call and change nothing.
  sys::Result<void> setHost(std::string_view id, std::span<const std::string> names,
                            std::span<const IpAddress> addresses);
  // Removes the host; false when there was none.
  bool removeHost(std::string_view id);
  size_t hostCount() const;

  // `name` as Query::name (lower case, no trailing dot). Appends the records
  // answering `qtype` (A, AAAA, PTR, ANY) to `out`.
  LookupStatus lookup(std::string_view name, uint16_t qtype, std::vector<Record>& out) const;

 private:
  struct Host {
    std::vector<std::string> keys;  // lookup keys: each name bare and qualified
    std::string ptr_target;         // first name qualified by the project
    std::vector<IpAddress> addresses;
  };
  struct IpHash {
    size_t operator()(const IpAddress& ip) const;
  };
  // Lets lookup() find a std::string_view key without building a string.
  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };

  void unlinkLocked(const Host& host);
  void linkLocked(const Host& host);
  bool underProject(std::string_view name) const;

  std::string project_;
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, Host> hosts_;
  // Pointers into hosts_ (node-based: stable until the host is erased).
  std::unordered_map<std::string, std::vector<const Host*>, NameHash, std::equal_to<>> names_;
  std::unordered_map<IpAddress, std::vector<const Host*>, IpHash> reverse_;
};

// Lower-cases `name`, strips one trailing dot and checks it is a valid host
// name (see Zone::setHost). Returns the normalized form or an error naming it.
sys::Result<std::string> normalizeHostName(std::string_view name);

}  // namespace berth::net::dns
