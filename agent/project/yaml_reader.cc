// The YAML walking and scalar conversions of the project file parser: marks,
// messages, unknown-key suggestions, and the units of the model.
#include "agent/project/yaml_reader.h"

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <set>

#include "storage/disk/disk.h"

namespace berth::agent::project::detail {
namespace {

// Compose keys (service and top level) a Compose user may bring that berth
// does not implement: reported as such rather than as typos.
constexpr std::string_view kUnsupportedCompose[] = {
    "network_mode", "networks", "privileged", "cap_add", "cap_drop", "devices", "dns",
    "dns_search", "dns_opt", "extra_hosts", "ipc", "pid", "security_opt", "sysctls", "ulimits",
    "logging", "links", "external_links", "tmpfs", "shm_size", "tty", "stdin_open", "init",
    "platform", "profiles", "secrets", "container_name", "domainname", "mac_address",
    "userns_mode", "cgroup_parent", "cgroup", "cpu_shares", "cpu_quota", "cpu_period",
    "cpuset", "mem_reservation", "memswap_limit", "oom_score_adj", "oom_kill_disable",
    "group_add", "read_only", "scale", "runtime", "storage_opt", "volumes_from", "expose",
    "include", "develop", "annotations", "attach", "blkio_config", "credential_spec",
    "device_cgroup_rules", "isolation", "pull_policy", "external", "driver", "driver_opts",
    "replicas", "placement", "restart_policy", "update_config", "rollback_config",
    "reservations", "endpoint_mode", "mode", "start_interval", "required", "restart",
    "environment", "name", "labels", "uts", "post_start", "pre_stop", "gpus", "models"};

size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// What a berth.yaml writer probably meant when using Compose's words.
std::string_view berthHint(std::string_view key) {
  if (key == "ports") return "berth.yaml uses port: (the container port) and a top-level publish:";
  if (key == "deploy" || key == "mem_limit" || key == "cpus" || key == "pids_limit") {
    return "berth.yaml uses resources: {memory, cpus, disk, pids}";
  }
  if (key == "configs") return "berth.yaml has no top-level configs: write them in the service";
  return "";
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

SourceMark markOf(const Ctx& ctx, const YAML::Node& node) {
  YAML::Mark mark = node.Mark();
  // A node yaml-cpp made up (an empty document) has no position: say 1:1.
  if (mark.line < 0 || mark.column < 0) return SourceMark{ctx.file, 1, 1};
  return SourceMark{ctx.file, mark.line + 1, mark.column + 1};
}

sys::Error failAt(const SourceMark& mark, std::string_view path, std::string_view what) {
  std::string text = mark.file + ":" + std::to_string(mark.line) + ":" + std::to_string(mark.column) + ": ";
  text += path.empty() ? std::string_view("(top level)") : path;
  text += ": ";
  text += what;
  return sys::Error::invalid(std::move(text));
}

sys::Error fail(const Ctx& ctx, const YAML::Node& at, std::string_view path, std::string_view what) {
  return failAt(markOf(ctx, at), path, what);
}

std::string join(std::string_view path, std::string_view key) {
  if (path.empty()) return std::string(key);
  return std::string(path) + "." + std::string(key);
}

sys::Result<std::vector<Entry>> entriesOf(const Ctx& ctx, const YAML::Node& map,
                                          std::string_view path) {
  std::vector<Entry> entries;
  if (map.IsNull()) return entries;
  if (!map.IsMap()) return fail(ctx, map, path, "expected a mapping (key: value lines)");
  std::set<std::string> seen;
  std::vector<YAML::Node> merges;
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (!it->first.IsScalar()) return fail(ctx, it->first, path, "a key must be a plain string");
    std::string key = it->first.Scalar();
    if (key == "<<") {
      merges.push_back(it->second);
      continue;
    }
    if (!seen.insert(key).second) return fail(ctx, it->first, join(path, key), "duplicate key");
    if (key.starts_with("x-")) continue;
    entries.push_back(Entry{key, it->first, it->second});
  }
  // YAML merge keys (<<: *defaults), which yaml-cpp leaves to the reader:
  // a merged key never overrides one written in the map itself.
  for (const YAML::Node& merge : merges) {
    std::vector<YAML::Node> sources;
    if (merge.IsSequence()) {
      for (const YAML::Node& item : merge) sources.push_back(item);
    } else {
      sources.push_back(merge);
    }
    for (const YAML::Node& source : sources) {
      if (!source.IsMap()) return fail(ctx, source, join(path, "<<"), "can only merge a mapping");
      for (auto it = source.begin(); it != source.end(); ++it) {
        if (!it->first.IsScalar()) return fail(ctx, it->first, path, "a key must be a plain string");
        std::string key = it->first.Scalar();
        if (key == "<<" || key.starts_with("x-") || !seen.insert(key).second) continue;
        entries.push_back(Entry{key, it->first, it->second});
      }
    }
  }
  return entries;
}

sys::Error unknownKey(const Ctx& ctx, const Entry& entry, std::string_view path,
                      std::initializer_list<std::string_view> known) {
  std::string where = join(path, entry.key);
  if (ctx.format == Format::kBerth) {
    if (std::string_view hint = berthHint(entry.key); !hint.empty()) {
      return fail(ctx, entry.keyNode, where, "unknown key (" + std::string(hint) + ")");
    }
  }
  std::string_view best;
  size_t bestDistance = std::numeric_limits<size_t>::max();
  for (std::string_view candidate : known) {
    size_t d = editDistance(entry.key, candidate);
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  for (std::string_view unsupported : kUnsupportedCompose) {
    if (entry.key == unsupported) return fail(ctx, entry.keyNode, where, "not supported by berth");
  }
  if (bestDistance <= std::max<size_t>(1, std::min(entry.key.size(), best.size()) / 3)) {
    return fail(ctx, entry.keyNode, where, "unknown key (did you mean " + std::string(best) + "?)");
  }
  std::string list;
  for (std::string_view candidate : known) {
    list += list.empty() ? "" : ", ";
    list += candidate;
  }
  return fail(ctx, entry.keyNode, where, "unknown key (expected one of: " + list + ")");
}

sys::Result<std::string> scalarOf(const Ctx& ctx, const YAML::Node& node, std::string_view path) {
  if (node.IsNull()) return fail(ctx, node, path, "missing value");
  if (!node.IsScalar()) return fail(ctx, node, path, "expected a single value, not a list or mapping");
  return node.Scalar();
}

sys::Result<int64_t> integerOf(const Ctx& ctx, const YAML::Node& node, std::string_view path,
                               int64_t min, int64_t max) {
  std::string text = BERTH_TRY(scalarOf(ctx, node, path));
  std::string range = "expected a whole number from " + std::to_string(min) + " to " + std::to_string(max);
  bool negative = !text.empty() && text[0] == '-';
  size_t start = negative ? 1 : 0;
  if (text.size() == start || text.size() - start > 18) return fail(ctx, node, path, range + ", got '" + text + "'");
  int64_t value = 0;
  for (size_t i = start; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return fail(ctx, node, path, range + ", got '" + text + "'");
    value = value * 10 + (text[i] - '0');
  }
  if (negative) value = -value;
  if (value < min || value > max) return fail(ctx, node, path, range + ", got " + text);
  return value;
}

sys::Result<bool> boolOf(const Ctx& ctx, const YAML::Node& node, std::string_view path) {
  std::string text = BERTH_TRY(scalarOf(ctx, node, path));
  if (text == "true") return true;
  if (text == "false") return false;
  return fail(ctx, node, path, "expected true or false, got '" + text + "'");
}

sys::Result<std::chrono::milliseconds> durationOf(const Ctx& ctx, const YAML::Node& node,
                                                  std::string_view path) {
  std::string text = BERTH_TRY(scalarOf(ctx, node, path));
  auto bad = [&] {
    return fail(ctx, node, path, "expected a duration like 10s, 1m30s or 500ms, got '" + text + "'");
  };
  constexpr double kMaxMs = 1e12;  // about 31 years: far beyond any sensible timeout
  double total = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t begin = i;
    while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
    if (i == begin || i - begin > 15) return bad();
    std::string digits = text.substr(begin, i - begin);
    char* end = nullptr;
    double number = std::strtod(digits.c_str(), &end);
    if (end != digits.c_str() + digits.size()) return bad();
    size_t unitBegin = i;
    while (i < text.size() && text[i] >= 'a' && text[i] <= 'z') ++i;
    std::string_view unit(text.data() + unitBegin, i - unitBegin);
    double scale = unit == "h" ? 3600000 : unit == "m" ? 60000 : unit == "s" ? 1000 : unit == "ms" ? 1 : unit == "us" ? 0.001 : -1;
    if (scale < 0) return bad();
    total += number * scale;
    if (total > kMaxMs) return bad();
  }
  if (text.empty()) return bad();
  return std::chrono::milliseconds(static_cast<int64_t>(total));
}

sys::Result<uint64_t> sizeOf(const Ctx& ctx, const YAML::Node& node, std::string_view path) {
  std::string text = BERTH_TRY(scalarOf(ctx, node, path));
  auto size = storage::disk::parseSize(text);
  if (!size) return fail(ctx, node, path, size.error().what() + " (e.g. 512M, 2G)");
  return *size;
}

sys::Result<uint64_t> nanoCpusOf(const Ctx& ctx, const YAML::Node& node, std::string_view path) {
  std::string text = BERTH_TRY(scalarOf(ctx, node, path));
  auto bad = [&] {
    return fail(ctx, node, path, "expected a number of CPUs like 2 or 1.5 (more than 0), got '" + text + "'");
  };
  size_t dot = text.find('.');
  std::string whole = text.substr(0, dot);
  std::string fraction = dot == std::string::npos ? "" : text.substr(dot + 1);
  if (whole.empty() || whole.size() > 6 || fraction.size() > 9) return bad();
  if (dot != std::string::npos && fraction.empty()) return bad();
  uint64_t nanos = 0;
  for (char c : whole) {
    if (c < '0' || c > '9') return bad();
    nanos = nanos * 10 + static_cast<uint64_t>(c - '0');
  }
  uint64_t scale = 100000000;
  nanos *= 1000000000;
  for (char c : fraction) {
    if (c < '0' || c > '9') return bad();
    nanos += static_cast<uint64_t>(c - '0') * scale;
    scale /= 10;
  }
  if (nanos == 0) return bad();
  return nanos;
}

sys::Result<std::vector<std::string>> stringsOf(const Ctx& ctx, const YAML::Node& node,
                                                std::string_view path, bool scalarIsOne) {
  std::vector<std::string> out;
  if (node.IsNull()) return out;
  if (scalarIsOne && node.IsScalar()) {
    out.push_back(node.Scalar());
    return out;
  }
  if (!node.IsSequence()) return fail(ctx, node, path, "expected a list");
  size_t index = 0;
  for (const YAML::Node& item : node) {
    out.push_back(BERTH_TRY(scalarOf(ctx, item, join(path, std::to_string(index++)))));
  }
  return out;
}

sys::Result<std::vector<std::string>> commandOf(const Ctx& ctx, const YAML::Node& node,
                                                std::string_view path) {
  if (!node.IsScalar()) return stringsOf(ctx, node, path, false);
  // Split as a POSIX shell splits words: quotes group, a backslash escapes
  // (as Compose does with a string command).
  const std::string& text = node.Scalar();
  std::vector<std::string> words;
  std::string word;
  bool inWord = false;
  char quote = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quote != 0) {
      if (c == quote) {
        quote = 0;
      } else if (c == '\\' && quote == '"' && i + 1 < text.size()) {
        word += text[++i];
      } else {
        word += c;
      }
    } else if (c == '\'' || c == '"') {
      quote = c;
      inWord = true;
    } else if (c == '\\' && i + 1 < text.size()) {
      word += text[++i];
      inWord = true;
    } else if (c == ' ' || c == '\t' || c == '\n') {
      if (inWord) words.push_back(std::move(word));
      word.clear();
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote != 0) return fail(ctx, node, path, "unterminated quote in the command");
  if (inWord) words.push_back(std::move(word));
  return words;
}

sys::Result<std::vector<std::pair<std::string, std::string>>> keyValuesOf(
    const Ctx& ctx, const YAML::Node& node, std::string_view path) {
  std::vector<std::pair<std::string, std::string>> out;
  if (node.IsSequence()) {
    size_t index = 0;
    for (const YAML::Node& item : node) {
      std::string where = join(path, std::to_string(index++));
      std::string text = BERTH_TRY(scalarOf(ctx, item, where));
      size_t eq = text.find('=');
      if (eq == std::string::npos || eq == 0) {
        return fail(ctx, item, where, "expected KEY=VALUE, got '" + text + "'");
      }
      out.emplace_back(text.substr(0, eq), text.substr(eq + 1));
    }
    return out;
  }
  for (const Entry& entry : BERTH_TRY(entriesOf(ctx, node, path))) {
    if (entry.value.IsNull()) {
      return fail(ctx, entry.keyNode, join(path, entry.key),
                  "has no value (berth does not pass the deploying shell's environment)");
    }
    out.emplace_back(entry.key, BERTH_TRY(scalarOf(ctx, entry.value, join(path, entry.key))));
  }
  return out;
}

bool isDnsLabel(std::string_view name) {
  if (name.empty() || name.size() > 63 || name.front() == '-' || name.back() == '-') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

bool isEnvName(std::string_view name) {
  name = trim(name);
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

}  // namespace berth::agent::project::detail
