// berth run and berth create.
//
// A foreground run creates the container and then attaches with start=true,
// so the daemon starts it only once our output stream is in place and no
// line is lost; a detached run is one containerRun call.
#include "agent/cli/command_failure.h"
#include "agent/cli/commands.h"
#include "agent/cli/container_options.h"
#include "agent/cli/session.h"

namespace berth::agent::cli {

namespace {

sys::Result<pb::ContainerSpec> specFrom(Context& ctx, const ParsedArgs& args) {
  auto spec = BERTH_TRY(buildContainerSpec(args, ctx.io()));
  if (spec.auto_remove() && spec.has_restart() && spec.restart().kind() != pb::RESTART_NO) {
    return sys::Error::invalid("conflicting options: --restart and --rm");
  }
  return spec;
}

template <class Reply>
void printWarnings(Context& ctx, const Reply& reply) {
  for (const auto& w : reply.warnings()) ctx.warn(w);
}

int runDetached(Context& ctx, api::Client& client, pb::ContainerSpec spec) {
  pb::ContainerRunRequest request;
  *request.mutable_spec() = std::move(spec);
  auto run = client.containerRun(request);
  if (!run.ok()) return ctx.fail(run.error(), exitCodeForError(run.error(), kExitUsage));
  printWarnings(ctx, *run);
  ctx.out() << run->id() << "\n";
  return kExitOk;
}

}  // namespace

// Attaches to a created container, starts it and runs the session to its end:
// the container's exit code, or `failureCode` when the session failed.
int attachAndStart(Context& ctx, api::Client& client, const std::string& id, bool stdinOpen,
                   bool tty, int failureCode) {
  pb::AttachStart attach;
  attach.set_id(id);
  attach.set_stdin(stdinOpen);
  attach.set_start(true);
  fillTerminalSize(ctx.io(), tty, attach.mutable_size());
  // A command that cannot be run fails the start: 127 or 126, as docker.
  auto session = client.attach(attach);
  if (!session.ok())
    return ctx.fail(session.error(), exitCodeForError(session.error(), failureCode));
  auto status = runSession(*session, ctx.io(), {stdinOpen, tty});
  if (!status.ok()) return ctx.fail(status.error(), exitCodeForError(status.error(), failureCode));
  return status->code();
}

namespace {

int runForeground(Context& ctx, api::Client& client, pb::ContainerSpec spec) {
  // Attached runs are not restarted unless asked: the user watches them end.
  if (!spec.has_restart()) spec.mutable_restart()->set_kind(pb::RESTART_NO);
  bool stdinOpen = spec.stdin();
  bool tty = spec.tty();
  pb::ContainerCreateRequest request;
  *request.mutable_spec() = std::move(spec);
  auto created = client.containerCreate(request);
  if (!created.ok()) return ctx.fail(created.error(), kExitUsage);
  printWarnings(ctx, *created);
  ctx.err().flush();
  return attachAndStart(ctx, client, created->id(), stdinOpen, tty, kExitUsage);
}

int runCommand(Context& ctx, const ParsedArgs& args) {
  auto spec = specFrom(ctx, args);
  if (!spec) return ctx.usage("run", spec.error().what());
  auto client = ctx.client();
  if (!client.ok()) return ctx.fail(client.error(), kExitUsage);
  if (args.flag("detach")) return runDetached(ctx, **client, std::move(spec).value());
  return runForeground(ctx, **client, std::move(spec).value());
}

int createCommand(Context& ctx, const ParsedArgs& args) {
  auto spec = specFrom(ctx, args);
  if (!spec) return ctx.usage("create", spec.error().what());
  auto client = ctx.client();
  if (!client.ok()) return ctx.fail(client.error(), kExitUsage);
  pb::ContainerCreateRequest request;
  *request.mutable_spec() = std::move(spec).value();
  auto created = (*client)->containerCreate(request);
  if (!created.ok()) return ctx.fail(created.error(), kExitUsage);
  printWarnings(ctx, *created);
  ctx.out() << created->id() << "\n";
  return kExitOk;
}

}  // namespace

std::vector<Command> runCommands() {
  std::vector<FlagSpec> runFlags = containerFlags();
  runFlags.insert(runFlags.begin(),
                  {"detach", 'd', false, "", "Run in the background and print the container ID"});
  ParseOptions program{.stopAtFirstPositional = true};
  return {
      {"run", "[OPTIONS] IMAGE [COMMAND] [ARG...]", "Create and run a new container from an image",
       runFlags, program, 1, SIZE_MAX, runCommand},
      {"create", "[OPTIONS] IMAGE [COMMAND] [ARG...]", "Create a new container", containerFlags(),
       program, 1, SIZE_MAX, createCommand},
  };
}

}  // namespace berth::agent::cli
