// From a project's service to the container the engine creates for it, and
// the hash that tells a deploy whether a running container still matches.
//
// The container is "<project>-<service>" on the network named after the
// project, reachable by the service's name (or hostname) and aliases, main
// also by the project's name. Named volumes are scoped to the project
// ("<project>_<volume>") so two projects' "db" never meet. Labels:
// berth.project, berth.service, berth.spec-hash. The health check is the
// spec's own field, so a changed check changes the hash and recreates the
// container. The public entrance (publicEntrance) gets "-p HOST:PORT".
//
// The image DIGEST is the deployer's to add: containerSpecOf knows only the
// reference the file names. After resolving it, the deployer pins
// spec.image to "<ref>@sha256:..." and calls stampSpecHash(spec), so a new
// image behind the same tag recreates the container.
#pragma once

#include <string>

#include "agent/api/berth.pb.h"
#include "agent/project/model.h"

namespace berth::agent::project {

namespace pb = ::berth::api;

inline constexpr const char* kProjectLabel = "berth.project";
inline constexpr const char* kServiceLabel = "berth.service";
inline constexpr const char* kSpecHashLabel = "berth.spec-hash";
// Added by the deployer: the manifest digest the reference resolved to.
inline constexpr const char* kImageDigestLabel = "berth.image-digest";

// "<project>-<service>".
std::string containerNameOf(const Project& project, const Service& service);
// The engine's volume for the project's volume `volume`: "<project>_<volume>".
std::string volumeNameFor(const std::string& project, const std::string& volume);

// The spec, with berth.spec-hash already stamped.
pb::ContainerSpec containerSpecOf(const Project& project, const Service& service);

// "sha256:<hex>" over a deterministic serialization of everything in the
// spec except the berth.spec-hash label itself.
std::string specHash(const pb::ContainerSpec& spec);

// Sets the berth.spec-hash label to specHash(spec).
void stampSpecHash(pb::ContainerSpec& spec);

}  // namespace berth::agent::project
