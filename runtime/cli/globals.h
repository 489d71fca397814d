// What every berth-runtime command shares: the global flags, the log sink
// (--log, --log-format text|json, as containerd's shim and conmon read it),
// and the command table.
#pragma once

#include <string>
#include <vector>

#include "runtime/cli/args.h"
#include "runtime/sys/result.h"

namespace berth::runtime::cli {

struct Globals {
  std::string root;
  std::string logPath;
  std::string logFormat = "text";
  bool debug = false;
  bool systemdCgroup = false;
};

// Reports an error on stderr and in the --log file; returns the exit code 1.
int fail(const Globals& g, const sys::Error& error);
int fail(const Globals& g, const std::string& message);
void warn(const Globals& g, const std::string& message);
void debug(const Globals& g, const std::string& message);

using CommandFn = int (*)(const Globals&, const std::vector<std::string>& argv, size_t first);

struct Command {
  const char* name;
  const char* usage;    // "create [command options] <container-id>"
  const char* summary;
  CommandFn run;
};

const std::vector<Command>& commands();

// The whole command line: global flags, then the verb.
int runtimeMain(int argc, char** argv);

// Parses a command's flags; prints usage and returns false (with *exitCode) on
// --help or a parse error.
bool parseCommandArgs(const Globals& g, const Command& cmd, const std::vector<FlagSpec>& flags,
                      const std::vector<std::string>& argv, size_t first, Args* out, int* exitCode);

// The single container id positional most commands take.
bool takeContainerId(const Globals& g, const Args& args, std::string* id, int* exitCode);

// Each verb, one file each (cmd_*.cc).
int cmdCreate(const Globals&, const std::vector<std::string>&, size_t);
int cmdStart(const Globals&, const std::vector<std::string>&, size_t);
int cmdRun(const Globals&, const std::vector<std::string>&, size_t);
int cmdState(const Globals&, const std::vector<std::string>&, size_t);
int cmdKill(const Globals&, const std::vector<std::string>&, size_t);
int cmdDelete(const Globals&, const std::vector<std::string>&, size_t);
int cmdExec(const Globals&, const std::vector<std::string>&, size_t);
int cmdPs(const Globals&, const std::vector<std::string>&, size_t);
int cmdList(const Globals&, const std::vector<std::string>&, size_t);
int cmdPause(const Globals&, const std::vector<std::string>&, size_t);
int cmdResume(const Globals&, const std::vector<std::string>&, size_t);
int cmdUpdate(const Globals&, const std::vector<std::string>&, size_t);
int cmdFeatures(const Globals&, const std::vector<std::string>&, size_t);
int cmdSpec(const Globals&, const std::vector<std::string>&, size_t);

}  // namespace berth::runtime::cli
