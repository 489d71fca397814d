// Mapping of the run/create flags onto ContainerSpec.
#include "agent/cli/container_options.h"

#include "agent/cli/units.h"

namespace berth::agent::cli {

std::vector<FlagSpec> containerFlags() {
  return {
      {"name", 0, true, "NAME", "Assign a name to the container"},
      {"env", 'e', true, "K=V", "Set an environment variable (KEY alone: from this environment)"},
      {"env-file", 0, true, "FILE", "Read environment variables from a file"},
      {"workdir", 'w', true, "DIR", "Working directory inside the container"},
      {"user", 'u', true, "USER", "Username or UID (format: <name|uid>[:<group|gid>])"},
      {"entrypoint", 0, true, "CMD", "Overwrite the image's entrypoint (\"\" clears it)"},
      {"tty", 't', false, "", "Allocate a pseudo-TTY"},
      {"interactive", 'i', false, "", "Keep STDIN open and forward it"},
      {"memory", 'm', true, "SIZE", "Memory limit (512m, 1g, bytes)"},
      {"cpus", 0, true, "N", "Number of CPUs (1.5)"},
      {"pids-limit", 0, true, "N", "Process limit (-1: unlimited)"},
      {"restart", 0, true, "POLICY", "no, always, on-failure[:N] or unless-stopped"},
      {"rm", 0, false, "", "Remove the container when it exits"},
      {"hostname", 0, true, "NAME", "Container host name"},
      {"network", 0, true, "NAME", "Join this project network (created on first use)"},
      {"alias", 0, true, "NAME", "Further DNS name on the network"},
      {"publish", 'p', true, "HOST:CONTAINER[/PROTO]", "Publish a container port (tcp or udp)"},
      {"label", 'l', true, "K=V", "Set a label"},
      {"stop-signal", 0, true, "SIGNAL", "Signal that stops the container"},
      {"stop-timeout", 0, true, "SECS", "Seconds to wait before SIGKILL on stop"},
  };
}

sys::Result<std::string> resolveEnvArg(const std::string& arg, const EnvLookup& env) {
  if (arg.empty() || arg[0] == '=') {
    return sys::Error::invalid("invalid environment variable \"" + arg + "\": empty name");
  }
  if (arg.find('=') != std::string::npos) return arg;
  auto value = env ? env(arg) : std::nullopt;
  if (value) return arg + "=" + *value;
  return arg;
}

sys::Result<std::vector<std::string>> parseEnvFile(const std::string& content,
                                                   const std::string& path, const EnvLookup& env) {
  std::vector<std::string> out;
  size_t lineNo = 0;
  size_t start = 0;
  while (start <= content.size()) {
    size_t end = content.find('\n', start);
    if (end == std::string::npos) end = content.size();
    std::string line = content.substr(start, end - start);
    start = end + 1;
    ++lineNo;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    size_t first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    auto entry = resolveEnvArg(line.substr(first), env);
    if (!entry) return std::move(entry).error().context(path + ":" + std::to_string(lineNo));
    out.push_back(*entry);
  }
  return out;
}

std::pair<std::string, std::string> splitKeyValue(const std::string& text) {
  size_t eq = text.find('=');
  if (eq == std::string::npos) return {text, ""};
  return {text.substr(0, eq), text.substr(eq + 1)};
}

namespace {

sys::Result<void> addEnvironment(const ParsedArgs& args, const Io& io, pb::ContainerSpec& spec) {
  for (const auto& file : args.values("env-file")) {
    if (!io.readFile) return sys::Error::invalid("cannot read --env-file " + file);
    auto content = BERTH_TRY_CTX(io.readFile(file), "read --env-file");
    auto entries = BERTH_TRY(parseEnvFile(content, file, io.env));
    for (auto& e : entries) spec.add_env(std::move(e));
  }
  for (const auto& arg : args.values("env")) {
    spec.add_env(BERTH_TRY(resolveEnvArg(arg, io.env)));
  }
  return sys::ok();
}

sys::Result<void> addResources(const ParsedArgs& args, pb::ContainerSpec& spec) {
  if (args.has("memory"))
    spec.set_memory_bytes(BERTH_TRY_CTX(parseSize(args.value("memory")), "--memory"));
  if (args.has("cpus"))
    spec.set_nano_cpus(BERTH_TRY_CTX(parseNanoCpus(args.value("cpus")), "--cpus"));
  if (args.has("pids-limit")) {
    spec.set_pids_limit(
        BERTH_TRY_CTX(parseInteger(args.value("pids-limit"), -1, INT64_MAX >> 2), "--pids-limit"));
  }
  if (args.has("restart")) {
    *spec.mutable_restart() = BERTH_TRY_CTX(parseRestartPolicy(args.value("restart")), "--restart");
  }
  if (args.has("stop-timeout")) {
    spec.set_stop_timeout(static_cast<uint32_t>(
        BERTH_TRY_CTX(parseInteger(args.value("stop-timeout"), 0, 0xffffffff), "--stop-timeout")));
  }
  return sys::ok();
}

}  // namespace

sys::Result<pb::ContainerSpec> buildContainerSpec(const ParsedArgs& args, const Io& io) {
  const auto& positionals = args.positionals();
  if (positionals.empty()) return sys::Error::invalid("requires an IMAGE argument");
  pb::ContainerSpec spec;
  spec.set_image(positionals[0]);
  for (size_t i = 1; i < positionals.size(); ++i) spec.add_cmd(positionals[i]);
  spec.set_name(args.value("name"));
  spec.set_workdir(args.value("workdir"));
  spec.set_user(args.value("user"));
  if (args.has("entrypoint")) {
    auto* entrypoint = spec.mutable_entrypoint();
    if (!args.value("entrypoint").empty()) entrypoint->add_values(args.value("entrypoint"));
  }
  spec.set_tty(args.flag("tty"));
  spec.set_stdin(args.flag("interactive"));
  spec.set_auto_remove(args.flag("rm"));
  spec.set_hostname(args.value("hostname"));
  spec.set_stop_signal(args.value("stop-signal"));
  for (const auto& network : args.values("network")) spec.add_networks(network);
  for (const auto& alias : args.values("alias")) spec.add_aliases(alias);
  for (const auto& publish : args.values("publish")) spec.add_publish(publish);
  for (const auto& label : args.values("label")) {
    auto [key, value] = splitKeyValue(label);
    if (key.empty()) return sys::Error::invalid("invalid label \"" + label + "\": empty key");
    (*spec.mutable_labels())[key] = value;
  }
  BERTH_TRY(addEnvironment(args, io, spec));
  BERTH_TRY(addResources(args, spec));
  return spec;
}

}  // namespace berth::agent::cli
