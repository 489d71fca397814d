// A service's keys, one by one: berth.yaml's vocabulary (port, aliases,
// resources) or Compose's (ports, deploy, mem_limit, cpus, pids_limit), the
// rest shared. Anything else is an error naming the key.
#include <algorithm>

#include "agent/engine/container_mounts.h"
#include "agent/project/service_parse.h"
#include "agent/project/source_files.h"

namespace berth::agent::project::detail {
namespace {

sys::Error unknownServiceKey(const Ctx& ctx, const Entry& entry, const std::string& path) {
  if (ctx.format == Format::kCompose) {
    return unknownKey(ctx, entry, path,
                      {"image", "build", "command", "entrypoint", "environment", "env_file", "volumes",
                       "configs", "hostname", "depends_on", "healthcheck", "restart", "labels", "user",
                       "working_dir", "stop_signal", "stop_grace_period", "ports", "deploy",
                       "mem_limit", "cpus", "pids_limit"});
  }
  return unknownKey(ctx, entry, path,
                    {"image", "build", "port", "command", "entrypoint", "environment", "env_file",
                     "volumes", "configs", "hostname", "aliases", "depends_on", "healthcheck",
                     "restart", "resources", "labels", "user", "working_dir", "stop_signal",
                     "stop_grace_period"});
}

sys::Result<void> claimName(ParseState& st, const std::string& service, const std::string& name,
                            const YAML::Node& at, const std::string& path) {
  if (!isDnsLabel(name)) {
    return fail(st.ctx, at, path, "'" + name + "' is not a valid DNS name (a-z, 0-9 and '-', at most 63)");
  }
  auto [it, inserted] = st.dnsOwners.emplace(name, service);
  if (!inserted && it->second != service) {
    return fail(st.ctx, at, path, "the name '" + name + "' is already used by service " + it->second);
  }
  return sys::ok();
}

sys::Result<Restart> restartOf(const Ctx& ctx, const YAML::Node& node, const std::string& path) {
  std::string text = BERTH_TRY(scalarOf(ctx, node, path));
  if (text == "no" || text == "false") return Restart::kNo;
  if (text == "always") return Restart::kAlways;
  if (text == "on-failure") return Restart::kOnFailure;
  if (text == "unless-stopped") return Restart::kUnlessStopped;
  return fail(ctx, node, path,
              "expected no, always, on-failure or unless-stopped, got '" + text + "'");
}

sys::Result<void> parseBuild(const ParseState& st, Service& s, const std::string& path,
                             const YAML::Node& node) {
  const Ctx& ctx = st.ctx;
  std::string context = ".";
  std::string dockerfile;
  YAML::Node at = node;
  if (node.IsScalar()) {
    context = node.Scalar();
  } else {
    for (const Entry& e : BERTH_TRY(entriesOf(ctx, node, path))) {
      if (e.key == "context") {
        context = BERTH_TRY(scalarOf(ctx, e.value, join(path, e.key)));
        at = e.value;
      } else if (e.key == "dockerfile") {
        dockerfile = BERTH_TRY(scalarOf(ctx, e.value, join(path, e.key)));
      } else {
        return unknownKey(ctx, e, path, {"context", "dockerfile"});
      }
    }
  }
  auto inside = relativeInside(ctx.sourceDir, context);
  if (!inside) return fail(ctx, at, path, inside.error().what());
  s.buildContext = *inside;
  if (!dockerfile.empty()) {
    auto file = relativeInside(ctx.sourceDir, s.buildContext + "/" + dockerfile);
    if (!file) return fail(ctx, node, join(path, "dockerfile"), file.error().what());
    s.dockerfile = dockerfile;
  }
  return sys::ok();
}

sys::Result<std::vector<std::string>> readEnvFiles(const Ctx& ctx, const std::string& path,
                                                   const YAML::Node& node) {
  std::vector<std::string> env;
  for (const std::string& file : BERTH_TRY(stringsOf(ctx, node, path, true))) {
    auto content = readInside(ctx.sourceDir, file);
    if (!content) return fail(ctx, node, path, content.error().what());
    auto lines = parseEnvFile(*content, file);
    if (!lines) return fail(ctx, node, path, lines.error().what());
    env.insert(env.end(), lines->begin(), lines->end());
  }
  return env;
}

// env_file entries first, then environment:, a later KEY replacing the
// earlier one in place (one value per key reaches the container).
std::vector<std::string> mergeEnvironment(const std::vector<std::string>& fromFiles,
                                          const std::vector<std::pair<std::string, std::string>>& env) {
  std::vector<std::string> out;
  std::map<std::string, size_t> index;
  auto put = [&](const std::string& key, const std::string& line) {
    auto [it, inserted] = index.emplace(key, out.size());
    if (inserted) {
      out.push_back(line);
    } else {
      out[it->second] = line;
    }
  };
  for (const std::string& line : fromFiles) put(line.substr(0, line.find('=')), line);
  for (const auto& [key, value] : env) put(key, key + "=" + value);
  return out;
}

sys::Result<std::string> signalOf(const Ctx& ctx, const YAML::Node& node, const std::string& path) {
  std::string text = BERTH_TRY(scalarOf(ctx, node, path));
  bool ok = !text.empty() && text.size() <= 16 &&
            std::all_of(text.begin(), text.end(), [](char c) {
              return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' || c == '-';
            });
  if (!ok) return fail(ctx, node, path, "expected a signal name like SIGTERM or SIGQUIT, got '" + text + "'");
  return text;
}

// Two mounts (volumes or configs) on one path would hide each other.
sys::Result<void> checkDestinations(const Ctx& ctx, const Service& s, const YAML::Node& at,
                                    const std::string& path) {
  std::set<std::string> seen;
  for (const std::string& volume : s.volumes) {
    auto mount = engine::parseVolumeArg(volume);
    if (mount && !seen.insert(mount->destination).second) {
      return fail(ctx, at, path, "two mounts on " + mount->destination);
    }
  }
  for (const ConfigFile& config : s.configs) {
    if (!seen.insert(config.target).second) return fail(ctx, at, path, "two mounts on " + config.target);
  }
  return sys::ok();
}

// A service while its keys are read, with what the checks at the end need.
struct Pending {
  Service s;
  std::vector<std::string> fromFiles;
  std::vector<std::pair<std::string, std::string>> env;
  std::vector<std::pair<std::string, YAML::Node>> aliases;
  YAML::Node hostnameNode;
  YAML::Node mountsNode;
};

sys::Result<void> readKey(ParseState& st, Pending& p, const std::string& path, const Entry& e) {
  const Ctx& ctx = st.ctx;
  bool compose = ctx.format == Format::kCompose;
  std::string where = join(path, e.key);
  const YAML::Node& v = e.value;
  const std::string& k = e.key;
  if (k == "image") {
    p.s.image = BERTH_TRY(scalarOf(ctx, v, where));
    if (p.s.image.empty()) return fail(ctx, v, where, "empty image reference");
  } else if (k == "build") {
    BERTH_TRY(parseBuild(st, p.s, where, v));
  } else if (k == "command") {
    p.s.command = BERTH_TRY(commandOf(ctx, v, where));
  } else if (k == "entrypoint") {
    p.s.entrypoint = BERTH_TRY(commandOf(ctx, v, where));
  } else if (k == "environment") {
    p.env = BERTH_TRY(keyValuesOf(ctx, v, where));
    for (const auto& [key, value] : p.env) {
      if (!isEnvName(key)) return fail(ctx, v, where, "'" + key + "' is not a variable name");
    }
  } else if (k == "env_file") {
    p.fromFiles = BERTH_TRY(readEnvFiles(ctx, where, v));
  } else if (k == "volumes") {
    p.s.volumes = BERTH_TRY(parseVolumes(st, where, v));
    p.mountsNode = e.keyNode;
  } else if (k == "configs") {
    p.s.configs = BERTH_TRY(parseConfigs(st, where, v));
    p.mountsNode = e.keyNode;
  } else if (k == "hostname") {
    p.s.hostname = BERTH_TRY(scalarOf(ctx, v, where));
    p.hostnameNode = v;
  } else if (k == "depends_on") {
    p.s.dependsOn = BERTH_TRY(parseDependsOn(st, p.s.name, where, v));
    st.dependsOnMarks[p.s.name] = markOf(ctx, e.keyNode);
  } else if (k == "healthcheck") {
    p.s.healthcheck = BERTH_TRY(parseHealthcheck(ctx, where, v));
  } else if (k == "restart") {
    p.s.restart = BERTH_TRY(restartOf(ctx, v, where));
  } else if (k == "labels") {
    for (auto& [key, value] : BERTH_TRY(keyValuesOf(ctx, v, where))) {
      if (key.starts_with("berth.")) return fail(ctx, v, where, "labels starting with 'berth.' are berth's own");
      p.s.labels[key] = value;
    }
  } else if (k == "user") {
    p.s.user = BERTH_TRY(scalarOf(ctx, v, where));
  } else if (k == "working_dir") {
    p.s.workingDir = BERTH_TRY(scalarOf(ctx, v, where));
    if (!p.s.workingDir.starts_with("/")) return fail(ctx, v, where, "expected an absolute path in the container");
  } else if (k == "stop_signal") {
    p.s.stopSignal = BERTH_TRY(signalOf(ctx, v, where));
  } else if (k == "stop_grace_period") {
    auto ms = BERTH_TRY(durationOf(ctx, v, where)).count();
    if (ms > int64_t{86400} * 1000) return fail(ctx, v, where, "at most 24h");
    p.s.stopGracePeriodSeconds = static_cast<uint32_t>((ms + 999) / 1000);
  } else if (!compose && k == "port") {
    p.s.port = static_cast<uint16_t>(BERTH_TRY(integerOf(ctx, v, where, 1, 65535)));
  } else if (!compose && k == "aliases") {
    if (v.IsSequence()) {
      size_t index = 0;
      for (const YAML::Node& item : v) {
        p.aliases.emplace_back(BERTH_TRY(scalarOf(ctx, item, join(where, std::to_string(index++)))), item);
      }
    } else {
      p.aliases.emplace_back(BERTH_TRY(scalarOf(ctx, v, where)), v);
    }
  } else if (!compose && k == "resources") {
    p.s.resources = BERTH_TRY(parseResources(ctx, where, v, p.s.resources));
  } else if (compose && k == "ports") {
    BERTH_TRY(parsePorts(st, p.s, where, v));
  } else if (compose && k == "deploy") {
    BERTH_TRY(parseDeploy(ctx, p.s, where, v));
  } else if (compose && k == "mem_limit") {
    p.s.resources.memoryBytes = BERTH_TRY(memoryOf(ctx, v, where));
  } else if (compose && k == "cpus") {
    p.s.resources.nanoCpus = BERTH_TRY(nanoCpusOf(ctx, v, where));
  } else if (compose && k == "pids_limit") {
    p.s.resources.pids = BERTH_TRY(pidsOf(ctx, v, where));
  } else {
    return unknownServiceKey(ctx, e, path);
  }
  return sys::ok();
}

}  // namespace

sys::Result<Service> parseService(ParseState& st, const std::string& name, const std::string& path,
                                  const YAML::Node& body) {
  const Ctx& ctx = st.ctx;
  if (body.IsNull() || !body.IsMap()) return fail(ctx, body, path, "expected a mapping with at least image:");
  Pending p;
  p.s.name = name;
  p.s.isMain = name == "main";
  p.s.mark = markOf(ctx, body);
  p.mountsNode = body;
  for (const Entry& e : BERTH_TRY(entriesOf(ctx, body, path))) BERTH_TRY(readKey(st, p, path, e));
  Service& s = p.s;
  if (s.image.empty() && s.buildContext.empty()) {
    return fail(ctx, body, path, "a service needs an image (image: NAME[:TAG])");
  }
  s.environment = mergeEnvironment(p.fromFiles, p.env);
  if (!s.hostname.empty()) BERTH_TRY(claimName(st, name, s.hostname, p.hostnameNode, join(path, "hostname")));
  for (const auto& [alias, node] : p.aliases) {
    BERTH_TRY(claimName(st, name, alias, node, join(path, "aliases")));
    if (std::find(s.aliases.begin(), s.aliases.end(), alias) == s.aliases.end()) s.aliases.push_back(alias);
  }
  BERTH_TRY(checkDestinations(ctx, s, p.mountsNode, path));
  return std::move(p.s);
}

}  // namespace berth::agent::project::detail
