// The `berth network ls|inspect|rm` calls of DaemonHandler: thin wrappers
// over net::network::ProjectNetworks (the networks berthd runs in its own
// network namespace). Networks are created on first use by `berth run
// --network NAME`, so there is no create call.
#include "agent/daemon/daemon_handler.h"
#include "agent/daemon/log.h"

namespace berth::agent::daemon {
namespace {

pb::NetworkInfo toProto(const net::network::NetworkInfo& info) {
  pb::NetworkInfo out;
  out.set_name(info.name);
  out.set_bridge(info.bridge);
  out.set_subnet(info.subnet);
  out.set_gateway(info.gateway);
  for (const std::string& id : info.containers) out.add_containers(id);
  return out;
}

api::CallError unavailable() {
  return api::CallError(pb::UNAVAILABLE, "project networks are not enabled in this berthd");
}

}  // namespace

api::CallResult<pb::NetworkListReply> DaemonHandler::networkList(const pb::NetworkListRequest&) {
  if (!networks_) return unavailable();
  pb::NetworkListReply reply;
  for (const net::network::NetworkInfo& info : networks_->list()) {
    *reply.add_networks() = toProto(info);
  }
  return reply;
}

api::CallResult<pb::NetworkInfo> DaemonHandler::networkInspect(
    const pb::NetworkInspectRequest& request) {
  if (!networks_) return unavailable();
  auto info = networks_->inspect(request.name());
  if (!info) return api::CallError(pb::NOT_FOUND, "no such network: " + request.name());
  return toProto(*info);
}

api::CallResult<pb::NetworkRemoveReply> DaemonHandler::networkRemove(
    const pb::NetworkRemoveRequest& request) {
  if (!networks_) return unavailable();
  if (!networks_->inspect(request.name())) {
    return api::CallError(pb::NOT_FOUND, "no such network: " + request.name());
  }
  if (auto removed = networks_->remove(request.name()); !removed) {
    logWarn("network remove " + request.name() + " failed: " + removed.error().str());
    return api::CallError(removed.error().code() == EBUSY ? pb::CONFLICT : pb::INTERNAL,
                          removed.error().str());
  }
  logInfo("network remove " + request.name());
  return pb::NetworkRemoveReply();
}

}  // namespace berth::agent::daemon
