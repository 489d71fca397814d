// Image reference parsing and normalization (see reference.h for the rules).
// The grammar is checked by hand rather than with std::regex: references come
// from users and manifests, the checks are short, and each failure can say
// which part is wrong.
#include "image/oci/reference.h"

#include <algorithm>
#include <cctype>

namespace berth::image::oci {
namespace {

// docker/distribution's NameTotalLengthMax: registry/repository.
constexpr size_t kNameMaxLength = 255;
constexpr std::string_view kLegacyHub = "index.docker.io";
constexpr std::string_view kOfficialPrefix = "library/";

bool isLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool isAlnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool isWord(char c) { return isAlnum(c) || c == '_'; }
bool isHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

bool hasUpper(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

// domain-component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
bool isDomainComponent(std::string_view s) {
  if (s.empty() || !isAlnum(s.front()) || !isAlnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return isAlnum(c) || c == '-'; });
}

sys::Error invalid(std::string_view text, std::string_view why) {
  std::string msg = "invalid reference \"";
  msg += text;
  msg += "\": ";
  msg += why;
  return sys::Error::invalid(std::move(msg));
}

// Splits "name[:tag][@digest]" into its three parts. The tag colon is the
// last ':' after the last '/', so "host:5000/app" keeps its port.
struct Parts {
  std::string_view name, tag, digest;
  bool hasTag = false;
};

Parts splitParts(std::string_view text) {
  Parts p;
  std::string_view rest = text;
  if (size_t at = rest.find('@'); at != std::string_view::npos) {
    p.digest = rest.substr(at + 1);
    rest = rest.substr(0, at);
  }
  size_t slash = rest.rfind('/');
  size_t colon = rest.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    p.tag = rest.substr(colon + 1);
    p.hasTag = true;
    rest = rest.substr(0, colon);
  }
  p.name = rest;
  return p;
}

// Docker's rule for "is the first component a registry?".
bool looksLikeRegistry(std::string_view first) {
  return first.find_first_of(".:") != std::string_view::npos || first == "localhost" ||
         hasUpper(first);
}

bool isHex64(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), isHex);
}

sys::Result<void> checkRepository(std::string_view text, std::string_view repo) {
  if (repo.empty()) return invalid(text, "repository name must not be empty");
  if (hasUpper(repo)) return invalid(text, "repository name must be lowercase");
  size_t start = 0;
  while (start <= repo.size()) {
    size_t end = repo.find('/', start);
    if (end == std::string_view::npos) end = repo.size();
    std::string_view component = repo.substr(start, end - start);
    if (!isValidPathComponent(component)) {
      return invalid(text, "invalid path component \"" + std::string(component) +
                               "\" (lowercase letters and digits, separated by '.', '_', '__' "
                               "or '-')");
    }
    start = end + 1;
  }
  return sys::ok();
}

}  // namespace

bool isValidPathComponent(std::string_view c) {
  // alpha-numeric (separator alpha-numeric)*, separator := [_.] | __ | -+
  if (c.empty() || !isLowerAlnum(c.front()) || !isLowerAlnum(c.back())) return false;
  size_t i = 0;
  while (i < c.size()) {
    if (isLowerAlnum(c[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < c.size() && !isLowerAlnum(c[j])) ++j;
    std::string_view sep = c.substr(i, j - i);
    bool dashes = std::all_of(sep.begin(), sep.end(), [](char ch) { return ch == '-'; });
    if (!(sep == "." || sep == "_" || sep == "__" || dashes)) return false;
    i = j;
  }
  return true;
}

bool isValidTag(std::string_view tag) {
  if (tag.empty() || tag.size() > 128 || !isWord(tag.front())) return false;
  return std::all_of(tag.begin(), tag.end(),
                     [](char c) { return isWord(c) || c == '.' || c == '-'; });
}

bool isValidDigest(std::string_view digest) {
  return digest.size() == 71 && digest.substr(0, 7) == "sha256:" && isHex64(digest.substr(7));
}

bool isValidRegistryHost(std::string_view host) {
  std::string_view domain = host;
  if (size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    std::string_view port = host.substr(colon + 1);
    if (port.empty() || port.size() > 5 ||
        !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return false;
    }
    if (std::stoul(std::string(port)) > 65535) return false;
    domain = host.substr(0, colon);
  }
  if (domain.empty()) return false;
  size_t start = 0;
  while (start <= domain.size()) {
    size_t end = domain.find('.', start);
    if (end == std::string_view::npos) end = domain.size();
    if (!isDomainComponent(domain.substr(start, end - start))) return false;
    start = end + 1;
  }
  return true;
}

sys::Result<Reference> Reference::parse(std::string_view text) {
  if (text.empty()) return invalid(text, "empty reference");
  if (isHex64(text)) {
    return invalid(text, "a 64-character hexadecimal string is an image ID, not a repository name");
  }
  Parts parts = splitParts(text);
  if (parts.name.empty()) return invalid(text, "repository name must not be empty");

  Reference ref;
  std::string_view repo = parts.name;
  size_t slash = parts.name.find('/');
  if (slash != std::string_view::npos && looksLikeRegistry(parts.name.substr(0, slash))) {
    std::string_view host = parts.name.substr(0, slash);
    if (!isValidRegistryHost(host)) {
      return invalid(text, "invalid registry host \"" + std::string(host) + "\"");
    }
    ref.registry = host == kLegacyHub ? std::string(kDockerHub) : std::string(host);
    repo = parts.name.substr(slash + 1);
  } else {
    ref.registry = std::string(kDockerHub);
  }
  BERTH_TRY(checkRepository(text, repo));
  ref.repository = std::string(repo);
  if (ref.registry == kDockerHub && ref.repository.find('/') == std::string::npos) {
    ref.repository.insert(0, kOfficialPrefix);
  }
  if (ref.registry.size() + 1 + ref.repository.size() > kNameMaxLength) {
    return invalid(text, "repository name longer than " + std::to_string(kNameMaxLength) +
                             " characters");
  }

  if (parts.hasTag) {
    if (!isValidTag(parts.tag)) {
      return invalid(text, "invalid tag \"" + std::string(parts.tag) +
                               "\" (up to 128 of [A-Za-z0-9_.-], not starting with '.' or '-')");
    }
    ref.tag = std::string(parts.tag);
  }
  if (!parts.digest.empty() || text.find('@') != std::string_view::npos) {
    if (parts.digest.substr(0, 7) != "sha256:") {
      return invalid(text, "invalid digest \"" + std::string(parts.digest) +
                               "\" (only sha256:<64 hex> is supported)");
    }
    if (!isValidDigest(parts.digest)) {
      return invalid(text, "invalid digest \"" + std::string(parts.digest) +
                               "\" (sha256 needs 64 lowercase hex characters)");
    }
    ref.digest = std::string(parts.digest);
  }
  if (ref.tag.empty() && ref.digest.empty()) ref.tag = std::string(kDefaultTag);
  return ref;
}

std::string Reference::name() const { return registry + "/" + repository; }

std::string Reference::str() const {
  std::string out = name();
  if (!tag.empty()) out += ":" + tag;
  if (!digest.empty()) out += "@" + digest;
  return out;
}

std::string Reference::familiarName() const {
  if (registry != kDockerHub) return name();
  if (repository.compare(0, kOfficialPrefix.size(), kOfficialPrefix) == 0 &&
      repository.find('/', kOfficialPrefix.size()) == std::string::npos) {
    return repository.substr(kOfficialPrefix.size());
  }
  return repository;
}

std::string Reference::familiarString() const {
  std::string out = familiarName();
  if (!tag.empty()) out += ":" + tag;
  if (!digest.empty()) out += "@" + digest;
  return out;
}

}  // namespace berth::image::oci
