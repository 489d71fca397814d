// -v and --config to OCI mounts; see container_mounts.h.
#include "agent/engine/container_mounts.h"

#include <algorithm>
#include <set>

#include "runtime/sys/fs.h"
#include "storage/volume/volume.h"

namespace berth::agent::engine {
namespace {

constexpr std::string_view kPropagations[] = {"rprivate", "private", "rshared",
                                              "shared",   "rslave",  "slave"};

std::vector<std::string_view> splitAny(std::string_view text, std::string_view separators) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    size_t end = text.find_first_of(separators, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

// A container path for a mount: absolute, and not the root itself.
sys::Result<std::string> destinationOf(std::string_view path, const std::string& what) {
  if (path.empty() || path.front() != '/') {
    return sys::Error::invalid(what + ": the container path \"" + std::string(path) +
                               "\" must be absolute");
  }
  std::string clean = sys::cleanPath(std::string(path));
  if (clean == "/") return sys::Error::invalid(what + ": cannot mount over the container's /");
  return clean;
}

sys::Result<void> applyOption(VolumeMount& m, std::string_view option, bool& accessSeen,
                              bool& propagationSeen, const std::string& what) {
  if (option == "ro" || option == "rw") {
    if (accessSeen) return sys::Error::invalid(what + ": ro/rw given twice");
    accessSeen = true;
    m.readOnly = option == "ro";
    return sys::ok();
  }
  bool propagation = std::find(std::begin(kPropagations), std::end(kPropagations), option) !=
                     std::end(kPropagations);
  if (propagation || option == "create") {
    if (m.kind != MountKind::kBind) {
      return sys::Error::invalid(what + ": \"" + std::string(option) +
                                 "\" applies to bind mounts of host paths only");
    }
    if (option == "create") {
      m.create = true;
    } else {
      if (propagationSeen) return sys::Error::invalid(what + ": propagation given twice");
      propagationSeen = true;
      m.propagation = std::string(option);
    }
    return sys::ok();
  }
  if (option == "nocopy" && m.kind == MountKind::kVolume) {
    m.noCopy = true;
    return sys::ok();
  }
  return sys::Error::invalid(what + ": unknown option \"" + std::string(option) +
                             "\" (ro, rw, rprivate, rshared, rslave, private, shared, slave, "
                             "create, nocopy)");
}

sys::Result<void> checkConfig(const pb::ConfigFile& config) {
  const std::string what = "--config " + config.target();
  if (config.has_mode() && config.mode() > 07777) {
    return sys::Error::invalid(what + ": mode must be octal 0-7777");
  }
  return sys::ok();
}

}  // namespace

sys::Result<VolumeMount> parseVolumeArg(std::string_view text) {
  const std::string what = "volume \"" + std::string(text) + "\"";
  size_t colon = text.find(':');
  if (text.empty() || colon == std::string_view::npos) {
    return sys::Error::invalid(what + ": expected SOURCE:/container/path[:OPTIONS]");
  }
  std::string_view source = text.substr(0, colon);
  std::string_view rest = text.substr(colon + 1);
  size_t next = rest.find(':');
  std::string_view destination = rest.substr(0, next);
  std::string_view options = next == std::string_view::npos ? "" : rest.substr(next + 1);

  VolumeMount m;
  if (!source.empty() && source.front() == '/') {
    m.kind = MountKind::kBind;
    m.source = sys::cleanPath(std::string(source));
  } else {
    if (source.empty()) return sys::Error::invalid(what + ": empty source");
    if (source.front() == '.' || source.find('/') != std::string_view::npos) {
      return sys::Error::invalid(what + ": a host path must be absolute");
    }
    m.kind = MountKind::kVolume;
    BERTH_TRY_CTX(storage::volume::validateName(source), what);
    m.source = std::string(source);
  }
  m.destination = BERTH_TRY(destinationOf(destination, what));
  bool accessSeen = false;
  bool propagationSeen = false;
  if (!options.empty()) {
    for (std::string_view option : splitAny(options, ",:")) {
      BERTH_TRY(applyOption(m, option, accessSeen, propagationSeen, what));
    }
  }
  return m;
}

sys::Result<std::vector<VolumeMount>> mountsOfSpec(const pb::ContainerSpec& spec) {
  std::vector<VolumeMount> mounts;
  std::set<std::string> destinations;
  auto claim = [&](const std::string& destination) -> sys::Result<void> {
    if (!destinations.insert(destination).second) {
      return sys::Error::invalid("duplicate mount point " + destination);
    }
    return sys::ok();
  };
  for (const std::string& text : spec.volumes()) {
    VolumeMount m = BERTH_TRY(parseVolumeArg(text));
    BERTH_TRY(claim(m.destination));
    mounts.push_back(std::move(m));
  }
  for (const pb::ConfigFile& config : spec.configs()) {
    std::string destination = BERTH_TRY(destinationOf(config.target(), "--config"));
    BERTH_TRY(checkConfig(config));
    BERTH_TRY(claim(destination));
  }
  return mounts;
}

std::vector<std::string> volumeNamesOf(const pb::ContainerSpec& spec) {
  std::set<std::string> names;
  for (const std::string& text : spec.volumes()) {
    auto m = parseVolumeArg(text);
    if (m && m->kind == MountKind::kVolume) names.insert(m->source);
  }
  return {names.begin(), names.end()};
}

runtime::config::Mount ociMountFor(const VolumeMount& m, const std::string& hostSource) {
  // rbind: what is mounted below the source comes along (Docker's binds do).
  // Volumes are always rprivate: nothing the container mounts leaks out.
  std::vector<std::string> options = {"rbind",
                                      m.kind == MountKind::kBind ? m.propagation : "rprivate"};
  if (m.readOnly) options.push_back("ro");
  return runtime::config::Mount{m.destination, "bind", hostSource, std::move(options), {}, {}};
}

runtime::config::Mount configMountFor(const std::string& hostFile, const std::string& target) {
  return runtime::config::Mount{sys::cleanPath(target),
                                "bind",
                                hostFile,
                                {"bind", "rprivate", "ro", "nosuid", "nodev", "noexec"},
                                {},
                                {}};
}

storage::rootfs::Options rootfsOptionsFor(const pb::ContainerSpec& spec) {
  storage::rootfs::Options options;
  options.diskLimitBytes = spec.disk_bytes();
  return options;
}

std::string configFilePath(const std::string& containerDir, size_t index) {
  return containerDir + "/" + kConfigsDir + "/" + std::to_string(index);
}

std::vector<pb::MountInfo> mountInfosOf(
    const pb::ContainerSpec& spec, const std::string& containerDir,
    const std::function<std::string(const std::string&)>& volumeDataPath) {
  std::vector<pb::MountInfo> infos;
  for (const std::string& text : spec.volumes()) {
    auto m = parseVolumeArg(text);
    if (!m) continue;
    pb::MountInfo& info = infos.emplace_back();
    info.set_destination(m->destination);
    info.set_read_only(m->readOnly);
    if (m->kind == MountKind::kVolume) {
      info.set_kind(pb::MOUNT_VOLUME);
      info.set_name(m->source);
      info.set_source(volumeDataPath(m->source));
    } else {
      info.set_kind(pb::MOUNT_BIND);
      info.set_source(m->source);
      info.set_propagation(m->propagation);
    }
  }
  for (int i = 0; i < spec.configs_size(); ++i) {
    pb::MountInfo& info = infos.emplace_back();
    info.set_kind(pb::MOUNT_CONFIG);
    info.set_source(configFilePath(containerDir, static_cast<size_t>(i)));
    info.set_destination(sys::cleanPath(spec.configs(i).target()));
    info.set_read_only(true);
  }
  return infos;
}

}  // namespace berth::agent::engine
