// The top level of a project file: which format, the project's name, the
// declared volumes and configs, the services (read by service_parse.cc),
// then the checks that span services (dependency cycles, the published port).
#include "agent/project/project_file.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <functional>
#include <optional>

#include "agent/project/service_parse.h"
#include "agent/project/source_files.h"
#include "runtime/sys/fs.h"

namespace berth::agent::project {
namespace {

using detail::Entry;
using detail::fail;
using detail::Format;
using detail::join;
using detail::ParseState;

constexpr size_t kMaxFileBytes = 4 << 20;

std::string baseName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string servicePath(const std::string& name, Format format) {
  return format == Format::kBerth && name == "main" ? "main" : "services." + name;
}

// Compose's default: the project directory's name, lowercased, with what a
// DNS label cannot hold turned into '-'.
std::string nameFromDirectory(const std::string& sourceDir) {
  char buffer[PATH_MAX];
  std::string dir = ::realpath(sourceDir.empty() ? "." : sourceDir.c_str(), buffer) ? buffer : sourceDir;
  std::string name;
  for (char c : baseName(dir)) {
    char lower = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    bool keep = (lower >= 'a' && lower <= 'z') || (lower >= '0' && lower <= '9');
    if (keep || (!name.empty() && name.back() != '-')) name += keep ? lower : '-';
  }
  while (!name.empty() && name.back() == '-') name.pop_back();
  return name.substr(0, 63);
}

bool isVolumeName(std::string_view name) {
  if (name.empty() || name.size() > 64 || !std::isalnum(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  });
}

sys::Result<std::vector<Volume>> parseTopLevelVolumes(ParseState& st, const YAML::Node& node) {
  const detail::Ctx& ctx = st.ctx;
  std::vector<Volume> volumes;
  auto declare = [&](const std::string& name, const YAML::Node& at) -> sys::Result<void> {
    if (!isVolumeName(name)) {
      return fail(ctx, at, "volumes", "'" + name + "' is not a valid volume name (letters, digits, '_', '.', '-'; at most 64)");
    }
    if (!st.declaredVolumes.insert(name).second) return fail(ctx, at, "volumes", "'" + name + "' is declared twice");
    volumes.push_back(Volume{name, 0, {}});
    return sys::ok();
  };
  if (node.IsSequence()) {
    size_t index = 0;
    for (const YAML::Node& item : node) {
      std::string name = BERTH_TRY(detail::scalarOf(ctx, item, join("volumes", std::to_string(index++))));
      BERTH_TRY(declare(name, item));
    }
  }
  std::vector<Entry> entries;
  if (!node.IsSequence()) entries = BERTH_TRY(detail::entriesOf(ctx, node, "volumes"));
  for (const Entry& e : entries) {
    BERTH_TRY(declare(e.key, e.keyNode));
    std::string where = join("volumes", e.key);
    for (const Entry& inner : BERTH_TRY(detail::entriesOf(ctx, e.value, where))) {
      std::string at = join(where, inner.key);
      if (inner.key == "labels") {
        for (auto& [k, v] : BERTH_TRY(detail::keyValuesOf(ctx, inner.value, at))) volumes.back().labels[k] = v;
      } else if (inner.key == "size" && ctx.format == Format::kBerth) {
        volumes.back().sizeLimitBytes = BERTH_TRY(detail::sizeOf(ctx, inner.value, at));
      } else if (ctx.format == Format::kBerth) {
        return detail::unknownKey(ctx, inner, where, {"size", "labels"});
      } else {
        return detail::unknownKey(ctx, inner, where, {"labels"});
      }
    }
  }
  std::sort(volumes.begin(), volumes.end(), [](const Volume& a, const Volume& b) { return a.name < b.name; });
  return volumes;
}

// Depth-first search over depends_on; a back edge is a cycle, reported at
// the depends_on of the service where it closes, with the whole loop named.
sys::Result<void> checkCycles(const ParseState& st, const Project& project) {
  std::map<std::string, const Service*> byName;
  for (const Service& s : project.services) byName[s.name] = &s;
  std::map<std::string, int> color;  // 0 new, 1 on the stack, 2 done
  std::vector<std::string> stack;
  std::function<sys::Result<void>(const std::string&)> visit = [&](const std::string& name) -> sys::Result<void> {
    color[name] = 1;
    stack.push_back(name);
    for (const Dependency& d : byName[name]->dependsOn) {
      if (color[d.service] == 1) {
        auto from = std::find(stack.begin(), stack.end(), d.service);
        std::string loop;
        for (auto it = from; it != stack.end(); ++it) loop += *it + " -> ";
        loop += d.service;
        auto mark = st.dependsOnMarks.find(name);
        return detail::failAt(mark == st.dependsOnMarks.end() ? byName[name]->mark : mark->second,
                              join(servicePath(name, st.ctx.format), "depends_on"), "dependency cycle: " + loop);
      }
      if (color[d.service] == 0) BERTH_TRY(visit(d.service));
    }
    stack.pop_back();
    color[name] = 2;
    return sys::ok();
  };
  for (const Service& s : project.services) {
    if (color[s.name] == 0) BERTH_TRY(visit(s.name));
  }
  return sys::ok();
}

// Compose: only the public entrance is published, on its ports: host side.
sys::Result<void> applyHostPorts(const ParseState& st, Project& project) {
  const Service* entrance = publicEntrance(project);
  for (const auto& [name, port] : st.hostPorts) {
    if (entrance == nullptr || entrance->name != name) {
      std::string which = entrance ? "services." + entrance->name : "none";
      return detail::failAt(port.second, join(servicePath(name, st.ctx.format), "ports"),
                            "berth publishes only the project's public entrance (" + which +
                                "); write just the container port here");
    }
    project.publishPort = port.first;
  }
  return sys::ok();
}

// Keys present at the top (std::optional: a default YAML::Node counts as defined).
struct TopLevel {
  std::optional<YAML::Node> name, main, services, volumes, configs, publish;
};

sys::Result<TopLevel> topLevelOf(const ParseState& st, const YAML::Node& root) {
  const detail::Ctx& ctx = st.ctx;
  if (!root.IsMap()) {
    std::string what = root.IsNull() ? "the file is empty: expected name:, main: and services:"
                                     : "expected a mapping with name:, main: and services:";
    return fail(ctx, root, "", what);
  }
  TopLevel top;
  bool berth = ctx.format == Format::kBerth;
  for (const Entry& e : BERTH_TRY(detail::entriesOf(ctx, root, ""))) {
    if (e.key == "name") top.name = e.value;
    else if (e.key == "services") top.services = e.value;
    else if (e.key == "volumes") top.volumes = e.value;
    else if (berth && e.key == "main") top.main = e.value;
    else if (berth && e.key == "publish") top.publish = e.value;
    else if (!berth && e.key == "configs") top.configs = e.value;
    else if (!berth && e.key == "version") continue;  // obsolete in Compose, ignored there too
    else if (berth) return detail::unknownKey(ctx, e, "", {"name", "main", "services", "volumes", "publish"});
    else return detail::unknownKey(ctx, e, "", {"name", "version", "services", "volumes", "configs"});
  }
  return top;
}

// Service names from the file, main first, each claimed on the project network.
sys::Result<std::vector<std::pair<std::string, YAML::Node>>> serviceBodies(ParseState& st, const TopLevel& top) {
  const detail::Ctx& ctx = st.ctx;
  std::vector<std::pair<std::string, YAML::Node>> bodies;
  if (top.main) bodies.emplace_back("main", *top.main);
  std::vector<Entry> entries;
  if (top.services) entries = BERTH_TRY(detail::entriesOf(ctx, *top.services, "services"));
  size_t others = 0;
  for (const Entry& e : entries) {
    std::string where = join("services", e.key);
    if (!detail::isDnsLabel(e.key)) {
      return fail(ctx, e.keyNode, where, "a service name must be a DNS name (a-z, 0-9 and '-', at most 63)");
    }
    if (e.key == "main" && ctx.format == Format::kBerth) {
      return fail(ctx, e.keyNode, where, "'main' is the main container: write it as the top-level main:");
    }
    if (e.key != "main" && ++others > kMaxServices) {
      return fail(ctx, e.keyNode, where, "a project has at most 255 services besides main");
    }
    if (e.key == "main") {
      bodies.insert(bodies.begin(), {e.key, e.value});
    } else {
      bodies.emplace_back(e.key, e.value);
    }
  }
  for (const auto& [name, body] : bodies) {
    st.serviceNames.insert(name);
    st.dnsOwners[name] = name;
  }
  return bodies;
}

sys::Result<Project> parseDocument(ParseState& st, const YAML::Node& root) {
  const detail::Ctx& ctx = st.ctx;
  TopLevel top = BERTH_TRY(topLevelOf(st, root));
  Project project;
  project.file = ctx.file;
  project.sourceDir = ctx.sourceDir;
  if (top.name) {
    project.name = BERTH_TRY(detail::scalarOf(ctx, *top.name, "name"));
    if (!detail::isDnsLabel(project.name)) {
      return fail(ctx, *top.name, "name", "'" + project.name + "' is not a valid project name (a-z, 0-9 and '-', at most 63)");
    }
  } else {
    project.name = nameFromDirectory(ctx.sourceDir);
    if (!detail::isDnsLabel(project.name)) {
      return fail(ctx, root, "name", "missing, and the directory's name does not make a valid project name");
    }
  }
  if (top.volumes) project.volumes = BERTH_TRY(parseTopLevelVolumes(st, *top.volumes));
  if (top.configs) BERTH_TRY(detail::parseTopLevelConfigs(st, *top.configs));
  auto bodies = BERTH_TRY(serviceBodies(st, top));
  if (bodies.empty()) return fail(ctx, root, "", "expected main: or at least one service under services:");
  if (st.serviceNames.contains("main") && project.name != "main") {
    // main also answers to the project's name (issue 7).
    auto [it, inserted] = st.dnsOwners.emplace(project.name, "main");
    if (!inserted) {
      return fail(ctx, top.name ? *top.name : root, "name",
                  "service '" + project.name + "' has the project's name, which main answers to; rename one");
    }
  }
  for (const auto& [name, body] : bodies) {
    project.services.push_back(BERTH_TRY(detail::parseService(st, name, servicePath(name, ctx.format), body)));
  }
  if (top.publish) project.publishPort = static_cast<uint16_t>(BERTH_TRY(detail::integerOf(ctx, *top.publish, "publish", 1, 65535)));
  BERTH_TRY(applyHostPorts(st, project));
  BERTH_TRY(checkCycles(st, project));
  return project;
}

}  // namespace

namespace {

// The length of the UTF-8 sequence starting at text[i] (1..4), or 0 when it
// is not a valid one (overlong forms, surrogates and > U+10FFFF included).
size_t utf8SequenceAt(std::string_view text, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char c = byte(i);
  if (c < 0x80) return 1;
  size_t n = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
  if (n == 0 || i + n > text.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  }
  unsigned char second = byte(i + 1);
  if ((c == 0xE0 && second < 0xA0) || (c == 0xED && second > 0x9F) ||
      (c == 0xF0 && second < 0x90) || (c == 0xF4 && second > 0x8F)) {
    return 0;
  }
  return n;
}

// A YAML file is UTF-8 text; everything parsed from it ends up in protobuf
// strings and JSON, which take nothing else. Checked before parsing so the
// error can point at the byte.
sys::Result<void> checkUtf8(std::string_view text, const std::string& fileName) {
  int line = 1;
  int column = 1;
  for (size_t i = 0; i < text.size();) {
    size_t n = utf8SequenceAt(text, i);
    if (n == 0) {
      return detail::failAt(SourceMark{fileName, line, column}, "(text)",
                            "not valid UTF-8 (a project file is UTF-8 text)");
    }
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
    i += n;
  }
  return sys::ok();
}

}  // namespace

sys::Result<Project> parseProject(std::string_view yamlText, const std::string& fileName,
                                  const std::string& sourceDir) {
  BERTH_TRY(checkUtf8(yamlText, fileName));
  ParseState st;
  st.ctx.file = fileName;
  st.ctx.sourceDir = sourceDir.empty() ? "." : sourceDir;
  st.ctx.format = baseName(fileName).find("compose") != std::string::npos ? Format::kCompose : Format::kBerth;
  // yaml-cpp reports by exceptions; they stop here. Malformed YAML keeps its
  // own mark and message.
  try {
    YAML::Node root = YAML::Load(std::string(yamlText));
    return parseDocument(st, root);
  } catch (const YAML::Exception& e) {
    SourceMark mark{fileName, e.mark.line < 0 ? 1 : e.mark.line + 1, e.mark.column < 0 ? 1 : e.mark.column + 1};
    return detail::failAt(mark, "yaml", "malformed YAML: " + e.msg);
  } catch (const std::exception& e) {
    return sys::Error::invalid(fileName + ":1:1: (top level): cannot read the file: " + e.what());
  }
}

sys::Result<Project> loadProject(const std::string& pathOrDir) {
  struct stat st {};
  if (::stat(pathOrDir.c_str(), &st) != 0) return sys::Error::fromErrno("read project " + pathOrDir);
  std::string file = pathOrDir;
  if (S_ISDIR(st.st_mode)) {
    file.clear();
    for (const char* name : kProjectFileNames) {
      std::string candidate = sys::joinPath(pathOrDir, name);
      if (sys::pathExists(candidate)) {
        file = candidate;
        break;
      }
    }
    if (file.empty()) {
      return sys::Error(ENOENT, "no berth.yaml (or compose.yaml, compose.yml, docker-compose.yml, "
                                "docker-compose.yaml) in " + pathOrDir);
    }
  }
  size_t slash = file.find_last_of('/');
  std::string sourceDir = slash == std::string::npos ? "." : slash == 0 ? "/" : file.substr(0, slash);
  std::string text = BERTH_TRY(sys::readFile(file));
  if (text.size() > kMaxFileBytes) return sys::Error::invalid(file + ": larger than 4 MiB");
  return parseProject(text, file, sourceDir);
}

const Service* publicEntrance(const Project& project) {
  for (const Service& s : project.services) {
    if (s.port && (*s.port == 80 || *s.port == 443)) return &s;
  }
  for (const Service& s : project.services) {
    if (s.isMain && s.port) return &s;
  }
  return nullptr;
}

}  // namespace berth::agent::project
