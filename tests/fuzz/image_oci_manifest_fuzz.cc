// libFuzzer target for the image document parsers: image indexes / manifest
// lists, image manifests (OCI and Docker schema 2), image configs, and the
// images.json index. These come from registries, archives and disk, so they
// are untrusted: any byte string must give a model or an error, never a
// crash, an escaping exception, a hang or a sanitizer report.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "image/oci/config.h"
#include "image/oci/manifest.h"
#include "image/store/image_index.h"

namespace oci = berth::image::oci;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)oci::detectMediaType(text).ok();
  if (auto index = oci::parseIndex(text); index.ok()) {
    (void)oci::selectManifest(*index, oci::hostPlatform()).ok();
    (void)oci::selectManifest(*index, *oci::parsePlatform("linux/arm/v7")).ok();
  }
  if (auto manifest = oci::parseManifest(text); manifest.ok()) {
    // What we write back must read back the same.
    auto again = oci::parseManifest(oci::serializeManifest(*manifest));
    if (!again.ok() || again->layers.size() != manifest->layers.size()) __builtin_trap();
  }
  if (auto config = oci::parseImageConfig(text); config.ok()) {
    (void)oci::chainIds(config->rootfs.diffIds);
  }
  (void)berth::image::store::parseImageIndex(text).ok();
  (void)oci::parsePlatform(text.substr(0, 64)).ok();
  return 0;
}
