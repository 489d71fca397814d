// The project model: what a berth.yaml (or a Compose file) describes, after
// parsing and validation (project_file.h), before anything touches the host.
// Every value here is already checked: names are valid DNS labels, sizes are
// bytes, durations are milliseconds, config file contents are read in. The
// deploy (reconcile) works only from this model, never from YAML.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace berth::agent::project {

// Where a value came from, for errors found after parsing (a deploy that
// fails names the service and the line that defined it).
struct SourceMark {
  std::string file;  // as given (relative to the current dir, or absolute)
  int line = 0;      // 1-based; 0 = unknown
  int column = 0;    // 1-based
};

enum class DependCondition { kStarted, kHealthy, kCompletedSuccessfully };

struct Dependency {
  std::string service;
  DependCondition condition = DependCondition::kStarted;
};

struct HealthCheck {
  // ["CMD", arg...] runs argv; ["CMD-SHELL", "cmd"] runs /bin/sh -c; a plain
  // string in the file becomes CMD-SHELL. ["NONE"] disables the image's.
  std::vector<std::string> test;
  std::chrono::milliseconds interval{30000};
  std::chrono::milliseconds timeout{30000};
  std::chrono::milliseconds startPeriod{0};
  int retries = 3;
};

enum class Restart { kNo, kAlways, kOnFailure, kUnlessStopped };

struct Resources {
  int64_t memoryBytes = 0;  // 0: unlimited
  uint64_t nanoCpus = 0;    // 1.5 CPUs = 1500000000; 0: unlimited
  uint64_t diskBytes = 0;   // writable layer limit; 0: none
  int64_t pids = 0;         // 0: the daemon's default
};

struct ConfigFile {
  std::string source;   // path as written (relative to the project dir) or "" when inline
  std::string content;  // the file's bytes, read at load time
  std::string target;   // absolute path in the container
  uint32_t mode = 0444;
  std::optional<uint32_t> uid;
  std::optional<uint32_t> gid;
};

struct Service {
  std::string name;  // "main" for the main container; else the key under services:
  bool isMain = false;
  std::string image;                                  // reference (main may have build: later)
  // Added for the project file parser: `build:` (a context directory inside
  // the project, cleaned and relative to sourceDir, "." for the root) and its
  // optional Dockerfile path; both "" when the service has no build. The
  // Dockerfile issue builds it; until then a service needs an image.
  std::string buildContext;
  std::string dockerfile;
  std::optional<std::vector<std::string>> entrypoint;  // unset: the image's
  std::optional<std::vector<std::string>> command;     // unset: the image's
  std::vector<std::string> environment;               // "K=V", env_file entries first
  std::string user;                                   // "" : the image's
  std::string workingDir;                             // "" : the image's
  std::vector<std::string> volumes;                   // berth run -v syntax: "NAME:/path[:ro]", "/host:/path"
  std::vector<ConfigFile> configs;
  std::string hostname;              // "" : the service name
  std::vector<std::string> aliases;  // further DNS names on the project network
  std::vector<Dependency> dependsOn;
  std::optional<HealthCheck> healthcheck;  // unset: the image's
  Restart restart = Restart::kUnlessStopped;
  Resources resources;
  std::optional<uint16_t> port;  // the container port it serves (main: `port`, or from the image)
  std::map<std::string, std::string> labels;
  std::optional<uint32_t> stopGracePeriodSeconds;
  std::string stopSignal;
  SourceMark mark;  // where the service is defined
};

struct Volume {
  std::string name;
  uint64_t sizeLimitBytes = 0;
  std::map<std::string, std::string> labels;
};

struct Project {
  std::string name;       // DNS label; also the project network's name
  std::string file;       // the file it was read from
  std::string sourceDir;  // the directory relative paths are resolved against
  std::vector<Service> services;  // main first (when present), then services in file order
  std::vector<Volume> volumes;    // top-level volumes:, sorted by name
  // The host port the public entrance is published on (`publish:` at the top
  // level); unset: the entrance's own container port.
  std::optional<uint16_t> publishPort;
};

// The public entrance: the first service (file order) whose port is 80 or
// 443, else main; nullptr when the project has neither a main with a port
// nor such a service.
const Service* publicEntrance(const Project& project);

}  // namespace berth::agent::project
