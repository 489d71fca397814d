// Typed, non-throwing reading of a parsed JSON document into C++ structs.
//
// Internal to runtime/config (parse.cc). Runtime code must not throw, so the
// document is parsed with nlohmann's non-throwing API and every value's type
// is checked here before it is read. Each error names the full field path the
// way a user writes it ("linux.namespaces[2].type: expected a string, got
// number 3"). The path is a chain of stack frames that is only turned into a
// string when an error is reported, so reading a valid config allocates
// nothing for paths. JSON null counts as absent, as it does for runc (Go).
#pragma once

#include <concepts>
#include <cstdint>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/sys/result.h"

namespace berth::runtime::config::json {

using Json = nlohmann::json;

// One step of a field path: a key of an object, a key of a map (printed
// quoted, since sysctl and annotation keys contain dots) or an array index.
class Path {
 public:
  Path() = default;  // the document itself
  Path child(std::string_view key) const { return Path(this, key, Kind::kKey); }
  Path mapKey(std::string_view key) const { return Path(this, key, Kind::kMapKey); }
  Path index(size_t i) const {
    Path p(this, {}, Kind::kIndex);
    p.index_ = i;
    return p;
  }
  std::string str() const;

 private:
  enum class Kind { kRoot, kKey, kMapKey, kIndex };
  Path(const Path* parent, std::string_view key, Kind kind)
      : parent_(parent), key_(key), kind_(kind) {}
  void append(std::string& out) const;

  const Path* parent_ = nullptr;
  std::string_view key_;
  size_t index_ = 0;
  Kind kind_ = Kind::kRoot;
};

// "<path>: <what>"
sys::Error fieldError(const Path& path, std::string_view what);
// "<path>: expected <expected>, got <kind of value>"
sys::Error typeError(const Path& path, const Json& value, std::string_view expected);

// Reader<T>::read(value, path, out) fills `out` from `value` or names what is
// wrong. parse.cc specialises it for each config struct.
template <class T>
struct Reader;

template <>
struct Reader<std::string> {
  static sys::Result<void> read(const Json& v, const Path& p, std::string& out);
};

template <>
struct Reader<bool> {
  static sys::Result<void> read(const Json& v, const Path& p, bool& out);
};

// Integers: JSON floats are rejected (as Go's encoding/json does) and values
// outside T's range are errors, never silently truncated.
template <std::integral T>
requires(!std::same_as<T, bool>) struct Reader<T> {
  static sys::Result<void> read(const Json& v, const Path& p, T& out) {
    constexpr bool kUnsigned = std::is_unsigned_v<T>;
    const char* expected = kUnsigned ? "an unsigned integer" : "an integer";
    if (const auto* u = v.get_ptr<const Json::number_unsigned_t*>()) {
      if (*u > static_cast<uint64_t>(std::numeric_limits<T>::max()))
        return rangeError(v, p, expected);
      out = static_cast<T>(*u);
      return sys::ok();
    }
    if (const auto* i = v.get_ptr<const Json::number_integer_t*>()) {
      // The parser stores only negative numbers as number_integer.
      if (kUnsigned || *i < static_cast<int64_t>(std::numeric_limits<T>::min())) {
        return kUnsigned ? typeError(p, v, expected) : rangeError(v, p, expected);
      }
      out = static_cast<T>(*i);
      return sys::ok();
    }
    return typeError(p, v, expected);
  }

 private:
  static sys::Error rangeError(const Json& v, const Path& p, const char* expected) {
    return fieldError(p, v.dump() + " is out of range for " + expected + " of " +
                             std::to_string(sizeof(T) * 8) + " bits");
  }
};

template <class T>
struct Reader<std::optional<T>> {
  static sys::Result<void> read(const Json& v, const Path& p, std::optional<T>& out) {
    T value{};
    BERTH_TRY(Reader<T>::read(v, p, value));
    out = std::move(value);
    return sys::ok();
  }
};

template <class T>
struct Reader<std::vector<T>> {
  static sys::Result<void> read(const Json& v, const Path& p, std::vector<T>& out) {
    if (!v.is_array()) return typeError(p, v, "an array");
    out.clear();
    out.resize(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
      BERTH_TRY(Reader<T>::read(v[i], p.index(i), out[i]));
    }
    return sys::ok();
  }
};

template <class T>
struct Reader<std::map<std::string, T>> {
  static sys::Result<void> read(const Json& v, const Path& p, std::map<std::string, T>& out) {
    if (!v.is_object()) return typeError(p, v, "an object");
    out.clear();
    for (const auto& [key, value] : v.items()) {
      T item{};
      BERTH_TRY(Reader<T>::read(value, p.mapKey(key), item));
      out.emplace(key, std::move(item));
    }
    return sys::ok();
  }
};

// Reads the optional fields of one JSON object, stopping at the first error:
//   Fields f(v, p);
//   f("uid", user.uid)("gid", user.gid);
//   return f.result();
// Absent and null fields leave the target untouched; unknown fields are
// ignored, as the runtime-spec requires.
class Fields {
 public:
  Fields(const Json& v, const Path& p);

  template <class T>
  Fields& operator()(const char* key, T& out) {
    if (!result_) return *this;
    if (const Json* value = find(key)) result_ = Reader<T>::read(*value, path_.child(key), out);
    return *this;
  }
  // The field's value, or nullptr when absent or null (or after an error).
  const Json* find(const char* key) const;
  // Records an error for `key` unless one was already recorded.
  void fail(const char* key, std::string_view what);

  const Path& path() const { return path_; }
  sys::Result<void> result() && { return std::move(result_); }

 private:
  const Json* object_ = nullptr;
  const Path& path_;
  sys::Result<void> result_;
};

// Parses `text` without exceptions; a syntax error names line and column.
sys::Result<Json> parseDocument(std::string_view text);

}  // namespace berth::runtime::config::json
