// Image references: the Docker/OCI grammar `[registry[:port]/]path[:tag][@sha256:hex]`
// (docker/distribution's reference package), parsed and normalized the way
// every Docker-compatible client does, so "nginx" names the same image here
// as in `docker pull nginx`: docker.io/library/nginx:latest.
//
// Normalization rules:
//  - the first path component is a registry when it contains '.' or ':', is
//    "localhost", or holds an uppercase letter (so "Foo/bar" is a registry
//    "Foo" with repository "bar", as Docker reads it); otherwise the registry
//    is docker.io;
//  - "index.docker.io" is docker.io, and a one-component docker.io repository
//    lives under "library/";
//  - without tag and digest the tag is "latest"; with a digest alone there is
//    no tag, and the digest is what gets pulled.
#pragma once

#include <string>
#include <string_view>

#include "runtime/sys/result.h"

namespace berth::image::oci {

inline constexpr std::string_view kDockerHub = "docker.io";
inline constexpr std::string_view kDefaultTag = "latest";

struct Reference {
  std::string registry;    // "docker.io", "127.0.0.1:5000", "localhost"
  std::string repository;  // "library/nginx", "user/app"
  std::string tag;         // "latest"; empty when pinned by digest alone
  std::string digest;      // "sha256:<64 hex>" or empty

  // Parses and normalizes `text`; errors read
  // `invalid reference "Foo/Bar": repository name must be lowercase`.
  static sys::Result<Reference> parse(std::string_view text);

  // registry/repository, e.g. "docker.io/library/nginx".
  std::string name() const;
  // The normalized form: name[:tag][@digest].
  std::string str() const;
  // The short form users type: "nginx", "user/app", "127.0.0.1:5000/app".
  std::string familiarName() const;
  // familiarName()[:tag][@digest], e.g. "nginx:latest".
  std::string familiarString() const;
  // What a manifest request names: the digest when pinned, else the tag.
  std::string manifestReference() const { return digest.empty() ? tag : digest; }

  bool operator==(const Reference&) const = default;
};

// Grammar checks, exposed for the registry client and the import code.
bool isValidTag(std::string_view tag);                // [\w][\w.-]{0,127}
bool isValidDigest(std::string_view digest);          // sha256:<64 lowercase hex>
bool isValidPathComponent(std::string_view component);  // [a-z0-9]+([._]|__|-+)[a-z0-9]+...
bool isValidRegistryHost(std::string_view host);      // domain-component(.dc)*[:port]

}  // namespace berth::image::oci
