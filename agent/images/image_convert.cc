// ImageView -> ImageSummary / ImageInfo: see image_convert.h.
#include "agent/images/image_convert.h"

namespace berth::agent::images {

std::string platformText(const oci::ImageConfig& config) {
  if (config.os.empty() && config.architecture.empty()) return "";
  std::string out = config.os + "/" + config.architecture;
  if (!config.variant.empty()) out += "/" + config.variant;
  return out;
}

int64_t createdNs(std::string_view rfc3339) {
  if (rfc3339.empty()) return 0;
  auto seconds = store::parseTime(rfc3339);
  if (!seconds) return 0;
  int64_t fraction = 0;
  // "YYYY-MM-DDTHH:MM:SS" is 19 characters; a fraction follows as ".ddd".
  if (rfc3339.size() > 20 && rfc3339[19] == '.') {
    int64_t scale = 100000000;
    for (size_t i = 20; i < rfc3339.size() && rfc3339[i] >= '0' && rfc3339[i] <= '9' && scale > 0;
         i++) {
      fraction += (rfc3339[i] - '0') * scale;
      scale /= 10;
    }
  }
  return *seconds * 1000000000 + fraction;
}

pb::ImageSummary toSummary(const ImageView& view) {
  pb::ImageSummary out;
  const LoadedImage& image = *view.image;
  out.set_id(view.id.str());
  for (const auto& name : view.names) out.add_references(name);
  out.set_manifest_digest(image.manifestDigest.str());
  out.set_size(image.size);
  int64_t created = createdNs(image.config.created);
  // An image whose config carries no date: when it came here is the best we know.
  if (created == 0) created = view.recorded * 1000000000;
  out.set_created_ns(created);
  out.set_platform(platformText(image.config));
  return out;
}

pb::ImageInfo toInfo(const ImageView& view) {
  pb::ImageInfo out;
  *out.mutable_summary() = toSummary(view);
  const oci::ImageConfig& config = view.image->config;
  const oci::ContainerConfig& c = config.config;
  out.set_os(config.os);
  out.set_architecture(config.architecture);
  out.set_variant(config.variant);
  if (c.entrypoint) {
    for (const auto& arg : *c.entrypoint) out.add_entrypoint(arg);
  }
  if (c.cmd) {
    for (const auto& arg : *c.cmd) out.add_cmd(arg);
  }
  for (const auto& env : c.env) out.add_env(env);
  out.set_workdir(c.workingDir);
  out.set_user(c.user);
  for (const auto& port : c.exposedPorts) out.add_exposed_ports(port);
  for (const auto& [key, value] : c.labels) (*out.mutable_labels())[key] = value;
  out.set_stop_signal(c.stopSignal);
  for (const auto& diffId : config.rootfs.diffIds) out.add_layers(diffId.str());
  for (const auto& volume : c.volumes) out.add_volumes(volume);
  return out;
}

}  // namespace berth::agent::images
