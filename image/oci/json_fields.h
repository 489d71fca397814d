// Typed, non-throwing reading of OCI/Docker JSON documents (internal to
// image/oci).
//
// Manifests, indexes and configs come from registries and archives, so they
// are untrusted: documents are parsed with nlohmann's non-throwing API and
// every value's type is checked before it is read, so no exception can
// escape. Errors name the field path ("layers[2].digest: expected a string,
// got number"). JSON null counts as absent, as it does for Go's encoding/json
// that wrote most of these documents (Docker writes "Volumes": null).
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "image/store/content_store.h"
#include "runtime/sys/result.h"

namespace berth::image::oci::json {

using Json = nlohmann::json;

enum class Need { kOptional, kRequired };

// Parses a whole document; `what` names it in errors ("image manifest").
sys::Result<Json> parseDocument(std::string_view text, std::string_view what);

// "object", "array", "string", "number", ...
std::string_view kindOf(const Json& v);
sys::Error fieldError(std::string_view path, std::string_view what);
sys::Error typeError(std::string_view path, const Json& v, std::string_view expected);
std::string childPath(std::string_view path, std::string_view key);
std::string indexPath(std::string_view path, size_t i);

// The member `key` of object `obj`, or nullptr when it is absent or null.
const Json* member(const Json& obj, std::string_view key);

// Each reader leaves `out` untouched when the field is absent (or null) and
// kOptional; kRequired makes absence an error.
sys::Result<void> readString(const Json& obj, std::string_view key, std::string_view path, std::string& out,
                             Need need = Need::kOptional);
sys::Result<void> readInt64(const Json& obj, std::string_view key, std::string_view path, int64_t& out,
                            Need need = Need::kOptional);
sys::Result<void> readBool(const Json& obj, std::string_view key, std::string_view path, bool& out);
sys::Result<void> readStrings(const Json& obj, std::string_view key, std::string_view path,
                              std::vector<std::string>& out, Need need = Need::kOptional);
// Keeps "absent" (nullopt) apart from "[]" (Entrypoint [] clears the base's).
sys::Result<void> readOptionalStrings(const Json& obj, std::string_view key, std::string_view path,
                                      std::optional<std::vector<std::string>>& out);
sys::Result<void> readStringMap(const Json& obj, std::string_view key, std::string_view path,
                                std::map<std::string, std::string>& out);
// Docker's "set" encoding: {"80/tcp": {}, "443/tcp": {}} -> keys, sorted.
sys::Result<void> readKeySet(const Json& obj, std::string_view key, std::string_view path,
                             std::vector<std::string>& out);
sys::Result<void> readDigest(const Json& obj, std::string_view key, std::string_view path, store::Digest& out,
                             Need need = Need::kRequired);

}  // namespace berth::image::oci::json
