// berth image pull|import|ls|inspect|rm|prune (and the pull/images/rmi aliases).
#include <unistd.h>

#include <set>

#include "agent/cli/commands.h"
#include "agent/cli/inspect_each.h"
#include "agent/cli/json_views.h"
#include "agent/cli/progress.h"
#include "agent/cli/table_views.h"
#include "agent/cli/units.h"

namespace berth::agent::cli {

namespace {

int pullCommand(Context& ctx, const ParsedArgs& args) {
  auto client = ctx.client();
  if (!client.ok()) return ctx.fail(client.error());
  pb::ImagePullRequest request;
  request.set_reference(args.positionals()[0]);
  request.set_platform(args.value("platform"));
  bool showProgress = ctx.io().stdoutIsTty && !args.flag("quiet");
  PullProgressView view;
  auto pulled = (*client)->imagePull(request, [&](const pb::PullProgress& p) {
    if (showProgress) {
      ctx.out() << view.update(p);
      ctx.out().flush();
    }
    return true;
  });
  if (showProgress) ctx.out() << view.finish();
  if (!pulled.ok()) return ctx.fail(pulled.error());
  const auto& image = pulled->image();
  if (showProgress && !image.manifest_digest().empty()) {
    ctx.out() << "Digest: " << image.manifest_digest() << "\n";
  }
  ctx.out() << (image.references().empty() ? image.id() : image.references(0)) << "\n";
  return kExitOk;
}

int importCommand(Context& ctx, const ParsedArgs& args) {
  auto client = ctx.client();
  if (!client.ok()) return ctx.fail(client.error());
  pb::ImageImportRequest request;
  request.set_path(args.positionals()[0]);
  if (args.positionals().size() > 1) request.set_reference(args.positionals()[1]);
  auto imported = (*client)->imageImport(request);
  if (!imported.ok()) return ctx.fail(imported.error());
  for (const auto& image : imported->images()) {
    if (image.references().empty()) ctx.out() << "Loaded image ID: " << image.id() << "\n";
    for (const auto& ref : image.references()) ctx.out() << "Loaded image: " << ref << "\n";
  }
  return kExitOk;
}

int listCommand(Context& ctx, const ParsedArgs& args) {
  auto format = outputFormat(args);
  if (!format) return ctx.usage("image ls", format.error().what());
  auto client = ctx.client();
  if (!client.ok()) return ctx.fail(client.error());
  pb::ImageListRequest request;
  request.set_all(args.flag("all"));
  auto list = (*client)->imageList(request);
  if (!list.ok()) return ctx.fail(list.error());
  if (args.flag("quiet")) {
    std::set<std::string> seen;
    for (const auto& image : list->images()) {
      std::string id = args.flag("no-trunc") ? image.id() : shortId(image.id());
      if (seen.insert(id).second) ctx.out() << id << "\n";
    }
  } else if (*format == OutputFormat::kJson) {
    Json doc = Json::array();
    for (const auto& image : list->images()) doc.push_back(imageSummaryJson(image));
    ctx.out() << dumpJson(doc);
  } else {
    ctx.out() << imageTable(*list, ctx.io().nowNs()).render();
  }
  return kExitOk;
}

int inspectCommand(Context& ctx, const ParsedArgs& args) {
  return inspectEach(
      ctx, args.positionals(),
      [](api::Client& client, const std::string& ref) {
        pb::ImageInspectRequest request;
        request.set_reference(ref);
        return client.imageInspect(request);
      },
      imageInfoJson);
}

int removeCommand(Context& ctx, const ParsedArgs& args) {
  auto client = ctx.client();
  if (!client.ok()) return ctx.fail(client.error());
  int code = kExitOk;
  for (const auto& ref : args.positionals()) {
    pb::ImageRemoveRequest request;
    request.set_reference(ref);
    request.set_force(args.flag("force"));
    auto removed = (*client)->imageRemove(request);
    if (!removed.ok()) {
      code = ctx.fail(removed.error());
      continue;
    }
    for (const auto& u : removed->untagged()) ctx.out() << "Untagged: " << u << "\n";
    for (const auto& d : removed->deleted()) ctx.out() << "Deleted: " << d << "\n";
  }
  return code;
}

// docker's "[y/N]" question, answered on stdin; EOF means no.
bool confirm(Context& ctx, const std::string& question) {
  ctx.out() << question << " [y/N] ";
  ctx.out().flush();
  std::string answer;
  char c = 0;
  while (::read(ctx.io().stdinFd, &c, 1) == 1 && c != '\n') answer += c;
  return answer == "y" || answer == "Y" || answer == "yes";
}

int pruneCommand(Context& ctx, const ParsedArgs& args) {
  bool all = args.flag("all");
  if (!args.flag("force") &&
      !confirm(ctx, all ? "WARNING! This will remove all images without at least one container "
                          "associated to them.\nAre you sure you want to continue?"
                        : "WARNING! This will remove all dangling images.\nAre you sure you "
                          "want to continue?")) {
    return kExitOk;
  }
  auto client = ctx.client();
  if (!client.ok()) return ctx.fail(client.error());
  pb::ImagePruneRequest request;
  request.set_all(all);
  auto pruned = (*client)->imagePrune(request);
  if (!pruned.ok()) return ctx.fail(pruned.error());
  if (!pruned->deleted().empty()) {
    ctx.out() << "Deleted Images:\n";
    for (const auto& d : pruned->deleted()) ctx.out() << "deleted: " << d << "\n";
    ctx.out() << "\n";
  }
  ctx.out() << "Total reclaimed space: " << formatSizeDecimal(pruned->reclaimed_bytes()) << "\n";
  return kExitOk;
}

}  // namespace

std::vector<Command> imageCommands() {
  const FlagSpec quiet{"quiet", 'q', false, "", "Only show image IDs"};
  return {
      {"image pull",
       "[OPTIONS] NAME[:TAG|@DIGEST]",
       "Download an image from a registry",
       {{"platform", 0, true, "PLATFORM", "Platform to pull (linux/amd64); default: this host's"},
        {"quiet", 'q', false, "", "Suppress the progress output"}},
       {},
       1,
       1,
       pullCommand},
      {"image import",
       "PATH [REFERENCE]",
       "Import an OCI layout, oci-archive or docker-archive from the daemon's host",
       {},
       {},
       1,
       2,
       importCommand},
      {"image ls",
       "[OPTIONS]",
       "List images",
       {{"all", 'a', false, "", "Show all images (default hides untagged ones)"},
        quiet,
        {"no-trunc", 0, false, "", "Don't truncate IDs"},
        kFormatFlag},
       {},
       0,
       0,
       listCommand},
      {"image inspect",
       "REF [REF...]",
       "Show details of images as JSON",
       {},
       {},
       1,
       SIZE_MAX,
       inspectCommand},
      {"image rm",
       "[OPTIONS] REF [REF...]",
       "Remove images",
       {{"force", 'f', false, "", "Remove even when containers use it"}},
       {},
       1,
       SIZE_MAX,
       removeCommand},
      {"image prune",
       "[OPTIONS]",
       "Remove unused images",
       {{"all", 'a', false, "", "Remove all unused images, not just untagged ones"},
        {"force", 'f', false, "", "Do not prompt for confirmation"}},
       {},
       0,
       0,
       pruneCommand},
  };
}

}  // namespace berth::agent::cli
