// Parsing of OCI runtime-spec JSON documents into the config model (spec.h).
//
// config.json is read on every container start, so parsing is one pass over
// nlohmann's DOM with no exceptions. Every field of spec.h is read; unknown
// fields are ignored (runtime-spec rule) and JSON null counts as absent. A
// syntax error names line and column; a wrong type names the full field
// path and what was expected, e.g.
//   "process.user.uid: expected an unsigned integer, got string".
// Parsing checks only types and ranges; the rules between fields are in
// validate.h.
#pragma once

#include <string>
#include <string_view>

#include "runtime/config/spec.h"
#include "runtime/sys/result.h"

namespace berth::runtime::config {

// A whole config.json document.
[[nodiscard]] sys::Result<Spec> parseSpec(std::string_view json);

// Reads and parses <bundleDir>/config.json; errors name the file.
[[nodiscard]] sys::Result<Spec> loadSpec(const std::string& bundleDir);

// A process object alone, as given to `exec --process process.json`.
[[nodiscard]] sys::Result<Process> parseProcess(std::string_view json);

// A linux.resources object alone, as given to `update -r resources.json`.
[[nodiscard]] sys::Result<Resources> parseResources(std::string_view json);

}  // namespace berth::runtime::config
