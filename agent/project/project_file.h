// Reading a project: berth.yaml (or a Compose file) into the validated
// model of model.h. The whole file is checked here, before a deploy touches
// the host: every key is known, every name is a DNS label and unique on the
// project network, depends_on has no cycle, volumes are declared, and the
// files it names (configs, env_files) are read from inside the project dir.
//
// Every error reads "FILE:LINE:COLUMN: path.to.key: what is wrong and what
// was expected", e.g.
//   berth.yaml:3:3: main.imag: unknown key (did you mean image?)
//   compose.yaml:12:5: services.web.network_mode: not supported by berth
#pragma once

#include <string>
#include <string_view>

#include "agent/project/model.h"
#include "runtime/sys/result.h"

namespace berth::agent::project {

// The names looked for in a directory, in this order.
inline constexpr const char* kProjectFileNames[] = {"berth.yaml", "compose.yaml", "compose.yml",
                                                    "docker-compose.yml", "docker-compose.yaml"};

// Most services one project may define besides main (256 containers in all).
inline constexpr size_t kMaxServices = 255;

// `pathOrDir`: a project file, or a directory holding one of
// kProjectFileNames. The file's directory is the project's sourceDir.
[[nodiscard]] sys::Result<Project> loadProject(const std::string& pathOrDir);

// Parses `yamlText` read from `fileName` (used in messages; a name containing
// "compose" is read as a Compose file, anything else as berth.yaml), with
// relative paths resolved inside `sourceDir`.
[[nodiscard]] sys::Result<Project> parseProject(std::string_view yamlText, const std::string& fileName,
                                                const std::string& sourceDir);

}  // namespace berth::agent::project
