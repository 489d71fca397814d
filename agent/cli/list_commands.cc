// berth ps and berth inspect.
#include "agent/cli/commands.h"
#include "agent/cli/inspect_each.h"
#include "agent/cli/json_views.h"
#include "agent/cli/table_views.h"
#include "agent/cli/units.h"

namespace berth::agent::cli {

namespace {

int psCommand(Context& ctx, const ParsedArgs& args) {
  auto format = outputFormat(args);
  if (!format) return ctx.usage("ps", format.error().what());
  auto client = ctx.client();
  if (!client.ok()) return ctx.fail(client.error());
  pb::ContainerListRequest request;
  request.set_all(args.flag("all"));
  auto list = (*client)->containerList(request);
  if (!list.ok()) return ctx.fail(list.error());
  bool noTrunc = args.flag("no-trunc");
  if (args.flag("quiet")) {
    for (const auto& c : list->containers())
      ctx.out() << (noTrunc ? c.id() : shortId(c.id())) << "\n";
  } else if (*format == OutputFormat::kJson) {
    Json doc = Json::array();
    for (const auto& c : list->containers()) doc.push_back(containerSummaryJson(c));
    ctx.out() << dumpJson(doc);
  } else {
    ctx.out() << containerTable(*list, ctx.io().nowNs(), noTrunc).render();
  }
  return kExitOk;
}

int inspectCommand(Context& ctx, const ParsedArgs& args) {
  return inspectEach(
      ctx, args.positionals(),
      [](api::Client& client, const std::string& name) {
        pb::ContainerInspectRequest request;
        request.set_id(name);
        return client.containerInspect(request);
      },
      containerInfoJson);
}

}  // namespace

std::vector<Command> listCommands() {
  return {
      {"ps",
       "[OPTIONS]",
       "List containers",
       {{"all", 'a', false, "", "Show all containers (default shows just running)"},
        {"quiet", 'q', false, "", "Only display container IDs"},
        {"no-trunc", 0, false, "", "Don't truncate output"},
        kFormatFlag},
       {},
       0,
       0,
       psCommand},
      {"inspect",
       "CONTAINER [CONTAINER...]",
       "Show details of containers as a JSON array",
       {},
       {},
       1,
       SIZE_MAX,
       inspectCommand},
  };
}

}  // namespace berth::agent::cli
