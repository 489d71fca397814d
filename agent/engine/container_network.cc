// A container on a project network (issue 5): attached through
// net::network::ProjectNetworks right before its shim starts, detached the
// moment its init exits (its DNS names must not outlive it), its lease
// released when it is removed.
//
// The attachment's netns is pinned at a path, so the bundle's config.json
// is patched at every start rather than at create: the network namespace
// path and the bind mounts of the /etc/hosts, /etc/resolv.conf and
// /etc/hostname that ProjectNetworks wrote for it (into <dir>/network/).
// A container that names no network gets one of its own (outbound NAT, DNS
// forwarding, published ports, isolated from every other container), as a
// Docker user expects of the default bridge without its cross-talk;
// `--network none` (or an engine without ProjectNetworks) keeps a private
// namespace with only loopback.
#include "agent/engine/container_network.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "agent/engine/container_engine.h"
#include "agent/engine/container_resources.h"
#include "agent/engine/spec_options.h"
#include "runtime/config/parse.h"
#include "runtime/config/serialize.h"
#include "runtime/sys/fs.h"

namespace berth::agent::engine {
namespace {

constexpr const char* kNetworkDir = "network";
constexpr const char* kAddressFile = "address";

std::string privateNetworkName(const std::string& id) {
  return "c-" + id.substr(0, 12);
}

bool isPrivateNetworkName(const std::string& name) {
  return name.size() == 14 && name.starts_with("c-") &&
         std::all_of(name.begin() + 2, name.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::optional<uint16_t> parsePort(std::string_view text) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535) {
    return std::nullopt;
  }
  return static_cast<uint16_t>(value);
}

// Writes the per-container files and points the bundle's config at them
// and at the attachment's network namespace.
sys::Result<void> patchBundle(const std::string& dir, const net::network::Attachment& attachment) {
  const std::string netDir = dir + "/" + kNetworkDir;
  BERTH_TRY(sys::mkdirAll(netDir, 0755));
  const std::pair<const char*, const std::string*> files[] = {
      {"hosts", &attachment.hosts},
      {"resolv.conf", &attachment.resolvConf},
      {"hostname", &attachment.hostname}};
  for (const auto& [name, text] : files) {
    BERTH_TRY(sys::writeFileReplace(netDir + "/" + name, *text));
  }
  BERTH_TRY(sys::writeFileReplace(netDir + "/" + kAddressFile, attachment.address));

  const std::string configPath = dir + "/bundle/config.json";
  std::string text = BERTH_TRY(sys::readFile(configPath));
  runtime::config::Spec spec = BERTH_TRY_CTX(runtime::config::parseSpec(text), configPath);
  if (!spec.linux) spec.linux.emplace();
  for (runtime::config::Namespace& ns : spec.linux->namespaces) {
    if (ns.type == "network") ns.path = attachment.netnsPath;
  }
  for (const auto& [name, text] : files) {
    (void)text;
    const std::string destination = std::string("/etc/") + name;
    std::erase_if(spec.mounts,
                  [&](const runtime::config::Mount& m) { return m.destination == destination; });
    // Writable, as Docker mounts them: some entrypoints append to /etc/hosts.
    spec.mounts.push_back(
        {destination, "bind", netDir + "/" + name, {"rbind", "rprivate", "nosuid", "nodev"}});
  }
  return sys::writeFileReplace(configPath, runtime::config::serializeSpec(spec));
}

}  // namespace

sys::Result<net::network::PortMapping> parsePublish(const std::string& text) {
  net::network::PortMapping mapping;
  std::string_view rest = text;
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    std::string_view proto = rest.substr(slash + 1);
    if (proto == "udp") {
      mapping.proto = net::nft::Proto::kUdp;
    } else if (proto != "tcp") {
      return sys::Error::invalid("published port \"" + text + "\": protocol must be tcp or udp");
    }
    rest = rest.substr(0, slash);
  }
  auto colon = rest.find(':');
  if (colon == std::string_view::npos) {
    return sys::Error::invalid("published port \"" + text + "\": expected HOST:CONTAINER[/proto]");
  }
  auto host = parsePort(rest.substr(0, colon));
  auto container = parsePort(rest.substr(colon + 1));
  if (!host || !container) {
    return sys::Error::invalid("published port \"" + text + "\": ports are 1-65535");
  }
  mapping.hostPort = *host;
  mapping.containerPort = *container;
  return mapping;
}

std::string networkOf(const ContainerRecord& record) {
  const pb::ContainerSpec& spec = record.spec;
  if (spec.networks_size() == 0) return privateNetworkName(record.id);
  return spec.networks(0) == "none" ? "" : spec.networks(0);
}

sys::Result<net::network::AttachRequest> attachRequestFor(const ContainerRecord& record) {
  net::network::AttachRequest request;
  const pb::ContainerSpec& spec = record.spec;
  request.network = networkOf(record);
  if (request.network.empty()) return request;
  if (spec.networks_size() == 0) request.prefix = kPrivateNetworkPrefix;
  request.containerId = record.id;
  request.hostname = spec.hostname().empty() ? record.name : spec.hostname();
  if (request.hostname != record.name) request.aliases.push_back(record.name);
  for (const std::string& alias : spec.aliases()) {
    if (alias != request.hostname &&
        std::find(request.aliases.begin(), request.aliases.end(), alias) == request.aliases.end()) {
      request.aliases.push_back(alias);
    }
  }
  for (const std::string& publish : spec.publish()) {
    request.publish.push_back(BERTH_TRY(parsePublish(publish)));
  }
  return request;
}

sys::Result<void> ContainerEngine::attachNetworkLocked(Entry& entry) {
  if (!options_.networks) return sys::ok();
  net::network::AttachRequest request = BERTH_TRY(attachRequestFor(entry.record));
  if (request.network.empty()) return sys::ok();
  auto attachment = options_.networks->attach(request);
  if (!attachment) return std::move(attachment).error();
  auto patched = patchBundle(options_.paths.containerDir(entry.record.id), *attachment);
  if (!patched) {
    detachNetwork(entry.record.id, /*release=*/false);
    return std::move(patched).error().context("network files of " + entry.record.name);
  }
  return sys::ok();
}

void ContainerEngine::detachNetwork(const std::string& id, bool release) {
  if (!options_.networks) return;
  (void)sys::removeAll(options_.paths.containerDir(id) + "/" + kNetworkDir + "/" + kAddressFile);
  if (auto detached = options_.networks->detach(id, release); !detached) {
    std::fprintf(stderr, "berthd: %s\n", detached.error().str().c_str());
  }
  if (!release) return;
  // A private network goes with its container. Asking is cheaper than
  // remembering: remove() of a network that does not exist succeeds.
  if (auto removed = options_.networks->remove(privateNetworkName(id)); !removed) {
    std::fprintf(stderr, "berthd: %s\n", removed.error().str().c_str());
  }
}

std::string ContainerEngine::networkAddress(const std::string& id) const {
  if (!options_.networks) return "";
  auto text =
      sys::readFile(options_.paths.containerDir(id) + "/" + kNetworkDir + "/" + kAddressFile);
  return text ? *text : "";
}

sys::Result<void> ContainerEngine::recoverNetworks() {
  if (!options_.networks) return sys::ok();
  std::vector<net::network::AttachRequest> running;
  std::lock_guard lock(mu_);
  for (const auto& [id, entry] : table_) {
    const ContainerRecord& r = entry->record;
    // A live shim is what counts, not the record: berthd may have died
    // after the shim started but before the record said "running" (the
    // container is adopted later in recover()); its attachment must not be
    // taken for a stopped container's and unplugged.
    if (r.state == RecordState::kRemoving || r.state == RecordState::kCreating) continue;
    if (!openLiveShim(options_.paths.containerDir(id), id).pidfd) continue;
    auto request = attachRequestFor(r);
    if (request && !request->network.empty()) running.push_back(std::move(*request));
  }
  BERTH_TRY(options_.networks->recover(running));
  // A private network whose container is gone (berthd died between the
  // container's removal and its network's): nobody else will remove it.
  for (const net::network::NetworkInfo& network : options_.networks->list()) {
    bool orphan = isPrivateNetworkName(network.name) && network.containers.empty() &&
                  std::none_of(table_.begin(), table_.end(), [&](const auto& entry) {
                    return privateNetworkName(entry.first) == network.name;
                  });
    if (!orphan) continue;
    if (auto removed = options_.networks->remove(network.name); !removed) {
      std::fprintf(stderr, "berthd: %s\n", removed.error().str().c_str());
    }
  }
  return sys::ok();
}

}  // namespace berth::agent::engine
