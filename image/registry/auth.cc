// Challenge parsing, credential lookup and base64 (see auth.h).
#include "image/registry/auth.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "runtime/sys/fs.h"

namespace berth::image::registry {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return out;
}

void skipSpaces(std::string_view& s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == ',')) {
    s.remove_prefix(1);
  }
}

bool isTokenChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("!#$%&'*+-.^_`|~").find(c) !=
                                                           std::string_view::npos;
}

// Reads a quoted-string (with \-escapes) or a token.
sys::Result<std::string> readValue(std::string_view& s, std::string_view header) {
  std::string value;
  if (!s.empty() && s.front() == '"') {
    s.remove_prefix(1);
    while (!s.empty() && s.front() != '"') {
      if (s.front() == '\\' && s.size() > 1) s.remove_prefix(1);
      value += s.front();
      s.remove_prefix(1);
    }
    if (s.empty()) {
      return sys::Error::invalid("WWW-Authenticate \"" + std::string(header) +
                                 "\": unterminated quoted string");
    }
    s.remove_prefix(1);
    return value;
  }
  while (!s.empty() && s.front() != ',' && s.front() != ' ') {
    value += s.front();
    s.remove_prefix(1);
  }
  return value;
}

constexpr std::string_view kBase64 =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// "https://index.docker.io/v1/" -> "index.docker.io"
std::string hostOfKey(std::string_view key) {
  if (size_t scheme = key.find("://"); scheme != std::string_view::npos) {
    key = key.substr(scheme + 3);
  }
  if (size_t slash = key.find('/'); slash != std::string_view::npos) key = key.substr(0, slash);
  return lower(key);
}

bool hostMatches(const std::string& keyHost, const std::string& want) {
  if (keyHost == want) return true;
  auto isHub = [](const std::string& h) {
    return h == "docker.io" || h == "index.docker.io" || h == "registry-1.docker.io";
  };
  return isHub(keyHost) && isHub(want);
}

}  // namespace

std::string Challenge::param(const std::string& name) const {
  auto it = params.find(name);
  return it == params.end() ? std::string() : it->second;
}

sys::Result<Challenge> parseChallenge(std::string_view header) {
  std::string_view s = header;
  skipSpaces(s);
  size_t schemeEnd = 0;
  while (schemeEnd < s.size() && isTokenChar(s[schemeEnd])) ++schemeEnd;
  if (schemeEnd == 0) {
    return sys::Error::invalid("WWW-Authenticate \"" + std::string(header) + "\": no auth scheme");
  }
  Challenge challenge;
  challenge.scheme = lower(s.substr(0, schemeEnd));
  s.remove_prefix(schemeEnd);
  skipSpaces(s);
  while (!s.empty()) {
    size_t eq = s.find('=');
    if (eq == std::string_view::npos) break;  // a token68 or a second scheme: ignored
    std::string name = lower(s.substr(0, eq));
    if (name.find(' ') != std::string::npos) break;  // "Basic realm=..., Bearer ..." : stop at 2nd
    s.remove_prefix(eq + 1);
    std::string value = BERTH_TRY(readValue(s, header));
    challenge.params.emplace(std::move(name), std::move(value));
    skipSpaces(s);
  }
  return challenge;
}

sys::Result<std::optional<Credentials>> findCredentials(std::string_view configJson,
                                                        std::string_view registryHost) {
  auto doc = nlohmann::json::parse(configJson, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return sys::Error::invalid("not a JSON object");
  }
  auto auths = doc.find("auths");
  if (auths == doc.end() || !auths->is_object()) return std::optional<Credentials>();
  std::string want = lower(registryHost);
  for (const auto& [key, entry] : auths->items()) {
    if (!hostMatches(hostOfKey(key), want) || !entry.is_object()) continue;
    Credentials creds;
    if (auto a = entry.find("auth"); a != entry.end() && a->is_string() && !a->get_ref<const std::string&>().empty()) {
      std::string decoded = BERTH_TRY_CTX(base64Decode(a->get<std::string>()),
                                          "auths[\"" + key + "\"].auth");
      size_t colon = decoded.find(':');
      if (colon == std::string::npos) {
        return sys::Error::invalid("auths[\"" + key + "\"].auth: not base64 of user:password");
      }
      creds.username = decoded.substr(0, colon);
      creds.password = decoded.substr(colon + 1);
    } else {
      if (auto u = entry.find("username"); u != entry.end() && u->is_string()) creds.username = *u;
      if (auto p = entry.find("password"); p != entry.end() && p->is_string()) creds.password = *p;
    }
    if (!creds.empty()) return std::optional<Credentials>(std::move(creds));
  }
  return std::optional<Credentials>();
}

sys::Result<std::optional<Credentials>> loadCredentials(const std::string& path,
                                                        std::string_view registryHost) {
  if (path.empty() || !sys::pathExists(path)) return std::optional<Credentials>();
  std::string text = BERTH_TRY_CTX(sys::readFile(path), "read auth file");
  return findCredentials(text, registryHost).context("auth file " + path);
}

std::string base64Encode(std::string_view data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    uint32_t n = (uint8_t(data[i]) << 16) | (uint8_t(data[i + 1]) << 8) | uint8_t(data[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += kBase64[(n >> shift) & 63];
  }
  if (size_t rest = data.size() - i; rest > 0) {
    uint32_t n = uint8_t(data[i]) << 16;
    if (rest == 2) n |= uint8_t(data[i + 1]) << 8;
    out += kBase64[(n >> 18) & 63];
    out += kBase64[(n >> 12) & 63];
    out += rest == 2 ? kBase64[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

sys::Result<std::string> base64Decode(std::string_view text) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  size_t padding = 0;
  for (char c : text) {
    if (c == '=') {
      ++padding;
      continue;
    }
    if (c == '\n' || c == '\r') continue;
    size_t v = kBase64.find(c);
    if (v == std::string_view::npos || padding > 0) {
      return sys::Error::invalid("invalid base64");
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  if (padding > 2) return sys::Error::invalid("invalid base64");
  return out;
}

std::string urlEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace berth::image::registry
