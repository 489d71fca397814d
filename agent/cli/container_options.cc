// Mapping of the run/create flags onto ContainerSpec.
#include "agent/cli/container_options.h"

#include <charconv>

#include "agent/cli/units.h"
#include "agent/engine/container_mounts.h"
#include "storage/disk/disk.h"

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
      {"volume", 'v', true, "SRC:DST[:OPTS]",
       "Mount a named volume (NAME:/path) or a host path (/host:/path); OPTS: ro, rw, "
       "rprivate|rshared|rslave|private|shared|slave, create (host path), nocopy (volume)"},
      {"config", 0, true, "FILE:/path[:MODE[:UID:GID]]",
       "Mount FILE's content read-only at /path (mode 0444, the container's user by default)"},
      {"disk", 0, true, "SIZE", "Limit the container's writable layer (64M, 10G)"},
      {"stop-signal", 0, true, "SIGNAL", "Signal that stops the container"},
      {"stop-timeout", 0, true, "SECS", "Seconds to wait before SIGKILL on stop"},
      {"health-cmd", 0, true, "CMD", "Command to run to check health (run by /bin/sh -c)"},
      {"health-interval", 0, true, "DURATION", "Time between health checks (default 30s)"},
      {"health-timeout", 0, true, "DURATION", "Longest a health check may run (default 30s)"},
      {"health-start-period", 0, true, "DURATION",
       "Time to start before failed checks count (default 0s)"},
      {"health-retries", 0, true, "N", "Consecutive failures to report unhealthy (default 3)"},
      {"no-healthcheck", 0, false, "", "Disable any container-specified HEALTHCHECK"},
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

sys::Result<uint32_t> parseNumber(std::string_view text, int base, uint32_t max,
                                  const std::string& what) {
  uint32_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value > max) {
    return sys::Error::invalid(what + " \"" + std::string(text) + "\" is invalid");
  }
  return value;
}

}  // namespace

sys::Result<pb::ConfigFile> parseConfigArg(const std::string& arg, const Io& io) {
  const std::string what = "--config " + arg;
  std::vector<std::string> parts;
  for (size_t start = 0;;) {
    size_t colon = arg.find(':', start);
    parts.push_back(arg.substr(start, colon == std::string::npos ? colon : colon - start));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  if (parts.size() < 2 || parts.size() == 4 || parts.size() > 5 || parts[0].empty()) {
    return sys::Error::invalid(what + ": expected FILE:/path[:MODE[:UID:GID]]");
  }
  if (parts[1].empty() || parts[1].front() != '/' || parts[1].back() == '/') {
    return sys::Error::invalid(what + ": the target must be an absolute file path");
  }
  pb::ConfigFile config;
  config.set_target(parts[1]);
  if (parts.size() >= 3 && !parts[2].empty()) {
    config.set_mode(BERTH_TRY(parseNumber(parts[2], 8, 07777, what + ": mode")));
  }
  if (parts.size() == 5) {
    config.set_uid(BERTH_TRY(parseNumber(parts[3], 10, 0xfffffffe, what + ": uid")));
    config.set_gid(BERTH_TRY(parseNumber(parts[4], 10, 0xfffffffe, what + ": gid")));
  }
  if (!io.readFile) return sys::Error::invalid("cannot read " + parts[0]);
  config.set_content(BERTH_TRY_CTX(io.readFile(parts[0]), what));
  return config;
}

namespace {

sys::Result<void> addStorage(const ParsedArgs& args, const Io& io, pb::ContainerSpec& spec) {
  for (const auto& volume : args.values("volume")) {
    // Checked here for a usage error before anything is sent; berthd checks again.
    BERTH_TRY(engine::parseVolumeArg(volume));
    spec.add_volumes(volume);
  }
  for (const auto& config : args.values("config")) {
    *spec.add_configs() = BERTH_TRY(parseConfigArg(config, io));
  }
  if (args.has("disk")) {
    spec.set_disk_bytes(BERTH_TRY_CTX(storage::disk::parseSize(args.value("disk")), "--disk"));
  }
  return sys::ok();
}

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

// A duration flag in whole milliseconds (at least 1 ms, as Docker wants).
sys::Result<uint64_t> healthDurationMs(const ParsedArgs& args, const char* flag) {
  int64_t ns = BERTH_TRY_CTX(parseDurationNs(args.value(flag)), std::string("--") + flag);
  if (ns < 1000000) {
    return sys::Error::invalid(std::string("--") + flag + ": must be at least 1ms, not \"" +
                               args.value(flag) + "\"");
  }
  return static_cast<uint64_t>(ns / 1000000);
}

// --health-* and --no-healthcheck; unset fields take the image's values.
sys::Result<void> addHealthcheck(const ParsedArgs& args, pb::ContainerSpec& spec) {
  static constexpr const char* kTuning[] = {"health-interval", "health-timeout",
                                            "health-start-period", "health-retries"};
  bool tuned = false;
  for (const char* flag : kTuning) tuned = tuned || args.has(flag);
  if (args.flag("no-healthcheck")) {
    if (tuned || args.has("health-cmd")) {
      return sys::Error::invalid("--no-healthcheck conflicts with --health-* options");
    }
    spec.mutable_healthcheck()->add_test("NONE");
    return sys::ok();
  }
  if (!tuned && !args.has("health-cmd")) return sys::ok();
  pb::HealthCheck* h = spec.mutable_healthcheck();
  if (args.has("health-cmd")) {
    if (args.value("health-cmd").empty()) return sys::Error::invalid("--health-cmd: empty command");
    h->add_test("CMD-SHELL");
    h->add_test(args.value("health-cmd"));
  }
  if (args.has("health-interval")) h->set_interval_ms(BERTH_TRY(healthDurationMs(args, "health-interval")));
  if (args.has("health-timeout")) h->set_timeout_ms(BERTH_TRY(healthDurationMs(args, "health-timeout")));
  if (args.has("health-start-period")) {
    h->set_start_period_ms(BERTH_TRY(healthDurationMs(args, "health-start-period")));
  }
  if (args.has("health-retries")) {
    h->set_retries(static_cast<uint32_t>(
        BERTH_TRY_CTX(parseInteger(args.value("health-retries"), 0, 0xffffffff), "--health-retries")));
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
  BERTH_TRY(addStorage(args, io, spec));
  BERTH_TRY(addHealthcheck(args, spec));
  return spec;
}

}  // namespace berth::agent::cli
