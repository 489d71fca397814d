// Mapping "the command could not be run" errors to 127/126; see
// command_failure.h.
#include "agent/cli/command_failure.h"

#include <array>

namespace berth::agent::cli {
namespace {

// How the runtime words a missing command: stat's ENOENT (a path), ENOTDIR
// (a path through a file), or the $PATH search that found nothing.
constexpr std::array<std::string_view, 4> kNotFound = {
    "No such file or directory", "Not a directory", "executable file not found",
    "no such file or directory"};

}  // namespace

int commandFailureExitCode(std::string_view message) {
  // The runtime's (and runc's) prefix for a failure to find or execute the
  // process's args[0]; nothing else in an error from berthd starts so.
  size_t at = message.find("exec: \"");
  if (at == std::string_view::npos) return 0;
  std::string_view reason = message.substr(at);
  for (std::string_view notFound : kNotFound) {
    if (reason.find(notFound) != std::string_view::npos) return kExitCommandNotFound;
  }
  // EACCES (not executable, a directory), ENOEXEC, ...: it is there but
  // cannot be run.
  return kExitCommandNotExecutable;
}

int exitCodeForError(const api::CallError& error, int otherwise) {
  int code = commandFailureExitCode(error.message);
  return code != 0 ? code : otherwise;
}

}  // namespace berth::agent::cli
