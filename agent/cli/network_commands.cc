// berth network ls|inspect|rm: the project networks of berthd (issue 5).
// A network is created by the first `berth run --network NAME`; rm refuses
// while containers are attached.
#include "agent/cli/commands.h"
#include "agent/cli/inspect_each.h"
#include "agent/cli/json_views.h"
#include "agent/cli/table.h"

namespace berth::agent::cli {
namespace {

Json networkJson(const pb::NetworkInfo& info) {
  Json j;
  j["name"] = info.name();
  j["bridge"] = info.bridge();
  j["subnet"] = info.subnet();
  j["gateway"] = info.gateway();
  Json containers = Json::array();
  for (const auto& id : info.containers()) containers.push_back(id);
  j["containers"] = containers;
  return j;
}

int listCommand(Context& ctx, const ParsedArgs& args) {
  auto format = outputFormat(args);
  if (!format) return ctx.usage("network ls", format.error().what());
  auto client = ctx.client();
  if (!client.ok()) return ctx.fail(client.error());
  auto list = (*client)->networkList(pb::NetworkListRequest());
  if (!list.ok()) return ctx.fail(list.error());
  if (args.flag("quiet")) {
    for (const auto& n : list->networks()) ctx.out() << n.name() << "\n";
  } else if (*format == OutputFormat::kJson) {
    Json doc = Json::array();
    for (const auto& n : list->networks()) doc.push_back(networkJson(n));
    ctx.out() << dumpJson(doc);
  } else {
    Table table({"NAME", "BRIDGE", "SUBNET", "GATEWAY", "CONTAINERS"});
    for (const auto& n : list->networks()) {
      table.add(
          {n.name(), n.bridge(), n.subnet(), n.gateway(), std::to_string(n.containers_size())});
    }
    ctx.out() << table.render();
  }
  return kExitOk;
}

int inspectCommand(Context& ctx, const ParsedArgs& args) {
  return inspectEach(
      ctx, args.positionals(),
      [](api::Client& client, const std::string& name) {
        pb::NetworkInspectRequest request;
        request.set_name(name);
        return client.networkInspect(request);
      },
      networkJson);
}

int removeCommand(Context& ctx, const ParsedArgs& args) {
  return removeEach(ctx, args.positionals(), [](api::Client& client, const std::string& name) {
    pb::NetworkRemoveRequest request;
    request.set_name(name);
    return client.networkRemove(request);
  });
}

}  // namespace

std::vector<Command> networkCommands() {
  return {
      {"network ls",
       "[OPTIONS]",
       "List project networks",
       {{"quiet", 'q', false, "", "Only show network names"}, kFormatFlag},
       {},
       0,
       0,
       listCommand},
      {"network inspect",
       "NAME [NAME...]",
       "Show details of networks as JSON",
       {},
       {},
       1,
       SIZE_MAX,
       inspectCommand},
      {"network rm",
       "NAME [NAME...]",
       "Remove networks (no container may be attached)",
       {},
       {},
       1,
       SIZE_MAX,
       removeCommand},
  };
}

}  // namespace berth::agent::cli
