// The structured parts of a service: volumes (checked with berth run's -v
// parser after relative binds are resolved in the project), config files
// (read in now, from inside the project), depends_on, healthcheck, resources,
// and Compose's ports and deploy.
#include <limits>

#include "agent/engine/container_mounts.h"
#include "agent/project/service_parse.h"
#include "agent/project/source_files.h"
#include "runtime/sys/fs.h"

namespace berth::agent::project::detail {
namespace {

std::string listOf(const std::set<std::string>& names) {
  std::string out;
  for (const std::string& name : names) out += (out.empty() ? "" : ", ") + name;
  return out.empty() ? "none" : out;
}

// One short-syntax volume, as the -v text berth run accepts.
sys::Result<std::string> volumeText(ParseState& st, const YAML::Node& item, const std::string& where) {
  const Ctx& ctx = st.ctx;
  if (item.IsMap()) {
    return fail(ctx, item, where, "the long volume syntax is not supported by berth; write SOURCE:TARGET[:ro]");
  }
  std::string text = BERTH_TRY(scalarOf(ctx, item, where));
  size_t colon = text.find(':');
  if (colon == std::string::npos) {
    return fail(ctx, item, where,
                "'" + text + "': anonymous volumes are not supported; write NAME:" + text + " (and declare NAME) or ./dir:" + text);
  }
  std::string source = text.substr(0, colon);
  std::string rest = text.substr(colon + 1);
  if (source.starts_with("~")) {
    return fail(ctx, item, where, "'" + source + "': a home-relative path is not supported; use ./dir or an absolute path");
  }
  if (source.starts_with(".")) {
    auto host = bindSourceInside(ctx.sourceDir, source);
    if (!host) return fail(ctx, item, where, host.error().what());
    // Compose creates a missing bind source directory; berth does the same
    // at deploy time (the engine's "create" option), inside the project.
    bool create = !sys::pathExists(*host);
    text = *host + ":" + rest;
    if (create) text += rest.find(':') == std::string::npos ? ":create" : ",create";
  } else if (!source.starts_with("/") && !st.declaredVolumes.contains(source)) {
    return fail(ctx, item, where,
                "volume '" + source + "' is not declared in the top-level volumes: (declared: " +
                    listOf(st.declaredVolumes) + ")");
  }
  auto mount = engine::parseVolumeArg(text);
  if (!mount) return fail(ctx, item, where, mount.error().what());
  return text;
}

sys::Result<ConfigFile> configEntry(ParseState& st, const YAML::Node& item, const std::string& where) {
  const Ctx& ctx = st.ctx;
  bool compose = ctx.format == Format::kCompose;
  ConfigFile config;
  YAML::Node sourceNode;
  if (compose && item.IsScalar()) {
    sourceNode = item;
    config.source = item.Scalar();
  } else {
    if (!item.IsMap()) return fail(ctx, item, where, "expected {source: FILE, target: /path} or {content: TEXT, target: /path}");
    bool haveContent = false;
    for (const Entry& e : BERTH_TRY(entriesOf(ctx, item, where))) {
      std::string at = join(where, e.key);
      if (e.key == "source") {
        config.source = BERTH_TRY(scalarOf(ctx, e.value, at));
        sourceNode = e.value;
      } else if (e.key == "content" && !compose) {
        config.content = BERTH_TRY(scalarOf(ctx, e.value, at));
        haveContent = true;
      } else if (e.key == "target") {
        config.target = BERTH_TRY(scalarOf(ctx, e.value, at));
      } else if (e.key == "mode") {
        config.mode = BERTH_TRY(modeOf(ctx, e.value, at));
      } else if (e.key == "uid") {
        config.uid = static_cast<uint32_t>(BERTH_TRY(integerOf(ctx, e.value, at, 0, 4294967294)));
      } else if (e.key == "gid") {
        config.gid = static_cast<uint32_t>(BERTH_TRY(integerOf(ctx, e.value, at, 0, 4294967294)));
      } else if (compose) {
        return unknownKey(ctx, e, where, {"source", "target", "mode", "uid", "gid"});
      } else {
        return unknownKey(ctx, e, where, {"source", "content", "target", "mode", "uid", "gid"});
      }
    }
    if (haveContent == !config.source.empty()) {
      return fail(ctx, item, where, "expected exactly one of source: (a file in the project) or content:");
    }
  }
  if (compose) {
    auto top = st.configs.find(config.source);
    if (top == st.configs.end()) {
      return fail(ctx, sourceNode, where, "config '" + config.source + "' is not declared in the top-level configs:");
    }
    config.content = top->second.content;
    if (config.target.empty()) config.target = "/" + config.source;
    config.source = top->second.source;
  } else if (!config.source.empty()) {
    auto content = readInside(ctx.sourceDir, config.source);
    if (!content) return fail(ctx, sourceNode, join(where, "source"), content.error().what());
    config.content = std::move(*content);
  }
  if (!config.target.starts_with("/") || sys::cleanPath(config.target) == "/") {
    return fail(ctx, item, join(where, "target"), "expected an absolute file path in the container");
  }
  config.target = sys::cleanPath(config.target);
  return config;
}

sys::Result<DependCondition> conditionOf(const Ctx& ctx, const YAML::Node& node, const std::string& path) {
  std::string text = BERTH_TRY(scalarOf(ctx, node, path));
  if (text == "service_started") return DependCondition::kStarted;
  if (text == "service_healthy") return DependCondition::kHealthy;
  if (text == "service_completed_successfully") return DependCondition::kCompletedSuccessfully;
  return fail(ctx, node, path,
              "expected service_started, service_healthy or service_completed_successfully, got '" + text + "'");
}

sys::Result<uint16_t> portOf(const Ctx& ctx, const YAML::Node& node, const std::string& path,
                             const std::string& text) {
  bool digits = !text.empty() && text.size() <= 5 &&
                text.find_first_not_of("0123456789") == std::string::npos;
  int value = digits ? std::stoi(text) : 0;
  if (value < 1 || value > 65535) {
    return fail(ctx, node, path, "expected a port number from 1 to 65535, got '" + text + "'");
  }
  return static_cast<uint16_t>(value);
}

}  // namespace

sys::Result<std::vector<std::string>> parseVolumes(ParseState& st, const std::string& path,
                                                   const YAML::Node& node) {
  std::vector<std::string> out;
  if (node.IsNull()) return out;
  if (!node.IsSequence()) return st.ctx.format == Format::kBerth
                                     ? fail(st.ctx, node, path, "expected a list like [data:/var/lib/data, ./site:/srv:ro]")
                                     : fail(st.ctx, node, path, "expected a list of SOURCE:TARGET[:ro]");
  size_t index = 0;
  for (const YAML::Node& item : node) out.push_back(BERTH_TRY(volumeText(st, item, join(path, std::to_string(index++)))));
  return out;
}

sys::Result<std::vector<ConfigFile>> parseConfigs(ParseState& st, const std::string& path,
                                                  const YAML::Node& node) {
  std::vector<ConfigFile> out;
  if (node.IsNull()) return out;
  if (!node.IsSequence()) return fail(st.ctx, node, path, "expected a list of {source: FILE, target: /path}");
  size_t index = 0;
  for (const YAML::Node& item : node) out.push_back(BERTH_TRY(configEntry(st, item, join(path, std::to_string(index++)))));
  return out;
}

sys::Result<std::vector<Dependency>> parseDependsOn(ParseState& st, const std::string& self,
                                                    const std::string& path, const YAML::Node& node) {
  const Ctx& ctx = st.ctx;
  std::vector<Dependency> out;
  auto add = [&](const std::string& name, const YAML::Node& at, DependCondition condition) -> sys::Result<void> {
    if (!st.serviceNames.contains(name)) {
      return fail(ctx, at, path, "no service named '" + name + "' (services: " + listOf(st.serviceNames) + ")");
    }
    if (name == self) return fail(ctx, at, path, "a service cannot depend on itself");
    for (const Dependency& d : out) {
      if (d.service == name) return fail(ctx, at, path, "'" + name + "' is listed twice");
    }
    out.push_back(Dependency{name, condition});
    return sys::ok();
  };
  if (node.IsSequence()) {
    size_t index = 0;
    for (const YAML::Node& item : node) {
      BERTH_TRY(add(BERTH_TRY(scalarOf(ctx, item, join(path, std::to_string(index++)))), item, DependCondition::kStarted));
    }
    return out;
  }
  for (const Entry& e : BERTH_TRY(entriesOf(ctx, node, path))) {
    DependCondition condition = DependCondition::kStarted;
    std::string where = join(path, e.key);
    for (const Entry& inner : BERTH_TRY(entriesOf(ctx, e.value, where))) {
      if (inner.key != "condition") return unknownKey(ctx, inner, where, {"condition"});
      condition = BERTH_TRY(conditionOf(ctx, inner.value, join(where, inner.key)));
    }
    BERTH_TRY(add(e.key, e.keyNode, condition));
  }
  return out;
}

sys::Result<HealthCheck> parseHealthcheck(const Ctx& ctx, const std::string& path, const YAML::Node& node) {
  HealthCheck check;
  bool disable = false;
  for (const Entry& e : BERTH_TRY(entriesOf(ctx, node, path))) {
    std::string where = join(path, e.key);
    if (e.key == "test") {
      if (e.value.IsScalar()) {
        check.test = {"CMD-SHELL", e.value.Scalar()};
      } else {
        check.test = BERTH_TRY(stringsOf(ctx, e.value, where, false));
        const std::string first = check.test.empty() ? "" : check.test[0];
        bool ok = (first == "CMD" && check.test.size() >= 2) || (first == "CMD-SHELL" && check.test.size() == 2) ||
                  (first == "NONE" && check.test.size() == 1);
        if (!ok) return fail(ctx, e.value, where, "expected [CMD, arg...], [CMD-SHELL, command], [NONE] or a shell command string");
      }
    } else if (e.key == "interval") {
      check.interval = BERTH_TRY(durationOf(ctx, e.value, where));
    } else if (e.key == "timeout") {
      check.timeout = BERTH_TRY(durationOf(ctx, e.value, where));
    } else if (e.key == "start_period") {
      check.startPeriod = BERTH_TRY(durationOf(ctx, e.value, where));
    } else if (e.key == "retries") {
      check.retries = static_cast<int>(BERTH_TRY(integerOf(ctx, e.value, where, 1, 1000)));
    } else if (e.key == "disable") {
      disable = BERTH_TRY(boolOf(ctx, e.value, where));
    } else {
      return unknownKey(ctx, e, path, {"test", "interval", "timeout", "start_period", "retries", "disable"});
    }
  }
  if ((check.interval.count() == 0 || check.timeout.count() == 0) && !disable) {
    return fail(ctx, node, path, "interval and timeout must be longer than 0");
  }
  if (disable) check.test = {"NONE"};
  return check;
}

sys::Result<int64_t> memoryOf(const Ctx& ctx, const YAML::Node& node, const std::string& path) {
  uint64_t bytes = BERTH_TRY(sizeOf(ctx, node, path));
  if (bytes < (uint64_t{6} << 20) || bytes > uint64_t(std::numeric_limits<int64_t>::max())) {
    return fail(ctx, node, path, "a memory limit must be at least 6M");
  }
  return static_cast<int64_t>(bytes);
}

sys::Result<int64_t> pidsOf(const Ctx& ctx, const YAML::Node& node, const std::string& path) {
  int64_t pids = BERTH_TRY(integerOf(ctx, node, path, -1, 4194304));
  if (pids == 0) return fail(ctx, node, path, "expected -1 (unlimited) or a number of processes from 1");
  return pids;
}

sys::Result<Resources> parseResources(const Ctx& ctx, const std::string& path, const YAML::Node& node,
                                      Resources r) {
  bool compose = ctx.format == Format::kCompose;
  for (const Entry& e : BERTH_TRY(entriesOf(ctx, node, path))) {
    std::string where = join(path, e.key);
    if (e.key == "memory") {
      r.memoryBytes = BERTH_TRY(memoryOf(ctx, e.value, where));
    } else if (e.key == "cpus") {
      r.nanoCpus = BERTH_TRY(nanoCpusOf(ctx, e.value, where));
    } else if (e.key == "pids") {
      r.pids = BERTH_TRY(pidsOf(ctx, e.value, where));
    } else if (e.key == "disk" && !compose) {
      r.diskBytes = BERTH_TRY(sizeOf(ctx, e.value, where));
      if (r.diskBytes < (uint64_t{16} << 20)) return fail(ctx, e.value, where, "a disk limit must be at least 16M");
    } else if (compose) {
      return unknownKey(ctx, e, path, {"memory", "cpus", "pids"});
    } else {
      return unknownKey(ctx, e, path, {"memory", "cpus", "disk", "pids"});
    }
  }
  return r;
}

sys::Result<void> parsePorts(ParseState& st, Service& s, const std::string& path, const YAML::Node& node) {
  const Ctx& ctx = st.ctx;
  std::vector<std::string> items;
  if (!node.IsSequence()) return fail(ctx, node, path, "expected a list like [\"8080:80\"]");
  if (node.size() > 1) return fail(ctx, node, path, "berth serves one port per service; list one");
  for (const YAML::Node& item : node) {
    std::string where = join(path, "0");
    std::string host, target;
    if (item.IsMap()) {
      for (const Entry& e : BERTH_TRY(entriesOf(ctx, item, where))) {
        if (e.key == "target") target = BERTH_TRY(scalarOf(ctx, e.value, join(where, e.key)));
        else if (e.key == "published") host = BERTH_TRY(scalarOf(ctx, e.value, join(where, e.key)));
        else if (e.key == "protocol" && e.value.IsScalar() && e.value.Scalar() == "tcp") continue;
        else return fail(ctx, e.keyNode, join(where, e.key), "not supported by berth (target, published, protocol: tcp)");
      }
    } else {
      std::string text = BERTH_TRY(scalarOf(ctx, item, where));
      if (text.ends_with("/tcp")) text.resize(text.size() - 4);
      if (text.find('/') != std::string::npos) return fail(ctx, item, where, "only tcp ports are supported by berth");
      size_t colon = text.find(':');
      if (colon != text.rfind(':')) return fail(ctx, item, where, "binding a host address is not supported by berth; write HOST_PORT:PORT");
      host = colon == std::string::npos ? "" : text.substr(0, colon);
      target = colon == std::string::npos ? text : text.substr(colon + 1);
    }
    s.port = BERTH_TRY(portOf(ctx, item, where, target));
    if (!host.empty()) st.hostPorts[s.name] = {BERTH_TRY(portOf(ctx, item, where, host)), markOf(ctx, item)};
  }
  return sys::ok();
}

sys::Result<void> parseDeploy(const Ctx& ctx, Service& s, const std::string& path, const YAML::Node& node) {
  for (const Entry& e : BERTH_TRY(entriesOf(ctx, node, path))) {
    std::string where = join(path, e.key);
    if (e.key != "resources") return unknownKey(ctx, e, path, {"resources"});
    for (const Entry& inner : BERTH_TRY(entriesOf(ctx, e.value, where))) {
      if (inner.key != "limits") return unknownKey(ctx, inner, where, {"limits"});
      s.resources = BERTH_TRY(parseResources(ctx, join(where, inner.key), inner.value, s.resources));
    }
  }
  return sys::ok();
}

sys::Result<void> parseTopLevelConfigs(ParseState& st, const YAML::Node& node) {
  const Ctx& ctx = st.ctx;
  for (const Entry& e : BERTH_TRY(entriesOf(ctx, node, "configs"))) {
    std::string where = join("configs", e.key);
    ConfigFile config;
    bool have = false;
    for (const Entry& inner : BERTH_TRY(entriesOf(ctx, e.value, where))) {
      std::string at = join(where, inner.key);
      if (inner.key == "file") {
        config.source = BERTH_TRY(scalarOf(ctx, inner.value, at));
        auto content = readInside(ctx.sourceDir, config.source);
        if (!content) return fail(ctx, inner.value, at, content.error().what());
        config.content = std::move(*content);
      } else if (inner.key == "content") {
        config.content = BERTH_TRY(scalarOf(ctx, inner.value, at));
      } else {
        return unknownKey(ctx, inner, where, {"file", "content"});
      }
      if (have) return fail(ctx, inner.keyNode, at, "expected only one of file: or content:");
      have = true;
    }
    if (!have) return fail(ctx, e.keyNode, where, "expected file: PATH or content: TEXT");
    st.configs[e.key] = std::move(config);
  }
  return sys::ok();
}

sys::Result<uint32_t> modeOf(const Ctx& ctx, const YAML::Node& node, const std::string& path) {
  std::string text = BERTH_TRY(scalarOf(ctx, node, path));
  std::string digits = text;
  int base = 10;
  if (digits.starts_with("0o")) {
    digits = digits.substr(2);
    base = 8;
  } else if (digits.size() > 1 && digits[0] == '0') {
    base = 8;
  }
  bool ok = !digits.empty() && digits.size() <= 5 &&
            digits.find_first_not_of(base == 8 ? "01234567" : "0123456789") == std::string::npos;
  uint32_t mode = ok ? static_cast<uint32_t>(std::stoul(digits, nullptr, base)) : 0;
  if (!ok || mode > 07777) return fail(ctx, node, path, "expected a file mode like 0444 or 0640, got '" + text + "'");
  return mode;
}

}  // namespace berth::agent::project::detail
