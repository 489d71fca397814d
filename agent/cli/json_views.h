// The `--format json` and `inspect` documents: berthd's replies as JSON with
// the API's field names (snake_case), times both as RFC 3339 and as unix ns,
// argv/env/paths as strings (bytes that are not UTF-8 come out as U+FFFD).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "agent/api/status.h"

namespace berth::agent::cli {

namespace pb = ::berth::api;
using Json = nlohmann::ordered_json;

// "running", "exited", ... (docker's words).
std::string stateText(pb::ContainerState state);

Json imageSummaryJson(const pb::ImageSummary& image);
Json imageInfoJson(const pb::ImageInfo& info);
Json containerSpecJson(const pb::ContainerSpec& spec);
Json containerSummaryJson(const pb::ContainerSummary& summary);
Json containerInfoJson(const pb::ContainerInfo& info);
Json containerStatsJson(const pb::ContainerStats& stats);
Json imageRemoveJson(const pb::ImageRemoveReply& reply);
Json mountJson(const pb::MountInfo& mount);
Json volumeInfoJson(const pb::VolumeInfo& volume);

// Pretty-printed, never throwing on invalid UTF-8; ends with '\n'.
std::string dumpJson(const Json& document);

}  // namespace berth::agent::cli
