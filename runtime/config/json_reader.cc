// Typed JSON reading: see json_reader.h.
#include "runtime/config/json_reader.h"

#include <cstring>

namespace berth::runtime::config::json {

void Path::append(std::string& out) const {
  if (parent_ != nullptr) parent_->append(out);
  switch (kind_) {
    case Kind::kRoot:
      break;
    case Kind::kKey:
      if (!out.empty()) out += '.';
      out += key_;
      break;
    case Kind::kMapKey:
      out += "[\"";
      out += key_;
      out += "\"]";
      break;
    case Kind::kIndex:
      out += '[';
      out += std::to_string(index_);
      out += ']';
      break;
  }
}

std::string Path::str() const {
  std::string out;
  append(out);
  return out.empty() ? std::string("top level") : out;
}

sys::Error fieldError(const Path& path, std::string_view what) {
  std::string msg = path.str();
  msg += ": ";
  msg += what;
  return sys::Error::invalid(std::move(msg));
}

namespace {

std::string describe(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::object:
      return "object";
    case Json::value_t::array:
      return "array";
    case Json::value_t::string:
      return "string";
    case Json::value_t::boolean:
      return "boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      return "number " + v.dump();
    default:
      return "binary";
  }
}

// Collects where the first syntax error is; every other event is accepted.
// Used only after a failed parse, so valid documents are scanned once.
class ErrorLocator : public nlohmann::json_sax<Json> {
 public:
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    position_ = position;
    message_ = ex.what();
    return false;
  }

  std::string message() const {
    // Drop nlohmann's "[json.exception.parse_error.101] " prefix: it means
    // nothing to the user; the rest says line, column and what was found.
    std::string_view msg = message_;
    if (!msg.empty() && msg.front() == '[') {
      size_t end = msg.find("] ");
      if (end != std::string_view::npos) msg.remove_prefix(end + 2);
    }
    if (msg.empty()) return "invalid JSON near byte " + std::to_string(position_);
    return "invalid JSON: " + std::string(msg);
  }

 private:
  std::size_t position_ = 0;
  std::string message_;
};

}  // namespace

sys::Error typeError(const Path& path, const Json& value, std::string_view expected) {
  std::string what = "expected ";
  what += expected;
  what += ", got ";
  what += describe(value);
  return fieldError(path, what);
}

sys::Result<void> Reader<std::string>::read(const Json& v, const Path& p, std::string& out) {
  const auto* s = v.get_ptr<const Json::string_t*>();
  if (s == nullptr) return typeError(p, v, "a string");
  out = *s;
  return sys::ok();
}

sys::Result<void> Reader<bool>::read(const Json& v, const Path& p, bool& out) {
  const auto* b = v.get_ptr<const Json::boolean_t*>();
  if (b == nullptr) return typeError(p, v, "a boolean");
  out = *b;
  return sys::ok();
}

Fields::Fields(const Json& v, const Path& p) : path_(p) {
  if (v.is_object()) {
    object_ = &v;
  } else {
    result_ = typeError(p, v, "an object");
  }
}

const Json* Fields::find(const char* key) const {
  if (object_ == nullptr || !result_) return nullptr;
  auto it = object_->find(std::string_view(key));
  if (it == object_->end() || it->is_null()) return nullptr;
  return &*it;
}

void Fields::fail(const char* key, std::string_view what) {
  if (result_) result_ = fieldError(path_.child(key), what);
}

sys::Result<Json> parseDocument(std::string_view text) {
  Json doc = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false,
                         /*ignore_comments=*/false);
  if (!doc.is_discarded()) return doc;
  ErrorLocator locator;
  (void)Json::sax_parse(text.begin(), text.end(), &locator);
  return sys::Error::invalid(locator.message());
}

}  // namespace berth::runtime::config::json
