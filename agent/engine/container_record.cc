// The container record as JSON; see container_record.h.
//
// The document is parsed with nlohmann's non-throwing API and every field's
// type is checked before it is read, so a corrupt or hand-edited record is
// an error naming the file and the field, never an exception. The user's
// ContainerSpec is stored with protobuf's own JSON mapping (bytes fields as
// base64), so argv and environment bytes that are not UTF-8 survive exactly.
#include "agent/engine/container_record.h"

#include <google/protobuf/util/json_util.h>

#include <array>
#include <cerrno>
#include <nlohmann/json.hpp>
#include <utility>

#include "runtime/sys/fs.h"

namespace berth::agent::engine {
namespace {

using Json = nlohmann::json;

constexpr std::array<std::pair<RecordState, const char*>, 5> kStateNames = {{
    {RecordState::kCreating, "creating"},
    {RecordState::kCreated, "created"},
    {RecordState::kRunning, "running"},
    {RecordState::kExited, "exited"},
    {RecordState::kRemoving, "removing"},
}};

// Reads the fields of one JSON object, remembering the first problem, so the
// decoder reads as a plain list of fields and checks once at the end.
class FieldReader {
 public:
  explicit FieldReader(const Json& object) : object_(object) {}

  template <class T>
  void number(const char* key, T& out) {
    const Json* v = find(key);
    if (v == nullptr) return;
    if (!v->is_number_integer()) return fail(key, "expected an integer");
    out = v->get<T>();
  }
  void boolean(const char* key, bool& out) {
    const Json* v = find(key);
    if (v == nullptr) return;
    if (!v->is_boolean()) return fail(key, "expected true or false");
    out = v->get<bool>();
  }
  void string(const char* key, std::string& out) {
    const Json* v = find(key);
    if (v == nullptr) return;
    if (!v->is_string()) return fail(key, "expected a string");
    out = v->get<std::string>();
  }
  void strings(const char* key, std::vector<std::string>& out) {
    const Json* v = find(key);
    if (v == nullptr) return;
    if (!v->is_array()) return fail(key, "expected an array of strings");
    for (const Json& item : *v) {
      if (!item.is_string()) return fail(key, "expected an array of strings");
      out.push_back(item.get<std::string>());
    }
  }
  void stringMap(const char* key, std::map<std::string, std::string>& out) {
    const Json* v = find(key);
    if (v == nullptr) return;
    if (!v->is_object()) return fail(key, "expected an object of strings");
    for (const auto& [k, item] : v->items()) {
      if (!item.is_string()) return fail(key, "expected an object of strings");
      out[k] = item.get<std::string>();
    }
  }
  const Json* object(const char* key) {
    const Json* v = find(key);
    if (v != nullptr && !v->is_object()) fail(key, "expected an object");
    return v != nullptr && v->is_object() ? v : nullptr;
  }
  void fail(const std::string& key, const std::string& what) {
    if (error_.empty()) error_ = key + ": " + what;
  }
  const std::string& error() const { return error_; }

 private:
  const Json* find(const char* key) const {
    auto it = object_.find(key);
    return it == object_.end() || it->is_null() ? nullptr : &*it;
  }

  const Json& object_;
  std::string error_;
};

Json messageToJson(const google::protobuf::Message& spec) {
  std::string text;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  // Serializing a message we built cannot fail; an empty object is the fallback.
  if (!google::protobuf::util::MessageToJsonString(spec, &text, options).ok())
    return Json::object();
  Json parsed = Json::parse(text, nullptr, false);
  return parsed.is_discarded() ? Json::object() : parsed;
}

bool messageFromJson(const Json& json, google::protobuf::Message& spec) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;  // a record written by a newer berthd
  return google::protobuf::util::JsonStringToMessage(json.dump(), &spec, options).ok();
}

void readState(FieldReader& r, ContainerRecord& record) {
  std::string state;
  r.string("state", state);
  bool known = false;
  for (const auto& [value, name] : kStateNames) {
    if (state == name) record.state = value, known = true;
  }
  if (!known) r.fail("state", "unknown state \"" + state + "\"");
  r.number("initPid", record.initPid);
  r.number("shimPid", record.shimPid);
  r.number("startedNs", record.startedNs);
  r.boolean("everStarted", record.everStarted);
  r.boolean("stoppedByUser", record.stoppedByUser);
  r.number("restartCount", record.restartCount);
  r.number("backoffStep", record.backoffStep);
  if (const Json* exit = r.object("lastExit")) {
    FieldReader e(*exit);
    e.number("exitCode", record.lastExit.exitCode);
    e.number("signal", record.lastExit.signal);
    e.number("finishedNs", record.lastExit.finishedNs);
    e.boolean("oomKilled", record.lastExit.oomKilled);
    if (!e.error().empty()) r.fail("lastExit", e.error());
    record.hasExit = true;
  }
}

}  // namespace

const char* recordStateName(RecordState state) {
  for (const auto& [value, name] : kStateNames) {
    if (value == state) return name;
  }
  return "unknown";
}

std::string encodeRecord(const ContainerRecord& r) {
  Json doc = {
      {"version", kRecordVersion},
      {"id", r.id},
      {"name", r.name},
      {"createdNs", r.createdNs},
      {"spec", messageToJson(r.spec)},
      {"imageReference", r.imageReference},
      {"imageId", r.imageId},
      {"layerDirs", r.layerDirs},
      {"args", r.args},
      {"env", r.env},
      {"user", r.user},
      {"workdir", r.workdir},
      {"shell", r.shell},
      {"stopSignal", r.stopSignal},
      {"cgroupsPath", r.cgroupsPath},
      {"labels", r.labels},
      {"state", recordStateName(r.state)},
      {"initPid", r.initPid},
      {"shimPid", r.shimPid},
      {"startedNs", r.startedNs},
      {"everStarted", r.everStarted},
      {"stoppedByUser", r.stoppedByUser},
      {"restartCount", r.restartCount},
      {"backoffStep", r.backoffStep},
  };
  if (r.healthcheck) doc["healthcheck"] = messageToJson(*r.healthcheck);
  if (r.hasExit) {
    doc["lastExit"] = {{"exitCode", r.lastExit.exitCode},
                       {"signal", r.lastExit.signal},
                       {"finishedNs", r.lastExit.finishedNs},
                       {"oomKilled", r.lastExit.oomKilled}};
  }
  // Effective argv/env are bytes and may not be UTF-8: replaced here (the
  // spec keeps the exact bytes), rather than letting the serializer throw.
  return doc.dump(1, '\t', false, Json::error_handler_t::replace) + "\n";
}

sys::Result<ContainerRecord> decodeRecord(const std::string& text, const std::string& source) {
  auto bad = [&](const std::string& what) {
    return sys::Error(EINVAL, "corrupt container record " + source + ": " + what);
  };
  Json doc = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return bad("not valid JSON");
  if (!doc.is_object()) return bad("not a JSON object");
  ContainerRecord record;
  FieldReader r(doc);
  int version = 0;
  r.number("version", version);
  if (r.error().empty() && version != kRecordVersion) {
    return bad("version " + std::to_string(version) + " is not " + std::to_string(kRecordVersion));
  }
  r.string("id", record.id);
  r.string("name", record.name);
  r.number("createdNs", record.createdNs);
  if (const Json* spec = r.object("spec"); spec && !messageFromJson(*spec, record.spec)) {
    r.fail("spec", "not a ContainerSpec");
  }
  r.string("imageReference", record.imageReference);
  r.string("imageId", record.imageId);
  r.strings("layerDirs", record.layerDirs);
  r.strings("args", record.args);
  r.strings("env", record.env);
  r.string("user", record.user);
  r.string("workdir", record.workdir);
  r.string("shell", record.shell);
  r.string("stopSignal", record.stopSignal);
  r.string("cgroupsPath", record.cgroupsPath);
  r.stringMap("labels", record.labels);
  if (const Json* check = r.object("healthcheck")) {
    record.healthcheck.emplace();
    if (!messageFromJson(*check, *record.healthcheck)) r.fail("healthcheck", "not a HealthCheck");
  }
  readState(r, record);
  if (!r.error().empty()) return bad(r.error());
  if (record.id.empty()) return bad("id: missing");
  return record;
}

sys::Result<void> saveRecord(const std::string& dir, const ContainerRecord& record) {
  std::string path = sys::joinPath(dir, kRecordFileName);
  // Durable (fsync, rename, fsync dir), not only SIGKILL-safe: after a power
  // cut the record is what brings a restart=always container back, and a
  // torn one would leave its directory unclaimed. ~0.5 ms a save.
  return sys::writeFileAtomic(path, encodeRecord(record), 0600).context("save " + path);
}

sys::Result<ContainerRecord> loadRecord(const std::string& dir) {
  std::string path = sys::joinPath(dir, kRecordFileName);
  std::string text = BERTH_TRY(sys::readFile(path));
  return decodeRecord(text, path);
}

}  // namespace berth::agent::engine
