// volume.json encoding and volume name validation; see metadata.h and volume.h.
#include "storage/volume/metadata.h"

#include <nlohmann/json.hpp>

#include "storage/volume/volume.h"

namespace berth::storage::volume {
namespace {

using Json = nlohmann::json;

constexpr int kFormatVersion = 1;
constexpr size_t kMaxNameLength = 128;

bool isAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

sys::Error corrupt(const std::string& where, const char* field) {
  return sys::Error::invalid("corrupt volume metadata " + where + ": bad field \"" + field + "\"");
}

}  // namespace

sys::Result<void> validateName(std::string_view name) {
  // The first character being alphanumeric already rules out ".", ".." and
  // hidden names (the store's own ".lock", ".creating-*"); '/' is never allowed.
  auto bad = [&](const char* why) {
    return sys::Error(EINVAL, "invalid volume name \"" + std::string(name) + "\": " + why);
  };
  if (name.empty()) return bad("empty");
  if (name.size() > kMaxNameLength) return bad("longer than 128 characters");
  if (!isAlnum(name[0])) return bad("must start with a letter or digit");
  for (char c : name) {
    if (!isAlnum(c) && c != '_' && c != '.' && c != '-') {
      return bad("only letters, digits, '_', '.' and '-' are allowed");
    }
  }
  return sys::ok();
}

std::string encodeMetadata(const Metadata& metadata) {
  Json j = {{"version", kFormatVersion},
            {"name", metadata.name},
            {"createdUnix", metadata.createdUnix},
            {"labels", metadata.labels},
            {"sizeLimitBytes", metadata.sizeLimitBytes},
            {"populated", metadata.populated}};
  // Labels come from users: invalid UTF-8 is replaced rather than thrown on.
  return j.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

sys::Result<Metadata> decodeMetadata(std::string_view text, const std::string& where) {
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return sys::Error::invalid("corrupt volume metadata " + where + ": not a JSON object");
  }
  auto version = j.find("version");
  if (version == j.end() || !version->is_number_integer() || version->get<int>() != kFormatVersion) {
    return sys::Error::invalid("volume metadata " + where + ": unsupported format version");
  }
  Metadata m;
  auto name = j.find("name");
  if (name == j.end() || !name->is_string()) return corrupt(where, "name");
  m.name = name->get<std::string>();
  if (!validateName(m.name)) return corrupt(where, "name");
  auto created = j.find("createdUnix");
  if (created == j.end() || !created->is_number_integer()) return corrupt(where, "createdUnix");
  m.createdUnix = created->get<int64_t>();
  if (auto labels = j.find("labels"); labels != j.end()) {
    if (!labels->is_object()) return corrupt(where, "labels");
    for (const auto& [key, value] : labels->items()) {
      if (!value.is_string()) return corrupt(where, "labels");
      m.labels[key] = value.get<std::string>();
    }
  }
  if (auto limit = j.find("sizeLimitBytes"); limit != j.end()) {
    if (!limit->is_number_unsigned() && !(limit->is_number_integer() && limit->get<int64_t>() >= 0)) {
      return corrupt(where, "sizeLimitBytes");
    }
    m.sizeLimitBytes = limit->get<uint64_t>();
  }
  if (auto populated = j.find("populated"); populated != j.end()) {
    if (!populated->is_boolean()) return corrupt(where, "populated");
    m.populated = populated->get<bool>();
  }
  return m;
}

}  // namespace berth::storage::volume
