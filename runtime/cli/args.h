// Command-line parsing in runc's style (urfave/cli): `--flag value`,
// `--flag=value`, `-f value`, boolean flags, and flag parsing that stops at
// the first positional argument (so `exec ID sh -c ...` keeps `-c` for sh).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "runtime/sys/result.h"

namespace berth::runtime::cli {

struct FlagSpec {
  const char* name;    // long name without dashes: "bundle"
  const char* alias;   // short alias without dash ("b") or nullptr
  bool takesValue;
  const char* help;
};

class Args {
 public:
  // Parses argv[begin..] against `flags`; unknown flags are errors.
  static sys::Result<Args> parse(const std::vector<std::string>& argv, size_t begin,
                                 const std::vector<FlagSpec>& flags);

  bool has(const std::string& name) const { return values_.count(name) != 0; }
  std::string value(const std::string& name, const std::string& fallback = "") const;
  const std::vector<std::string>& values(const std::string& name) const;
  bool flag(const std::string& name) const;
  const std::vector<std::string>& positionals() const { return positionals_; }

 private:
  std::map<std::string, std::vector<std::string>> values_;
  std::vector<std::string> positionals_;
};

std::string usageOf(const std::vector<FlagSpec>& flags);

}  // namespace berth::runtime::cli
