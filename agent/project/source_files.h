// Files a project file refers to (config sources, env_files, bind sources,
// build contexts), resolved strictly inside the project directory: a path
// may not climb out with "..", name an absolute place outside, or pass
// through a symlink that leads out (openat2 RESOLVE_BENEATH refuses it).
// Internal to agent/project; errors are plain text the parser puts behind
// the key's mark.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "runtime/sys/result.h"

namespace berth::agent::project::detail {

// Config files and env_files larger than this are refused: they travel in
// the container spec.
inline constexpr size_t kMaxSourceFileBytes = 1 << 20;

// The path relative to projectDir that `path` names, cleaned; an error when
// it lies outside (".." escape, or an absolute path elsewhere).
[[nodiscard]] sys::Result<std::string> relativeInside(const std::string& projectDir,
                                                      std::string_view path);

// The bytes of the regular file `path` inside projectDir.
[[nodiscard]] sys::Result<std::string> readInside(const std::string& projectDir,
                                                  std::string_view path);

// The absolute host path of a bind source written relative to the project
// ("./data"): the real path when it exists (symlinks resolved, never out),
// else where it would be created.
[[nodiscard]] sys::Result<std::string> bindSourceInside(const std::string& projectDir,
                                                        std::string_view path);

// KEY=VALUE lines; blank lines and lines starting with '#' are skipped, a
// value in matching quotes loses them. Errors name the line ("app.env:3: ...").
[[nodiscard]] sys::Result<std::vector<std::string>> parseEnvFile(std::string_view content,
                                                                 std::string_view name);

}  // namespace berth::agent::project::detail
