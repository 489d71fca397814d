// berth stats: CPU, memory and pids of containers, once or every second.
#include "agent/cli/commands.h"
#include "agent/cli/json_views.h"
#include "agent/cli/table_views.h"

namespace berth::agent::cli {

namespace {

// ANSI: clear the screen and go home, so each batch redraws the table.
constexpr const char* kRedraw = "\033[2J\033[H";

void printBatch(Context& ctx, const pb::StatsBatch& batch, OutputFormat format, bool stream) {
  if (format == OutputFormat::kJson) {
    Json doc = Json::array();
    for (const auto& s : batch.containers()) doc.push_back(containerStatsJson(s));
    if (stream) {
      // One document per line while streaming (JSON lines).
      ctx.out() << doc.dump(-1, ' ', false, Json::error_handler_t::replace) << "\n";
    } else {
      ctx.out() << dumpJson(doc);
    }
  } else {
    if (stream && ctx.io().stdoutIsTty) ctx.out() << kRedraw;
    ctx.out() << statsTable(batch).render();
  }
  ctx.out().flush();
}

int statsCommand(Context& ctx, const ParsedArgs& args) {
  auto format = outputFormat(args);
  if (!format) return ctx.usage("stats", format.error().what());
  auto client = ctx.client();
  if (!client.ok()) return ctx.fail(client.error());
  pb::StatsRequest request;
  for (const auto& name : args.positionals()) request.add_ids(name);
  bool stream = !args.flag("no-stream");
  request.set_stream(stream);
  auto ended = (*client)->stats(request, [&](const pb::StatsBatch& batch) {
    printBatch(ctx, batch, *format, stream);
    return true;
  });
  if (!ended.ok()) return ctx.fail(ended.error());
  return kExitOk;
}

}  // namespace

std::vector<Command> statsCommands() {
  return {
      {"stats",
       "[OPTIONS] [CONTAINER...]",
       "Show containers' resource usage (default: all running ones, every second)",
       {{"no-stream", 0, false, "", "Print one result and exit"}, kFormatFlag},
       {},
       0,
       SIZE_MAX,
       statsCommand},
  };
}

}  // namespace berth::agent::cli
