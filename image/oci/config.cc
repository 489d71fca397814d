// Image config parsing and chain ids: see config.h.
#include "image/oci/config.h"

#include "image/oci/json_fields.h"

namespace berth::image::oci {
namespace {

using json::Json;
using json::Need;

sys::Result<Healthcheck> readHealthcheck(const Json& v, const std::string& path) {
  if (!v.is_object()) return json::typeError(path, v, "an object");
  Healthcheck h;
  BERTH_TRY(json::readStrings(v, "Test", path, h.test));
  BERTH_TRY(json::readInt64(v, "Interval", path, h.interval));
  BERTH_TRY(json::readInt64(v, "Timeout", path, h.timeout));
  BERTH_TRY(json::readInt64(v, "StartPeriod", path, h.startPeriod));
  BERTH_TRY(json::readInt64(v, "StartInterval", path, h.startInterval));
  BERTH_TRY(json::readInt64(v, "Retries", path, h.retries));
  for (auto [name, value] : {std::pair{"Interval", h.interval}, {"Timeout", h.timeout},
                             {"StartPeriod", h.startPeriod}, {"StartInterval", h.startInterval},
                             {"Retries", h.retries}}) {
    if (value < 0) return json::fieldError(json::childPath(path, name), "must not be negative");
  }
  if (!h.test.empty()) {
    const std::string& kind = h.test[0];
    if (kind != "NONE" && kind != "CMD" && kind != "CMD-SHELL") {
      return json::fieldError(json::childPath(path, "Test") + "[0]",
                              "expected \"NONE\", \"CMD\" or \"CMD-SHELL\", got \"" + kind + "\"");
    }
  }
  return h;
}

sys::Result<ContainerConfig> readContainerConfig(const Json& v, const std::string& path) {
  if (!v.is_object()) return json::typeError(path, v, "an object");
  ContainerConfig c;
  BERTH_TRY(json::readString(v, "User", path, c.user));
  BERTH_TRY(json::readKeySet(v, "ExposedPorts", path, c.exposedPorts));
  BERTH_TRY(json::readStrings(v, "Env", path, c.env));
  BERTH_TRY(json::readOptionalStrings(v, "Entrypoint", path, c.entrypoint));
  BERTH_TRY(json::readOptionalStrings(v, "Cmd", path, c.cmd));
  BERTH_TRY(json::readKeySet(v, "Volumes", path, c.volumes));
  BERTH_TRY(json::readString(v, "WorkingDir", path, c.workingDir));
  BERTH_TRY(json::readStringMap(v, "Labels", path, c.labels));
  BERTH_TRY(json::readString(v, "StopSignal", path, c.stopSignal));
  BERTH_TRY(json::readStrings(v, "Shell", path, c.shell));
  BERTH_TRY(json::readStrings(v, "OnBuild", path, c.onBuild));
  BERTH_TRY(json::readBool(v, "ArgsEscaped", path, c.argsEscaped));
  if (const Json* h = json::member(v, "Healthcheck")) {
    c.healthcheck = BERTH_TRY(readHealthcheck(*h, json::childPath(path, "Healthcheck")));
  }
  return c;
}

sys::Result<RootFs> readRootFs(const Json& doc) {
  const Json* v = json::member(doc, "rootfs");
  if (!v) return json::fieldError("rootfs", "required field is missing");
  if (!v->is_object()) return json::typeError("rootfs", *v, "an object");
  RootFs r;
  BERTH_TRY(json::readString(*v, "type", "rootfs", r.type, Need::kRequired));
  if (r.type != "layers") return json::fieldError("rootfs.type", "expected \"layers\", got \"" + r.type + "\"");
  std::vector<std::string> ids;
  BERTH_TRY(json::readStrings(*v, "diff_ids", "rootfs", ids));
  r.diffIds.reserve(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    r.diffIds.push_back(BERTH_TRY_CTX(store::Digest::parse(ids[i]), json::indexPath("rootfs.diff_ids", i)));
  }
  return r;
}

sys::Result<std::vector<HistoryEntry>> readHistory(const Json& doc) {
  std::vector<HistoryEntry> out;
  const Json* v = json::member(doc, "history");
  if (!v) return out;
  if (!v->is_array()) return json::typeError("history", *v, "an array");
  for (size_t i = 0; i < v->size(); ++i) {
    std::string path = json::indexPath("history", i);
    const Json& e = (*v)[i];
    if (!e.is_object()) return json::typeError(path, e, "an object");
    HistoryEntry h;
    BERTH_TRY(json::readString(e, "created", path, h.created));
    BERTH_TRY(json::readString(e, "created_by", path, h.createdBy));
    BERTH_TRY(json::readString(e, "author", path, h.author));
    BERTH_TRY(json::readString(e, "comment", path, h.comment));
    BERTH_TRY(json::readBool(e, "empty_layer", path, h.emptyLayer));
    out.push_back(std::move(h));
  }
  return out;
}

sys::Result<ImageConfig> readImageConfig(const Json& doc) {
  ImageConfig ic;
  BERTH_TRY(json::readString(doc, "architecture", "", ic.architecture));
  BERTH_TRY(json::readString(doc, "os", "", ic.os));
  BERTH_TRY(json::readString(doc, "variant", "", ic.variant));
  BERTH_TRY(json::readString(doc, "os.version", "", ic.osVersion));
  BERTH_TRY(json::readString(doc, "created", "", ic.created));
  BERTH_TRY(json::readString(doc, "author", "", ic.author));
  if (const Json* c = json::member(doc, "config")) ic.config = BERTH_TRY(readContainerConfig(*c, "config"));
  ic.rootfs = BERTH_TRY(readRootFs(doc));
  ic.history = BERTH_TRY(readHistory(doc));
  return ic;
}

}  // namespace

sys::Result<ImageConfig> parseImageConfig(std::string_view text) {
  auto doc = BERTH_TRY(json::parseDocument(text, "image config"));
  return readImageConfig(doc).context("image config");
}

store::Digest chainIdOf(const store::Digest& parentChainId, const store::Digest& diffId) {
  std::string input = parentChainId.str();
  input += ' ';
  input += diffId.str();
  return store::sha256Of(input);
}

std::vector<store::Digest> chainIds(const std::vector<store::Digest>& diffIds) {
  std::vector<store::Digest> out;
  out.reserve(diffIds.size());
  for (const auto& diff : diffIds) {
    out.push_back(out.empty() ? diff : chainIdOf(out.back(), diff));
  }
  return out;
}

}  // namespace berth::image::oci
