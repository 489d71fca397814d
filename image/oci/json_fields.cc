// Typed JSON field readers: see json_fields.h.
#include "image/oci/json_fields.h"

#include <limits>

namespace berth::image::oci::json {

sys::Result<Json> parseDocument(std::string_view text, std::string_view what) {
  Json doc = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return sys::Error::invalid(std::string(what) + ": not valid JSON");
  if (!doc.is_object()) return typeError(what, doc, "a JSON object");
  return doc;
}

std::string_view kindOf(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null: return "null";
    case Json::value_t::object: return "object";
    case Json::value_t::array: return "array";
    case Json::value_t::string: return "string";
    case Json::value_t::boolean: return "boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: return "integer";
    case Json::value_t::number_float: return "number";
    default: return "value";
  }
}

sys::Error fieldError(std::string_view path, std::string_view what) {
  std::string s(path);
  s += ": ";
  s += what;
  return sys::Error::invalid(std::move(s));
}

sys::Error typeError(std::string_view path, const Json& v, std::string_view expected) {
  std::string what = "expected ";
  what += expected;
  what += ", got ";
  what += kindOf(v);
  return fieldError(path, what);
}

std::string childPath(std::string_view path, std::string_view key) {
  std::string s(path);
  if (!s.empty()) s += '.';
  s += key;
  return s;
}

std::string indexPath(std::string_view path, size_t i) {
  return std::string(path) + "[" + std::to_string(i) + "]";
}

const Json* member(const Json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

namespace {

// Shared prologue: the member, or an error when required and missing.
sys::Result<const Json*> find(const Json& obj, std::string_view key, std::string_view path, Need need) {
  const Json* v = member(obj, key);
  if (!v && need == Need::kRequired) return fieldError(childPath(path, key), "required field is missing");
  return v;
}

sys::Result<void> readStringArray(const Json& v, std::string_view path, std::vector<std::string>& out) {
  if (!v.is_array()) return typeError(path, v, "an array of strings");
  std::vector<std::string> items;
  items.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_string()) return typeError(indexPath(path, i), v[i], "a string");
    items.push_back(v[i].get<std::string>());
  }
  out = std::move(items);
  return sys::ok();
}

}  // namespace

sys::Result<void> readString(const Json& obj, std::string_view key, std::string_view path, std::string& out,
                             Need need) {
  const Json* v = BERTH_TRY(find(obj, key, path, need));
  if (!v) return sys::ok();
  if (!v->is_string()) return typeError(childPath(path, key), *v, "a string");
  out = v->get<std::string>();
  return sys::ok();
}

sys::Result<void> readInt64(const Json& obj, std::string_view key, std::string_view path, int64_t& out,
                            Need need) {
  const Json* v = BERTH_TRY(find(obj, key, path, need));
  if (!v) return sys::ok();
  if (v->is_number_unsigned()) {
    uint64_t u = v->get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return fieldError(childPath(path, key), "integer out of range");
    }
    out = static_cast<int64_t>(u);
    return sys::ok();
  }
  if (!v->is_number_integer()) return typeError(childPath(path, key), *v, "an integer");
  out = v->get<int64_t>();
  return sys::ok();
}

sys::Result<void> readBool(const Json& obj, std::string_view key, std::string_view path, bool& out) {
  const Json* v = member(obj, key);
  if (!v) return sys::ok();
  if (!v->is_boolean()) return typeError(childPath(path, key), *v, "a boolean");
  out = v->get<bool>();
  return sys::ok();
}

sys::Result<void> readStrings(const Json& obj, std::string_view key, std::string_view path,
                              std::vector<std::string>& out, Need need) {
  const Json* v = BERTH_TRY(find(obj, key, path, need));
  if (!v) return sys::ok();
  return readStringArray(*v, childPath(path, key), out);
}

sys::Result<void> readOptionalStrings(const Json& obj, std::string_view key, std::string_view path,
                                      std::optional<std::vector<std::string>>& out) {
  const Json* v = member(obj, key);
  if (!v) return sys::ok();
  std::vector<std::string> items;
  BERTH_TRY(readStringArray(*v, childPath(path, key), items));
  out = std::move(items);
  return sys::ok();
}

sys::Result<void> readStringMap(const Json& obj, std::string_view key, std::string_view path,
                                std::map<std::string, std::string>& out) {
  const Json* v = member(obj, key);
  if (!v) return sys::ok();
  std::string here = childPath(path, key);
  if (!v->is_object()) return typeError(here, *v, "an object of strings");
  std::map<std::string, std::string> items;
  for (const auto& [k, val] : v->items()) {
    if (!val.is_string()) return typeError(here + "[\"" + k + "\"]", val, "a string");
    items.emplace(k, val.get<std::string>());
  }
  out = std::move(items);
  return sys::ok();
}

sys::Result<void> readKeySet(const Json& obj, std::string_view key, std::string_view path,
                             std::vector<std::string>& out) {
  const Json* v = member(obj, key);
  if (!v) return sys::ok();
  std::string here = childPath(path, key);
  if (!v->is_object()) return typeError(here, *v, "an object");
  std::vector<std::string> keys;
  for (const auto& [k, val] : v->items()) {
    if (!val.is_object() && !val.is_null()) return typeError(here + "[\"" + k + "\"]", val, "an object");
    keys.push_back(k);
  }
  out = std::move(keys);  // nlohmann objects iterate in key order: already sorted
  return sys::ok();
}

sys::Result<void> readDigest(const Json& obj, std::string_view key, std::string_view path, store::Digest& out,
                             Need need) {
  std::string text;
  bool present = member(obj, key) != nullptr;
  BERTH_TRY(readString(obj, key, path, text, need));
  if (!present) return sys::ok();
  out = BERTH_TRY_CTX(store::Digest::parse(text), childPath(path, key));
  return sys::ok();
}

}  // namespace berth::image::oci::json
