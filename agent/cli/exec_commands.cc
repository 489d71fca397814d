// berth exec and berth shell: interactive sessions in a running container;
// the CLI exits with the process's exit code.
#include "agent/cli/command_failure.h"
#include "agent/cli/commands.h"
#include "agent/cli/container_options.h"
#include "agent/cli/project_ref.h"
#include "agent/cli/session.h"

namespace berth::agent::cli {

sys::Result<pb::ExecStart> buildExecStart(const ParsedArgs& args, const EnvLookup& env) {
  const auto& positionals = args.positionals();
  if (positionals.size() < 2) return sys::Error::invalid("requires a CONTAINER and a COMMAND");
  pb::ExecStart request;
  request.set_id(positionals[0]);
  for (size_t i = 1; i < positionals.size(); ++i) request.add_cmd(positionals[i]);
  for (const auto& e : args.values("env")) request.add_env(BERTH_TRY(resolveEnvArg(e, env)));
  request.set_user(args.value("user"));
  request.set_workdir(args.value("workdir"));
  request.set_tty(args.flag("tty"));
  request.set_stdin(args.flag("interactive"));
  return request;
}

sys::Result<pb::ShellStart> buildShellStart(const ParsedArgs& args, const EnvLookup& env) {
  pb::ShellStart request;
  request.set_id(args.positionals().at(0));
  request.set_shell(args.value("shell"));
  for (const auto& e : args.values("env")) request.add_env(BERTH_TRY(resolveEnvArg(e, env)));
  request.set_user(args.value("user"));
  request.set_workdir(args.value("workdir"));
  return request;
}

namespace {

int finishSession(Context& ctx, api::CallResult<api::InteractiveSession> session,
                  SessionOptions options) {
  // A command that cannot be run: 127 or 126, as docker exec.
  if (!session.ok())
    return ctx.fail(session.error(), exitCodeForError(session.error(), kExitFailed));
  auto status = runSession(*session, ctx.io(), options);
  if (!status.ok()) return ctx.fail(status.error(), exitCodeForError(status.error(), kExitFailed));
  return status->code();
}

int execCommand(Context& ctx, const ParsedArgs& args) {
  auto request = buildExecStart(args, ctx.io().env);
  if (!request) return ctx.usage("exec", request.error().what());
  fillTerminalSize(ctx.io(), request->tty(), request->mutable_size());
  auto client = ctx.client();
  if (!client.ok()) return ctx.fail(client.error());
  auto target = resolveContainerRef(**client, request->id());  // PROJECT/SERVICE
  if (!target.ok()) return ctx.fail(target.error());
  request->set_id(*target);
  return finishSession(ctx, (*client)->exec(*request), {request->stdin(), request->tty()});
}

int shellCommand(Context& ctx, const ParsedArgs& args) {
  auto request = buildShellStart(args, ctx.io().env);
  if (!request) return ctx.usage("shell", request.error().what());
  fillTerminalSize(ctx.io(), true, request->mutable_size());
  auto client = ctx.client();
  if (!client.ok()) return ctx.fail(client.error());
  auto target = resolveContainerRef(**client, request->id());  // PROJECT/SERVICE
  if (!target.ok()) return ctx.fail(target.error());
  request->set_id(*target);
  return finishSession(ctx, (*client)->shell(*request), {true, true});
}

}  // namespace

std::vector<Command> execCommands() {
  const FlagSpec env{"env", 'e', true, "K=V", "Set an environment variable"};
  const FlagSpec user{"user", 'u', true, "USER",
                      "Username or UID (format: <name|uid>[:<group|gid>])"};
  const FlagSpec workdir{"workdir", 'w', true, "DIR", "Working directory inside the container"};
  return {
      {"exec",
       "[OPTIONS] CONTAINER COMMAND [ARG...]",
       "Run a command in a running container",
       {{"interactive", 'i', false, "", "Keep STDIN open and forward it"},
        {"tty", 't', false, "", "Allocate a pseudo-TTY"},
        env,
        user,
        workdir},
       {.stopAtFirstPositional = true},
       2,
       SIZE_MAX,
       execCommand},
      {"shell",
       "[OPTIONS] CONTAINER",
       "Open an interactive shell in a running container",
       {{"shell", 0, true, "PATH", "The shell to run (default: the image's, else /bin/sh)"},
        env,
        user,
        workdir},
       {},
       1,
       1,
       shellCommand},
  };
}

}  // namespace berth::agent::cli
