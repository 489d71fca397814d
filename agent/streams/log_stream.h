// `berth logs`: a container's log (written by its shim, agent/logs) as a
// stream of LogEntry frames, with --tail, --since, --until and --follow.
//
// A follow ends when the container's shim exits (its pidfd becomes
// readable: the init exited and the shim wrote its last record), after the
// last line is sent; or when the client cancels. A container that is not
// running has nothing more to write, so its log is sent and the call ends.
#pragma once

#include <cstddef>

#include "agent/api/connection.h"
#include "agent/engine/container_access.h"

namespace berth::agent::streams {

namespace pb = ::berth::api;

// The most data one LogEntry carries: a longer piece is sent as several
// partial entries, far below the API's frame limit.
inline constexpr size_t kMaxLogEntryData = 256 * 1024;

api::CallResult<pb::StreamEnd> streamLogs(engine::ContainerAccess& access,
                                          const pb::LogsRequest& request,
                                          api::StreamWriter<pb::LogEntry>& out);

}  // namespace berth::agent::streams
