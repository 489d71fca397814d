// The name table of one project; see zone.h.
#include "net/dns/zone.h"

#include <algorithm>
#include <cstring>
#include <mutex>

namespace berth::net::dns {

sys::Result<std::string> normalizeHostName(std::string_view name) {
  if (name.ends_with('.')) name.remove_suffix(1);
  if (name.empty() || name.size() > 253) {
    return sys::Error::invalid("invalid DNS name \"" + std::string(name) +
                               "\": length must be 1-253");
  }
  std::string out;
  out.reserve(name.size());
  size_t label = 0;
  for (char c : name) {
    if (c == '.') {
      if (label == 0)
        return sys::Error::invalid("invalid DNS name \"" + std::string(name) + "\": empty label");
      label = 0;
      out.push_back(c);
      continue;
    }
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if (!ok) {
      return sys::Error::invalid("invalid DNS name \"" + std::string(name) + "\": character '" +
                                 std::string(1, c) + "' not allowed");
    }
    if (++label > 63) {
      return sys::Error::invalid("invalid DNS name \"" + std::string(name) +
                                 "\": label longer than 63");
    }
    out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  if (label == 0)
    return sys::Error::invalid("invalid DNS name \"" + std::string(name) + "\": empty label");
  return out;
}

size_t Zone::IpHash::operator()(const IpAddress& ip) const {
  uint64_t a = 0, b = 0;
  std::memcpy(&a, ip.bytes.data(), 8);
  std::memcpy(&b, ip.bytes.data() + 8, 8);
  return std::hash<uint64_t>()(a * 31 + b) ^ static_cast<size_t>(ip.family);
}

Zone::Zone(std::string project) {
  auto normalized = normalizeHostName(project);
  project_ = normalized ? std::move(*normalized) : std::move(project);
}

sys::Result<void> Zone::setHost(std::string_view id, std::span<const std::string> names,
                                std::span<const IpAddress> addresses) {
  // Everything is validated and built before the lock: a bad name changes
  // nothing, and lookups wait only for the pointer swaps.
  Host host;
  for (const std::string& raw : names) {
    std::string name = BERTH_TRY_CTX(normalizeHostName(raw),
                                     "add host " + std::string(id) + " to zone " + project_);
    std::string qualified = name + "." + project_;
    if (qualified.size() > 253) {
      return sys::Error::invalid("add host " + std::string(id) + " to zone " + project_ +
                                 ": name " + qualified + " is longer than 253");
    }
    if (host.ptr_target.empty()) host.ptr_target = qualified;
    for (std::string* key : {&name, &qualified}) {
      if (std::find(host.keys.begin(), host.keys.end(), *key) == host.keys.end())
        host.keys.push_back(*key);
    }
  }
  for (const IpAddress& ip : addresses) {
    if (std::find(host.addresses.begin(), host.addresses.end(), ip) == host.addresses.end()) {
      host.addresses.push_back(ip);
    }
  }
  std::unique_lock lock(mutex_);
  auto it = hosts_.find(std::string(id));
  if (it != hosts_.end()) {
    unlinkLocked(it->second);
    it->second = std::move(host);
  } else {
    it = hosts_.emplace(std::string(id), std::move(host)).first;
  }
  linkLocked(it->second);
  return sys::ok();
}

bool Zone::removeHost(std::string_view id) {
  std::unique_lock lock(mutex_);
  auto it = hosts_.find(std::string(id));
  if (it == hosts_.end()) return false;
  unlinkLocked(it->second);
  hosts_.erase(it);
  return true;
}

size_t Zone::hostCount() const {
  std::shared_lock lock(mutex_);
  return hosts_.size();
}

void Zone::linkLocked(const Host& host) {
  for (const std::string& key : host.keys) names_[key].push_back(&host);
  for (const IpAddress& ip : host.addresses) reverse_[ip].push_back(&host);
}

void Zone::unlinkLocked(const Host& host) {
  auto drop = [&host](auto& map, const auto& key) {
    auto it = map.find(key);
    if (it == map.end()) return;
    std::erase(it->second, &host);
    if (it->second.empty()) map.erase(it);
  };
  for (const std::string& key : host.keys) drop(names_, key);
  for (const IpAddress& ip : host.addresses) drop(reverse_, ip);
}

bool Zone::underProject(std::string_view name) const {
  if (name == project_) return true;
  return name.size() > project_.size() && name.ends_with(project_) &&
         name[name.size() - project_.size() - 1] == '.';
}

LookupStatus Zone::lookup(std::string_view name, uint16_t qtype, std::vector<Record>& out) const {
  if (auto ip = parseReverseName(name)) {
    std::shared_lock lock(mutex_);
    auto it = reverse_.find(*ip);
    if (it == reverse_.end()) return LookupStatus::kNotOurs;
    if (qtype == rtype::kPtr || qtype == rtype::kAny) {
      for (const Host* host : it->second) out.push_back(Record{rtype::kPtr, {}, host->ptr_target});
    }
    return LookupStatus::kFound;
  }
  std::shared_lock lock(mutex_);
  auto it = names_.find(name);
  if (it == names_.end()) {
    if (name == project_) return LookupStatus::kFound;  // the apex exists, holds no records
    return underProject(name) ? LookupStatus::kNoName : LookupStatus::kNotOurs;
  }
  bool want_v4 = qtype == rtype::kA || qtype == rtype::kAny;
  bool want_v6 = qtype == rtype::kAaaa || qtype == rtype::kAny;
  for (const Host* host : it->second) {
    for (const IpAddress& ip : host->addresses) {
      if (ip.family == AF_INET ? want_v4 : want_v6) {
        out.push_back(Record{ip.family == AF_INET ? rtype::kA : rtype::kAaaa, ip, {}});
      }
    }
  }
  return LookupStatus::kFound;
}

}  // namespace berth::net::dns
