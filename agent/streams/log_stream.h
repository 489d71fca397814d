// `berth logs`: a container's log (written by its shim, agent/logs) as a
// stream of LogEntry frames, with --tail, --since, --until and --follow.
//
// A follow ends when the container's shim exits (its pidfd becomes
// readable: the init exited and the shim wrote its last record), after the
// last line is sent; or when the client cancels. A container that is not
// running has nothing more to write, so its log is sent and the call ends.
//
// An entry carries consecutive lines of one stream read at one time, each
// ended by '\n'; `partial` is set when the data ends in a piece of a line
// that goes on in a later entry of the same stream. An entry whose stream is
// OUTPUT_UNSPECIFIED is berthd's own notice, not the container's output:
// lines are missing at that point (files rotated away before a follower
// could read them); clients print it to their stderr.
#pragma once

#include <cstddef>

#include "agent/api/connection.h"
#include "agent/engine/container_access.h"

namespace berth::agent::streams {

namespace pb = ::berth::api;

// The most data one LogEntry carries: more lines go in the next entry, a
// longer piece of a line is sent as several partial entries; far below the
// API's frame limit.
inline constexpr size_t kMaxLogEntryData = 256 * 1024;

api::CallResult<pb::StreamEnd> streamLogs(engine::ContainerAccess& access,
                                          const pb::LogsRequest& request,
                                          api::StreamWriter<pb::LogEntry>& out);

}  // namespace berth::agent::streams
