// The API's view of an image: ImageSummary and ImageInfo filled from the
// catalog's ImageView (names, manifest, config).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "agent/api/berth.pb.h"
#include "agent/images/image_catalog.h"

namespace berth::agent::images {

namespace pb = ::berth::api;

// "linux/amd64", "linux/arm/v7"; empty when the config names no platform.
std::string platformText(const oci::ImageConfig& config);

// An RFC 3339 time ("2024-05-01T12:00:00.123456789Z") in unix nanoseconds;
// 0 when empty or unreadable (the API's "unknown").
int64_t createdNs(std::string_view rfc3339);

pb::ImageSummary toSummary(const ImageView& view);
pb::ImageInfo toInfo(const ImageView& view);

}  // namespace berth::agent::images
