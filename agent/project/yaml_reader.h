// Reading YAML under the project file's rules (internal to agent/project):
// every error names "FILE:LINE:COLUMN: path.to.key: what is wrong", maps are
// walked entry by entry so an unknown key is always reported, and scalars are
// converted to the model's units (bytes, milliseconds, nano-CPUs) here.
//
// yaml-cpp reports through exceptions; the parser catches them at its
// boundary (project_file.cc), so nothing above it sees one.
#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/project/model.h"
#include "runtime/sys/result.h"

namespace berth::agent::project::detail {

enum class Format { kBerth, kCompose };

struct Ctx {
  std::string file;       // as the user named it, for messages
  std::string sourceDir;  // the project directory
  Format format = Format::kBerth;
};

// One key of a mapping, with the nodes that carry its marks.
struct Entry {
  std::string key;
  YAML::Node keyNode;
  YAML::Node value;
};

SourceMark markOf(const Ctx& ctx, const YAML::Node& node);
// "FILE:LINE:COL: path: what".
sys::Error fail(const Ctx& ctx, const YAML::Node& at, std::string_view path, std::string_view what);
sys::Error failAt(const SourceMark& mark, std::string_view path, std::string_view what);
// "a.b" (or "b" when a is empty).
std::string join(std::string_view path, std::string_view key);

// The entries of a mapping in file order: keys must be scalars and appear
// once; "<<" merge keys are expanded (keys written in the map win) and
// extension keys ("x-...") skipped, as Compose does. A null node is empty.
[[nodiscard]] sys::Result<std::vector<Entry>> entriesOf(const Ctx& ctx, const YAML::Node& map,
                                                        std::string_view path);

// The error for a key nobody reads: "not supported by berth" for Compose
// keys berth does not implement, else "unknown key" with the nearest known
// key as a suggestion, or the list of the expected ones.
sys::Error unknownKey(const Ctx& ctx, const Entry& entry, std::string_view path,
                      std::initializer_list<std::string_view> known);

[[nodiscard]] sys::Result<std::string> scalarOf(const Ctx& ctx, const YAML::Node& node,
                                                std::string_view path);
[[nodiscard]] sys::Result<int64_t> integerOf(const Ctx& ctx, const YAML::Node& node,
                                             std::string_view path, int64_t min, int64_t max);
[[nodiscard]] sys::Result<bool> boolOf(const Ctx& ctx, const YAML::Node& node, std::string_view path);
// "1m30s", "10s", "500ms", "2h", "1.5s" (Compose durations).
[[nodiscard]] sys::Result<std::chrono::milliseconds> durationOf(const Ctx& ctx, const YAML::Node& node,
                                                                std::string_view path);
// "2G", "512M", plain bytes (storage::disk::parseSize).
[[nodiscard]] sys::Result<uint64_t> sizeOf(const Ctx& ctx, const YAML::Node& node,
                                           std::string_view path);
// "1.5" -> 1500000000; at most 9 decimals, greater than 0.
[[nodiscard]] sys::Result<uint64_t> nanoCpusOf(const Ctx& ctx, const YAML::Node& node,
                                               std::string_view path);
// A sequence of scalars; with `scalarIsOne`, a single scalar is a list of one.
[[nodiscard]] sys::Result<std::vector<std::string>> stringsOf(const Ctx& ctx, const YAML::Node& node,
                                                              std::string_view path,
                                                              bool scalarIsOne);
// command/entrypoint: a list, or a string split as a shell splits words.
[[nodiscard]] sys::Result<std::vector<std::string>> commandOf(const Ctx& ctx, const YAML::Node& node,
                                                              std::string_view path);
// environment/labels: {K: V} or ["K=V"]. Every key needs a value.
[[nodiscard]] sys::Result<std::vector<std::pair<std::string, std::string>>> keyValuesOf(
    const Ctx& ctx, const YAML::Node& node, std::string_view path);

// a-z, 0-9 and '-', not first or last, 1..63 characters.
bool isDnsLabel(std::string_view name);
// "KEY" of "KEY=VALUE" lines: a letter or '_' first, then letters, digits, '_'.
bool isEnvName(std::string_view name);

}  // namespace berth::agent::project::detail
