// berth logs: CONTAINER, PROJECT/SERVICE (its container), or PROJECT (all
// its services, prefixed: project_logs.h).
#include "agent/cli/commands.h"
#include "agent/cli/log_printer.h"
#include "agent/cli/project_logs.h"
#include "agent/cli/project_ref.h"
#include "agent/cli/units.h"

namespace berth::agent::cli {

sys::Result<pb::LogsRequest> buildLogsRequest(const ParsedArgs& args, int64_t nowNs) {
  pb::LogsRequest request;
  request.set_id(args.positionals().at(0));
  request.set_follow(args.flag("follow"));
  request.set_timestamps(args.flag("timestamps"));
  std::string tail = args.value("tail", "all");
  if (tail != "all") {
    request.set_tail(
        static_cast<uint64_t>(BERTH_TRY_CTX(parseInteger(tail, 0, INT64_MAX >> 2), "--tail")));
  }
  if (args.has("since")) {
    request.set_since_ns(BERTH_TRY_CTX(parseTimeArg(args.value("since"), nowNs), "--since"));
  }
  if (args.has("until")) {
    request.set_until_ns(BERTH_TRY_CTX(parseTimeArg(args.value("until"), nowNs), "--until"));
  }
  return request;
}

namespace {

int logsCommand(Context& ctx, const ParsedArgs& args) {
  auto request = buildLogsRequest(args, ctx.io().nowNs());
  if (!request) return ctx.usage("logs", request.error().what());
  auto client = ctx.client();
  if (!client.ok()) return ctx.fail(client.error());
  // A bare name that labels a project's containers is the project; a
  // container of the very same name is then reached by its id.
  if (splitProjectRef(request->id()).first.empty()) {
    auto members = projectContainers(**client, request->id());
    if (!members.ok()) return ctx.fail(members.error());
    if (!members->empty()) return printProjectLogs(ctx, *request, *members);
  }
  auto target = resolveContainerRef(**client, request->id());  // PROJECT/SERVICE
  if (!target.ok()) return ctx.fail(target.error());
  request->set_id(*target);
  LogPrinter printer(ctx.out(), ctx.err(), request->timestamps());
  bool follow = request->follow();
  auto ended = (*client)->logs(*request, [&](const pb::LogEntry& entry) {
    printer.add(entry);
    if (follow) {
      ctx.out().flush();
      ctx.err().flush();
    }
    return true;
  });
  printer.finish();
  if (!ended.ok()) return ctx.fail(ended.error());
  return kExitOk;
}

}  // namespace

std::vector<Command> logsCommands() {
  return {
      {"logs",
       "[OPTIONS] CONTAINER|PROJECT[/SERVICE]",
       "Fetch the logs of a container, a project's service or a whole project",
       {{"follow", 'f', false, "", "Follow log output"},
        {"tail", 'n', true, "N", "Number of lines to show from the end (default: all)"},
        {"since", 0, true, "TIME",
         "Show logs since a time (2024-05-01T12:00:00Z, unix seconds, 10m)"},
        {"until", 0, true, "TIME", "Show logs before a time (same forms as --since)"},
        {"timestamps", 't', false, "", "Show timestamps"}},
       {},
       1,
       1,
       logsCommand,
       false,
       "berth logs PROJECT shows every service's logs in time order, each line prefixed with\n"
       "its service (\"redis | \"); --tail N counts per container. With -f it then follows\n"
       "them all, each line printed as it comes, until interrupted (containers created after\n"
       "it started, by a deploy, are not followed). A container whose name is also a\n"
       "project's name is reached by its id."},
  };
}

}  // namespace berth::agent::cli
