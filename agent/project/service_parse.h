// One service of a project file (main, services.X, or a Compose service)
// read into the model, with what the whole file's validation needs to know
// about it (internal to agent/project; project_file.cc drives it).
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/project/model.h"
#include "agent/project/yaml_reader.h"

namespace berth::agent::project::detail {

// What the file-wide pass knows before the services are read, and what the
// services leave behind for the checks that span them.
struct ParseState {
  Ctx ctx;
  std::string projectName;
  std::set<std::string> serviceNames;         // every service, main included
  std::set<std::string> declaredVolumes;      // top-level volumes:
  std::map<std::string, ConfigFile> configs;  // Compose top-level configs:, by name
  // DNS names on the project network (service names, hostnames, aliases,
  // the project's name for main) -> the service that owns it.
  std::map<std::string, std::string> dnsOwners;
  std::map<std::string, SourceMark> dependsOnMarks;  // service -> its depends_on:
  // Compose `ports:` with a host side: service -> (host port, mark).
  std::map<std::string, std::pair<uint16_t, SourceMark>> hostPorts;
};

// Reads the service `name` (path "main" or "services.<name>") from `body`.
[[nodiscard]] sys::Result<Service> parseService(ParseState& state, const std::string& name,
                                                const std::string& path, const YAML::Node& body);

// The parts of a service (service_parts.cc); `path` names the key.
[[nodiscard]] sys::Result<std::vector<std::string>> parseVolumes(ParseState& state, const std::string& path,
                                                                 const YAML::Node& node);
[[nodiscard]] sys::Result<std::vector<ConfigFile>> parseConfigs(ParseState& state, const std::string& path,
                                                                const YAML::Node& node);
[[nodiscard]] sys::Result<std::vector<Dependency>> parseDependsOn(ParseState& state, const std::string& self,
                                                                  const std::string& path, const YAML::Node& node);
[[nodiscard]] sys::Result<HealthCheck> parseHealthcheck(const Ctx& ctx, const std::string& path,
                                                        const YAML::Node& node);
[[nodiscard]] sys::Result<Resources> parseResources(const Ctx& ctx, const std::string& path,
                                                    const YAML::Node& node, Resources resources);
// Compose: `ports:` (one port; its host side goes to state.hostPorts) and `deploy:`.
[[nodiscard]] sys::Result<void> parsePorts(ParseState& state, Service& service, const std::string& path,
                                           const YAML::Node& node);
[[nodiscard]] sys::Result<void> parseDeploy(const Ctx& ctx, Service& service, const std::string& path,
                                            const YAML::Node& node);
// Compose top-level `configs:` into state.configs.
[[nodiscard]] sys::Result<void> parseTopLevelConfigs(ParseState& state, const YAML::Node& node);
// A memory limit (at least 6M, as the kernel needs room for the process);
// a pids limit (-1: unlimited, else 1..4194304).
[[nodiscard]] sys::Result<int64_t> memoryOf(const Ctx& ctx, const YAML::Node& node, const std::string& path);
[[nodiscard]] sys::Result<int64_t> pidsOf(const Ctx& ctx, const YAML::Node& node, const std::string& path);
// "0444" / "0o444" (octal) or a decimal number, at most 07777.
[[nodiscard]] sys::Result<uint32_t> modeOf(const Ctx& ctx, const YAML::Node& node, const std::string& path);

}  // namespace berth::agent::project::detail
