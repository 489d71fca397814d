// berth logs PROJECT: every service's logs in one stream, each line prefixed
// with its service ("redis  | "), names padded to one width, like docker
// compose logs. One logs call per container (the API has no project call):
// the history is read from each, then merged here by time; with -f, each
// container is then followed on its own connection and lines are printed
// as they arrive, until every stream ends or the user interrupts.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "agent/cli/context.h"
#include "agent/cli/project_ref.h"

namespace berth::agent::cli {

// The entries of several time-ordered sources, in time order: (source index,
// entry index) pairs. Equal times keep source order, so a tie never
// reorders lines of one container.
std::vector<std::pair<size_t, size_t>> mergeByTime(const std::vector<std::vector<pb::LogEntry>>& sources);

// "name" padded to `width`, then " | ".
std::string servicePrefix(const std::string& service, size_t width);

// Prints the logs of `containers` (one project's) as `base` asks (tail,
// since, until, timestamps, follow); `base.id` is ignored. An exit code.
int printProjectLogs(Context& ctx, const pb::LogsRequest& base,
                     const std::vector<pb::ContainerSummary>& containers);

}  // namespace berth::agent::cli
