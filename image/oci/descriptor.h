// Content descriptors (OCI image-spec descriptor.md) and platforms: the
// typed form of {"mediaType", "digest", "size", "platform", ...} that every
// index and manifest is made of, plus the host platform and the matching of
// "--platform os/arch[/variant]" against an image index's entries.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "image/store/content_store.h"
#include "runtime/sys/result.h"

namespace berth::image::oci {

struct Platform {
  std::string os;            // "linux"
  std::string architecture;  // GOARCH: "amd64", "arm64", "arm", ...
  std::string variant;       // "v7", "v8"; empty when none
  std::string osVersion;     // "os.version" (Windows)
  std::vector<std::string> osFeatures;

  // "linux/amd64", "linux/arm/v7"
  std::string str() const;
  bool operator==(const Platform&) const = default;
};

struct Descriptor {
  std::string mediaType;
  store::Digest digest;
  int64_t size = -1;  // bytes; -1 when unknown (never in a parsed descriptor)
  std::vector<std::string> urls;
  std::map<std::string, std::string> annotations;
  std::optional<Platform> platform;
  std::string artifactType;
};

// The platform this binary runs on, as GOOS/GOARCH[/variant] (linux/amd64).
Platform hostPlatform();

// Parses "os/arch[/variant]" and normalizes aliases the way containerd and
// Docker do (x86_64 -> amd64, aarch64 -> arm64, armhf -> arm/v7, arm64/v8 ->
// arm64). Errors name the text and what is wrong.
sys::Result<Platform> parsePlatform(std::string_view text);

// The same normalization applied to a platform read from a manifest.
Platform normalizePlatform(Platform p);

// How well `have` (an index entry) suits `want`: 0 = not at all, higher is
// better. An exact variant beats a compatible older one (arm/v6 runs on
// arm/v7) and an empty `want.variant` accepts any variant.
int platformScore(const Platform& want, const Platform& have);

}  // namespace berth::image::oci
