// berth-runtime's command table and global flags; each verb lives in its
// own cmd_*.cc, and main.cc only calls runtimeMain().
#include <signal.h>

#include <cstdio>
#include <cstring>

#include "runtime/cli/globals.h"
#include "runtime/container/state.h"
#include "runtime/sys/sealed_exe.h"

namespace berth::runtime::cli {

const std::vector<Command>& commands() {
  static const std::vector<Command> kCommands = {
      {"create", "create [command options] <container-id>", "create a container", cmdCreate},
      {"start", "start <container-id>", "start a created container", cmdStart},
      {"run", "run [command options] <container-id>", "create and start a container", cmdRun},
      {"state", "state <container-id>", "output the state of a container", cmdState},
      {"kill", "kill [command options] <container-id> [signal]", "send a signal to a container", cmdKill},
      {"delete", "delete [command options] <container-id>", "delete a container", cmdDelete},
      {"exec", "exec [command options] <container-id> <command> [args...]",
       "execute a new process inside a container", cmdExec},
      {"ps", "ps [command options] <container-id> [ps options]", "list the processes of a container", cmdPs},
      {"list", "list [command options]", "list containers", cmdList},
      {"pause", "pause <container-id>", "suspend every process of a container", cmdPause},
      {"resume", "resume <container-id>", "resume a paused container", cmdResume},
      {"update", "update [command options] <container-id>", "update a container's resource limits", cmdUpdate},
      {"features", "features", "show the features of this runtime (JSON)", cmdFeatures},
      {"spec", "spec [command options]", "create a default config.json", cmdSpec},
  };
  return kCommands;
}

namespace {

const std::vector<FlagSpec> kGlobalFlags = {
    {"root", nullptr, true, "state directory (default /run/berth-runtime)"},
    {"log", nullptr, true, "write errors and warnings to this file"},
    {"log-format", nullptr, true, "log format: text or json"},
    {"debug", nullptr, false, "print debug output"},
    {"systemd-cgroup", nullptr, false, "use the systemd cgroup driver (not supported)"},
    {"criu", nullptr, true, "accepted for runc compatibility; checkpointing is not supported"},
    {"rootless", nullptr, true, "accepted for runc compatibility"},
    {"help", "h", false, "show help"},
    {"version", "v", false, "print the version"},
};

void printHelp() {
  std::printf("Usage: berth-runtime [global options] command [command options] [arguments...]\n\nCommands:\n");
  for (const auto& c : commands()) std::printf("   %-10s %s\n", c.name, c.summary);
  std::printf("\nGlobal options:\n%s", usageOf(kGlobalFlags).c_str());
}

}  // namespace

int runtimeMain(int argc, char** argv) {
  // A vanished reader (a closed pipe) is an error to report, not a reason to die.
  ::signal(SIGPIPE, SIG_IGN);
  sys::rememberCommandLine(argc, argv);
  std::vector<std::string> args(argv, argv + argc);
  auto parsed = Args::parse(args, 1, kGlobalFlags);
  Globals g;
  if (!parsed) return fail(g, parsed.error());
  g.root = parsed->value("root", container::kDefaultStateRoot);
  g.logPath = parsed->value("log");
  g.logFormat = parsed->value("log-format", "text");
  g.debug = parsed->flag("debug");
  g.systemdCgroup = parsed->flag("systemd-cgroup");
  if (g.logFormat != "text" && g.logFormat != "json") {
    return fail(g, "--log-format must be text or json, got \"" + g.logFormat + "\"");
  }
  if (parsed->flag("version")) {
    std::printf("berth-runtime version %s\nspec: %s\n", BERTH_VERSION, container::kOciVersion);
    return 0;
  }
  if (parsed->flag("help") || parsed->positionals().empty()) {
    printHelp();
    return parsed->flag("help") ? 0 : 1;
  }
  if (g.systemdCgroup) {
    return fail(g, "--systemd-cgroup: the systemd cgroup driver is not supported; use the cgroupfs driver");
  }
  const std::string& verb = parsed->positionals()[0];
  size_t first = args.size() - parsed->positionals().size() + 1;
  for (const auto& c : commands()) {
    if (verb == c.name) return c.run(g, args, first);
  }
  return fail(g, "no such command \"" + verb + "\" (see berth-runtime --help)");
}

}  // namespace berth::runtime::cli

