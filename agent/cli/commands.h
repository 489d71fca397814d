// The table of berth's commands: each one's flags, usage and handler. The
// handlers live in one file per command group (images, run/create, lifecycle,
// listing, logs, exec/shell, stats); cli.cc parses, finds and runs them.
#pragma once

#include <cstddef>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "agent/cli/args.h"
#include "agent/cli/context.h"

namespace berth::agent::cli {

namespace pb = ::berth::api;

struct Command {
  std::string name;     // as typed after "berth": "run", "image ls"
  std::string args;     // "[OPTIONS] IMAGE [COMMAND] [ARG...]"
  std::string summary;  // one line
  std::vector<FlagSpec> flags;
  ParseOptions parse;
  size_t minArgs = 0;
  size_t maxArgs = std::numeric_limits<size_t>::max();
  std::function<int(Context&, const ParsedArgs&)> run;
  bool hidden = false;  // aliases (pull, images, rmi) stay out of the help
  std::string details;  // more paragraphs for `berth CMD --help` only
};

std::vector<Command> imageCommands();      // image pull|import|ls|inspect|rm|prune
std::vector<Command> runCommands();        // run, create
std::vector<Command> lifecycleCommands();  // start, stop, restart, rm, update
std::vector<Command> listCommands();       // ps, inspect
std::vector<Command> logsCommands();       // logs
std::vector<Command> execCommands();       // exec, shell
std::vector<Command> statsCommands();      // stats
std::vector<Command> networkCommands();    // network ls|inspect|rm
std::vector<Command> volumeCommands();     // volume create|ls|inspect|rm|prune|export|import
std::vector<Command> projectCommands();    // deploy, down, ls, status (project_commands.cc)

// "--format": "" / "table" or "json"; anything else is a usage error.
enum class OutputFormat { kTable, kJson };
inline const FlagSpec kFormatFlag{"format", 0, true, "FORMAT", "Output format: table or json"};
sys::Result<OutputFormat> outputFormat(const ParsedArgs& args);

// Attaches to a created container with start=true and runs the session to
// its end: the container's exit code, or `failureCode` when the call failed
// (run: 125, start -a: 1).
int attachAndStart(Context& ctx, api::Client& client, const std::string& id, bool stdinOpen,
                   bool tty, int failureCode);

// update's flags -> the request (id left empty); an error when no flag is given.
sys::Result<pb::ContainerUpdateRequest> buildUpdateRequest(const ParsedArgs& args);

// logs' flags -> the request; times relative to `nowNs`.
sys::Result<pb::LogsRequest> buildLogsRequest(const ParsedArgs& args, int64_t nowNs);
// exec's and shell's flags -> their start messages (-e KEY from `env`).
sys::Result<pb::ExecStart> buildExecStart(const ParsedArgs& args, const EnvLookup& env);
sys::Result<pb::ShellStart> buildShellStart(const ParsedArgs& args, const EnvLookup& env);

// "help" text of one command.
std::string commandHelp(const Command& command);

}  // namespace berth::agent::cli
