// The human tables of `image ls`, `ps` and `stats`, and the cells they are
// made of. Pure: the current time is a parameter.
#pragma once

#include <string>

#include "agent/api/status.h"
#include "agent/cli/table.h"

namespace berth::agent::cli {

namespace pb = ::berth::api;

// "docker.io/library/debian:12" -> {"docker.io/library/debian", "12"};
// "app@sha256:..." -> {"app", "<none>"}.
std::pair<std::string, std::string> splitReference(const std::string& reference);

// REPOSITORY, TAG, IMAGE ID, CREATED, SIZE: one row per reference, untagged
// images as <none> <none>.
Table imageTable(const pb::ImageListReply& images, int64_t nowNs);

// The COMMAND cell: argv joined, quoted, cut to 20 columns unless noTrunc.
std::string commandCell(const pb::ContainerSummary& summary, bool noTrunc);
// The daemon's status text, else one made from the state: "Up 3 minutes",
// "Exited (1) 2 seconds ago", "Created".
std::string statusCell(const pb::ContainerSummary& summary, int64_t nowNs);

// CONTAINER ID, IMAGE, COMMAND, CREATED, STATUS, RESTARTS, NAMES.
Table containerTable(const pb::ContainerListReply& list, int64_t nowNs, bool noTrunc);

// CONTAINER, NAME, CPU %, MEM USAGE / LIMIT, MEM %, PIDS.
Table statsTable(const pb::StatsBatch& batch);

}  // namespace berth::agent::cli
