// Writing the config model (spec.h) back out as an OCI config.json.
//
// The agent builds a Spec in memory for every container it starts and hands
// it to the runtime as a bundle's config.json, so this is on the container
// start path: one pass over the model appending to a single string, no DOM.
// The output is what parseSpec() reads back into an identical Spec:
//   - absent optionals, empty strings, empty lists and empty maps are
//     omitted (parseSpec leaves those at the same defaults), except the
//     fields the runtime-spec marks as required (ociVersion, process.cwd,
//     user.uid/gid, root.path, mounts[].destination, a device's numbers,
//     a device rule's "allow", ...), which are always written;
//   - keys come in a fixed order: the runtime-spec's, as runc prints them;
//     map keys (annotations, sysctl, unified) are sorted;
//   - strings that are not valid UTF-8 get U+FFFD for each bad byte (as Go's
//     encoding/json does), since a JSON parser rejects raw invalid bytes.
#pragma once

#include <string>

#include "runtime/config/spec.h"

namespace berth::runtime::config {

enum class JsonStyle {
  kCompact,   // one line, no spaces: the cheapest to write and to read
  kIndented,  // one field per line, tab-indented like `runc spec` (for people)
};

std::string serializeSpec(const Spec& spec, JsonStyle style = JsonStyle::kCompact);

// A process object alone, the format of `exec --process process.json`.
std::string serializeProcess(const Process& process, JsonStyle style = JsonStyle::kCompact);

}  // namespace berth::runtime::config
