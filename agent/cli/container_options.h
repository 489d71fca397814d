// `berth run` / `berth create` flags -> the ContainerSpec berthd receives.
//
// Pure apart from the lookups it is handed (environment, --env-file
// contents), so every flag's mapping is unit-tested.
#pragma once

#include <string>
#include <vector>

#include "agent/api/status.h"
#include "agent/cli/args.h"
#include "agent/cli/context.h"

namespace berth::agent::cli {

namespace pb = ::berth::api;

// The flags shared by run and create (run adds -d).
std::vector<FlagSpec> containerFlags();

// One -e value: "K=V" as is; a bare "K" takes K's value from the CLI's own
// environment when it has one (docker), else stays "K". "=V" is an error.
sys::Result<std::string> resolveEnvArg(const std::string& arg, const EnvLookup& env);

// An --env-file's lines: blank lines and '#' comments skipped, leading
// whitespace dropped, each entry as resolveEnvArg; errors name file and line.
sys::Result<std::vector<std::string>> parseEnvFile(const std::string& content,
                                                   const std::string& path, const EnvLookup& env);

// "K=V" -> {K, V}; "K" -> {K, ""} (labels).
std::pair<std::string, std::string> splitKeyValue(const std::string& text);

// One --config: "FILE:/path[:MODE[:UID:GID]]" (MODE octal); FILE is read
// through io.readFile.
sys::Result<pb::ConfigFile> parseConfigArg(const std::string& arg, const Io& io);

// positionals: IMAGE [CMD...]. Env files come first, -e after (so -e wins).
sys::Result<pb::ContainerSpec> buildContainerSpec(const ParsedArgs& args, const Io& io);

}  // namespace berth::agent::cli
