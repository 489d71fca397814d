// Command-line parsing in docker's style: `--flag value`, `--flag=value`,
// `-f value`, `-fvalue`, grouped booleans (`-it`), repeatable flags
// (`-e A=1 -e B=2`) and `--` to end the flags. Commands that run a program
// (run, create, exec) stop at their first positional argument, so
// `berth run img ls -l` keeps `-l` for ls.
//
// Pure: no I/O, so every command's flags are unit-tested without a daemon.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "runtime/sys/result.h"

namespace berth::agent::cli {

struct FlagSpec {
  std::string name;    // long name without dashes: "name"
  char shortName = 0;  // 'd' for -d; 0: none
  bool takesValue = false;
  std::string valueName;  // shown in help: "SECS"
  std::string help;
};

class ParsedArgs {
 public:
  bool has(const std::string& name) const { return values_.count(name) != 0; }
  // The last value given (flags may repeat; the last wins), or `fallback`.
  std::string value(const std::string& name, const std::string& fallback = "") const;
  // Every value of a repeatable flag, in order.
  std::vector<std::string> values(const std::string& name) const;
  // A boolean flag: present and not set to false (`--rm=false`).
  bool flag(const std::string& name) const;
  const std::vector<std::string>& positionals() const { return positionals_; }
  bool helpRequested() const { return help_; }

 private:
  friend class ArgParser;
  std::map<std::string, std::vector<std::string>> values_;
  std::vector<std::string> positionals_;
  bool help_ = false;
};

struct ParseOptions {
  // Flags end at the first positional argument (run IMAGE CMD..., exec NAME CMD...).
  bool stopAtFirstPositional = false;
};

// Unknown flags, missing values and bad booleans are errors that name the flag.
// `--help` (and `-h` unless a flag of the command claims it) sets helpRequested().
sys::Result<ParsedArgs> parseArgs(const std::vector<std::string>& args,
                                  const std::vector<FlagSpec>& specs, ParseOptions options = {});

// The "Options:" block of a command's help.
std::string flagsHelp(const std::vector<FlagSpec>& specs);

}  // namespace berth::agent::cli
