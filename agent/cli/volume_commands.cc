// berth volume create|ls|inspect|rm|prune|export|import: berthd's named
// volumes (issue 6). A volume is also created by the first `berth run -v
// NAME:/path`; rm refuses while any container (running or not) uses it, with
// or without -f, as Docker does. export/import stream a tar through berthd:
//   berth volume export NAME > backup.tar
//   berth volume import NAME < backup.tar
#include <unistd.h>

#include "agent/cli/commands.h"
#include "agent/cli/container_options.h"
#include "agent/cli/inspect_each.h"
#include "agent/cli/json_views.h"
#include "agent/cli/table.h"
#include "agent/cli/units.h"
#include "storage/disk/disk.h"

namespace berth::agent::cli {
namespace {

int createCommand(Context& ctx, const ParsedArgs& args) {
  pb::VolumeCreateRequest request;
  request.set_name(args.positionals()[0]);
  for (const auto& label : args.values("label")) {
    auto [key, value] = splitKeyValue(label);
    if (key.empty()) return ctx.usage("volume create", "invalid label \"" + label + "\": empty key");
    (*request.mutable_labels())[key] = value;
  }
  if (args.has("size")) {
    auto size = storage::disk::parseSize(args.value("size"));
    if (!size) return ctx.usage("volume create", "--size: " + size.error().what());
    request.set_size_limit(*size);
  }
  auto client = ctx.client();
  if (!client.ok()) return ctx.fail(client.error());
  auto created = (*client)->volumeCreate(request);
  if (!created.ok()) return ctx.fail(created.error());
  ctx.out() << created->name() << "\n";
  return kExitOk;
}

int listCommand(Context& ctx, const ParsedArgs& args) {
  auto format = outputFormat(args);
  if (!format) return ctx.usage("volume ls", format.error().what());
  auto client = ctx.client();
  if (!client.ok()) return ctx.fail(client.error());
  auto list = (*client)->volumeList(pb::VolumeListRequest());
  if (!list.ok()) return ctx.fail(list.error());
  int64_t now = ctx.io().nowNs ? ctx.io().nowNs() : 0;
  if (args.flag("quiet")) {
    for (const auto& v : list->volumes()) ctx.out() << v.name() << "\n";
  } else if (*format == OutputFormat::kJson) {
    Json doc = Json::array();
    for (const auto& v : list->volumes()) doc.push_back(volumeInfoJson(v));
    ctx.out() << dumpJson(doc);
  } else {
    Table table({"NAME", "SIZE", "LIMIT", "CREATED"});
    for (const auto& v : list->volumes()) {
      table.add({v.name(), formatSizeDecimal(v.usage()),
                 v.size_limit() == 0 ? "-" : formatSizeBinary(v.size_limit()),
                 humanAgo(v.created_ns(), now)});
    }
    ctx.out() << table.render();
  }
  return kExitOk;
}

int inspectCommand(Context& ctx, const ParsedArgs& args) {
  return inspectEach(
      ctx, args.positionals(),
      [](api::Client& client, const std::string& name) {
        pb::VolumeInspectRequest request;
        request.set_name(name);
        return client.volumeInspect(request);
      },
      volumeInfoJson);
}

int removeCommand(Context& ctx, const ParsedArgs& args) {
  bool force = args.flag("force");
  return removeEach(ctx, args.positionals(), [force](api::Client& client, const std::string& name) {
    pb::VolumeRemoveRequest request;
    request.set_name(name);
    request.set_force(force);
    return client.volumeRemove(request);
  });
}

int pruneCommand(Context& ctx, const ParsedArgs&) {
  auto client = ctx.client();
  if (!client.ok()) return ctx.fail(client.error());
  auto pruned = (*client)->volumePrune(pb::VolumePruneRequest());
  if (!pruned.ok()) return ctx.fail(pruned.error());
  if (pruned->deleted_size() > 0) {
    ctx.out() << "Deleted Volumes:\n";
    for (const auto& name : pruned->deleted()) ctx.out() << name << "\n";
    ctx.out() << "\n";
  }
  ctx.out() << "Total reclaimed space: " << formatSizeDecimal(pruned->reclaimed_bytes()) << "\n";
  return kExitOk;
}

int exportCommand(Context& ctx, const ParsedArgs& args) {
  if (ctx.io().stdoutIsTty) {
    return ctx.fail("cowardly refusing to write a tar to a terminal: redirect the output (> file.tar)");
  }
  auto client = ctx.client();
  if (!client.ok()) return ctx.fail(client.error());
  pb::VolumeExportRequest request;
  request.set_name(args.positionals()[0]);
  bool writeFailed = false;
  auto done = (*client)->volumeExport(request, [&](const pb::VolumeData& data) {
    ctx.out().write(data.data().data(), static_cast<std::streamsize>(data.data().size()));
    writeFailed = !ctx.out().good();
    return !writeFailed;
  });
  ctx.out().flush();
  if (writeFailed || !ctx.out().good()) return ctx.fail("write the tar to the output failed");
  if (!done.ok()) return ctx.fail(done.error());
  return kExitOk;
}

int importCommand(Context& ctx, const ParsedArgs& args) {
  if (ctx.io().stdinIsTty) {
    return ctx.fail("the tar comes on stdin: berth volume import NAME < file.tar");
  }
  auto client = ctx.client();
  if (!client.ok()) return ctx.fail(client.error());
  pb::VolumeImportRequest request;
  request.set_name(args.positionals()[0]);
  auto imported = (*client)->volumeImport(request, ctx.io().stdinFd);
  if (!imported.ok()) return ctx.fail(imported.error());
  return kExitOk;
}

}  // namespace

std::vector<Command> volumeCommands() {
  return {
      {"volume create",
       "[OPTIONS] NAME",
       "Create a named volume",
       {{"label", 'l', true, "K=V", "Set a label"},
        {"size", 0, true, "SIZE", "Limit its size (its own filesystem: 64M, 10G)"}},
       {},
       1,
       1,
       createCommand},
      {"volume ls",
       "[OPTIONS]",
       "List volumes with their size",
       {{"quiet", 'q', false, "", "Only show volume names"}, kFormatFlag},
       {},
       0,
       0,
       listCommand},
      {"volume inspect",
       "NAME [NAME...]",
       "Show details of volumes as JSON",
       {},
       {},
       1,
       SIZE_MAX,
       inspectCommand},
      {"volume rm",
       "[OPTIONS] NAME [NAME...]",
       "Remove volumes (no container may use them)",
       {{"force", 'f', false, "", "No error for a volume that does not exist"}},
       {},
       1,
       SIZE_MAX,
       removeCommand},
      {"volume prune",
       "",
       "Remove every volume no container uses",
       {{"force", 'f', false, "", "Do not prompt (berth never prompts)"}},
       {},
       0,
       0,
       pruneCommand},
      {"volume export",
       "NAME",
       "Write a volume's files as a tar to stdout",
       {},
       {},
       1,
       1,
       exportCommand},
      {"volume import",
       "NAME",
       "Fill an empty (or new) volume from a tar on stdin",
       {},
       {},
       1,
       1,
       importCommand},
  };
}

}  // namespace berth::agent::cli
