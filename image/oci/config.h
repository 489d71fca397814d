// The image configuration (OCI image-spec config.md, which Docker's
// application/vnd.docker.container.image.v1+json matches field for field) as
// a typed model: what the agent turns into a container's OCI runtime config
// (Entrypoint, Cmd, Env, WorkingDir, User, ...) and what the unpacker needs
// (rootfs.diff_ids).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "image/store/content_store.h"
#include "runtime/sys/result.h"

namespace berth::image::oci {

struct Healthcheck {
  // ["NONE"] disables a base image's check; ["CMD", args...] runs args;
  // ["CMD-SHELL", "command"] runs it with the shell; [] inherits.
  std::vector<std::string> test;
  // Nanoseconds; 0 means "inherit / default".
  int64_t interval = 0;
  int64_t timeout = 0;
  int64_t startPeriod = 0;
  int64_t startInterval = 0;
  int64_t retries = 0;
};

struct ContainerConfig {
  std::string user;                        // "uid[:gid]" or "name[:group]"
  std::vector<std::string> exposedPorts;   // "80/tcp", "53/udp"; sorted
  std::vector<std::string> env;            // "KEY=value"
  // nullopt when absent; [] is explicit (Entrypoint [] clears the base's).
  std::optional<std::vector<std::string>> entrypoint;
  std::optional<std::vector<std::string>> cmd;
  std::vector<std::string> volumes;        // mount points; sorted
  std::string workingDir;
  std::map<std::string, std::string> labels;
  std::string stopSignal;                  // "SIGTERM", "15"; empty when unset
  std::optional<Healthcheck> healthcheck;
  std::vector<std::string> shell;          // Docker's SHELL
  std::vector<std::string> onBuild;
  bool argsEscaped = false;
};

struct RootFs {
  std::string type;                    // always "layers"
  std::vector<store::Digest> diffIds;  // digests of the uncompressed layer tars, base first
};

struct HistoryEntry {
  std::string created;
  std::string createdBy;
  std::string author;
  std::string comment;
  bool emptyLayer = false;
};

struct ImageConfig {
  std::string architecture;
  std::string os;
  std::string variant;
  std::string osVersion;
  std::string created;  // RFC 3339, as written
  std::string author;
  ContainerConfig config;
  RootFs rootfs;
  std::vector<HistoryEntry> history;
};

// Parses an image config; errors name the field ("config.Env[2]: expected a
// string, got integer"). rootfs.type must be "layers".
sys::Result<ImageConfig> parseImageConfig(std::string_view json);

// ChainIDs (OCI image-spec config.md, "Layer ChainID"):
//   ChainID(L0) = DiffID(L0)
//   ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln))
// A layer's ChainID names the filesystem of that layer applied over all the
// layers below it, so it is what <root>/layers/<chain-id>/ is keyed by.
std::vector<store::Digest> chainIds(const std::vector<store::Digest>& diffIds);
store::Digest chainIdOf(const store::Digest& parentChainId, const store::Digest& diffId);

}  // namespace berth::image::oci
