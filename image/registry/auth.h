// Registry authentication pieces that need no network: the WWW-Authenticate
// challenge (RFC 7235 syntax, as registries send it), credentials from a
// docker config.json-format file, and base64 for Basic auth.
//
//   WWW-Authenticate: Bearer realm="https://auth.example/token",service="registry",
//                     scope="repository:library/nginx:pull"
//   config.json:      {"auths": {"host:port": {"auth": base64("user:pass")}}}
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "runtime/sys/result.h"

namespace berth::image::registry {

struct Challenge {
  std::string scheme;  // lowercase: "bearer" or "basic"
  std::map<std::string, std::string> params;  // lowercase names: realm, service, scope, error
  std::string param(const std::string& name) const;
};

// Parses one WWW-Authenticate header value. Only the first challenge is
// kept: registries send one.
sys::Result<Challenge> parseChallenge(std::string_view header);

struct Credentials {
  std::string username;
  std::string password;
  bool empty() const { return username.empty() && password.empty(); }
};

// Looks up `registryHost` in a config.json-format document. Keys may carry a
// scheme and path ("https://index.docker.io/v1/"); docker.io also matches
// index.docker.io and registry-1.docker.io. Entries use "auth" (base64 of
// user:pass) or "username"/"password". No entry is not an error.
sys::Result<std::optional<Credentials>> findCredentials(std::string_view configJson,
                                                        std::string_view registryHost);
// Reads the file first; a missing file means no credentials.
sys::Result<std::optional<Credentials>> loadCredentials(const std::string& path,
                                                        std::string_view registryHost);

std::string base64Encode(std::string_view data);
sys::Result<std::string> base64Decode(std::string_view text);
// Percent-encodes a query value (scope contains ':' and '/').
std::string urlEncode(std::string_view text);

}  // namespace berth::image::registry
