// Global flags, the command table, help, and `berth version`.
#include "agent/cli/cli.h"

#include <iostream>

#include "agent/api/socket.h"
#include "agent/cli/commands.h"
#include "agent/cli/json_views.h"

namespace berth::agent::cli {

namespace {

int versionCommand(Context& ctx, const ParsedArgs& args) {
  auto format = outputFormat(args);
  if (!format) return ctx.usage("version", format.error().what());
  auto client = ctx.client();
  Json doc = {{"client", {{"version", BERTH_VERSION}, {"protocol", api::kProtocolVersion}}}};
  if (client.ok()) {
    const auto& daemon = (*client)->daemon();
    doc["daemon"] = {{"version", daemon.daemon_version()}, {"protocol", daemon.protocol_version()}};
  }
  if (*format == OutputFormat::kJson) {
    ctx.out() << dumpJson(doc);
  } else {
    ctx.out() << "Client:\n Version:   " << BERTH_VERSION
              << "\n Protocol:  " << api::kProtocolVersion << "\n";
    if (client.ok()) {
      ctx.out() << "Daemon:\n Version:   " << (*client)->daemon().daemon_version()
                << "\n Protocol:  " << (*client)->daemon().protocol_version() << "\n";
    }
  }
  ctx.out().flush();
  return client.ok() ? kExitOk : ctx.fail(client.error());
}

std::vector<Command> allCommands() {
  std::vector<Command> all;
  for (auto group : {imageCommands, runCommands, lifecycleCommands, listCommands, logsCommands,
                     execCommands, statsCommands, networkCommands, volumeCommands,
                     projectCommands}) {
    for (auto& c : group()) all.push_back(std::move(c));
  }
  all.push_back({"version",
                 "[OPTIONS]",
                 "Show the berth and berthd versions",
                 {kFormatFlag},
                 {},
                 0,
                 0,
                 versionCommand});
  // docker's short forms.
  for (const auto& [alias, target] :
       std::vector<std::pair<std::string, std::string>>{{"pull", "image pull"},
                                                        {"images", "image ls"},
                                                        {"rmi", "image rm"},
                                                        {"image list", "image ls"},
                                                        {"container ls", "ps"}}) {
    for (const auto& c : std::vector<Command>(all)) {
      if (c.name != target) continue;
      Command copy = c;
      copy.name = alias;
      copy.hidden = true;
      all.push_back(std::move(copy));
    }
  }
  return all;
}

std::string mainHelp(const std::vector<Command>& commands) {
  std::string out =
      "Usage:  berth [OPTIONS] COMMAND\n\nRun containers with berthd.\n\n"
      "Global options:\n      --socket PATH   berthd's socket (else $BERTH_SOCKET, else " +
      std::string(api::kDefaultSocketPath) + ")\n\nCommands:\n";
  for (const auto& c : commands) {
    if (c.hidden) continue;
    out += "  " + c.name + std::string(c.name.size() < 16 ? 16 - c.name.size() : 1, ' ') +
           c.summary + "\n";
  }
  out += "\nRun 'berth COMMAND --help' for more information on a command.\n";
  return out;
}

// The command named by args[pos...] (one or two words), advancing pos.
const Command* findCommand(const std::vector<Command>& commands,
                           const std::vector<std::string>& args, size_t& pos) {
  if (pos + 1 < args.size()) {
    std::string two = args[pos] + " " + args[pos + 1];
    for (const auto& c : commands) {
      if (c.name == two) {
        pos += 2;
        return &c;
      }
    }
  }
  for (const auto& c : commands) {
    if (c.name == args[pos]) {
      ++pos;
      return &c;
    }
  }
  return nullptr;
}

int runCommand(Context& ctx, const Command& command, const std::vector<std::string>& rest) {
  auto parsed = parseArgs(rest, command.flags, command.parse);
  if (!parsed) return ctx.usage(command.name, parsed.error().what());
  if (parsed->helpRequested()) {
    ctx.out() << commandHelp(command);
    return kExitOk;
  }
  size_t n = parsed->positionals().size();
  if (n < command.minArgs || n > command.maxArgs) {
    size_t bound = n < command.minArgs ? command.minArgs : command.maxArgs;
    std::string wanted = command.minArgs == command.maxArgs ? "exactly "
                         : n < command.minArgs              ? "at least "
                                                            : "at most ";
    wanted += std::to_string(bound) + (bound == 1 ? " argument" : " arguments");
    return ctx.usage(command.name, "requires " + wanted + ".\nUsage:  berth " + command.name + " " +
                                       command.args);
  }
  return command.run(ctx, *parsed);
}

}  // namespace

std::string commandHelp(const Command& command) {
  return "Usage:  berth " + command.name + " " + command.args + "\n\n" + command.summary + "\n\n" +
         (command.details.empty() ? "" : command.details + "\n\n") + flagsHelp(command.flags);
}

sys::Result<OutputFormat> outputFormat(const ParsedArgs& args) {
  std::string format = args.value("format", "table");
  if (format == "table") return OutputFormat::kTable;
  if (format == "json") return OutputFormat::kJson;
  return sys::Error::invalid("unknown --format \"" + format + "\": use table or json");
}

int cliMain(int argc, char** argv, Io& io) {
  std::vector<std::string> args(argv + 1, argv + argc);
  Context usageCtx(io, "");
  // Global flags come before the command word.
  std::string socket;
  size_t pos = 0;
  for (; pos < args.size() && args[pos].size() > 1 && args[pos][0] == '-'; ++pos) {
    const std::string& a = args[pos];
    if (a == "--help" || a == "-h") {
      *io.out << mainHelp(allCommands());
      return kExitOk;
    } else if (a == "--version" || a == "-v") {
      *io.out << "berth version " << BERTH_VERSION << "\n";
      return kExitOk;
    } else if (a == "--socket" && pos + 1 < args.size()) {
      socket = args[++pos];
    } else if (a.rfind("--socket=", 0) == 0) {
      socket = a.substr(9);
    } else {
      return usageCtx.fail("unknown flag: " + a + "\nSee 'berth --help'.", kExitUsage);
    }
  }
  if (pos == args.size()) {
    *io.err << mainHelp(allCommands());
    return kExitUsage;
  }
  std::vector<Command> commands = allCommands();
  const Command* command = findCommand(commands, args, pos);
  if (command == nullptr) {
    std::string group;
    for (const auto& c : commands) {
      if (c.hidden || c.name.rfind(args[pos] + " ", 0) != 0) continue;
      group += "  " + c.name + std::string(c.name.size() < 16 ? 16 - c.name.size() : 1, ' ') +
               c.summary + "\n";
    }
    if (!group.empty()) {
      *io.err << "Usage:  berth " << args[pos] << " COMMAND\n\nCommands:\n" << group;
      return kExitUsage;
    }
    return usageCtx.fail("'" + args[pos] + "' is not a berth command.\nSee 'berth --help'.",
                         kExitUsage);
  }
  Context ctx(io, socket);
  std::vector<std::string> rest(args.begin() + static_cast<std::ptrdiff_t>(pos), args.end());
  int code = runCommand(ctx, *command, rest);
  io.out->flush();
  io.err->flush();
  return code;
}

int cliMain(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  Io io = Io::process();
  return cliMain(argc, argv, io);
}

}  // namespace berth::agent::cli
