// A container's OCI runtime config, made from its image config and the
// user's `berth run` options, with Docker's (and podman's) semantics.
//
// What is decided here, and how (Docker's behaviour unless said otherwise):
//   - process.args: the image's Entrypoint + Cmd. A command given on the
//     command line replaces Cmd; --entrypoint replaces Entrypoint and drops
//     the image's Cmd (only the command line's is used). An empty
//     --entrypoint ("" or no words) clears the Entrypoint. Nothing left is
//     the error "no command specified".
//   - process.env: PATH (a default when nobody sets it), HOSTNAME, TERM=xterm
//     with a tty, HOME from the user's passwd entry, then the image's Env,
//     the --env-file lines, the -e values; a later KEY replaces an earlier
//     one in place. A bare "KEY" (no '=') UNSETS KEY: the CLI replaces
//     `-e KEY` by KEY=<its own value> when it has one, as Docker's CLI does,
//     so what reaches the daemon bare is a variable to drop.
//   - process.cwd: -w, else the image's WorkingDir, else "/"; must be absolute.
//   - process.user: -u, else the image's User, resolved in the rootfs's
//     /etc/passwd and /etc/group (container_user.h); unknown names fail.
//   - capabilities: Docker's default set in bounding, effective and permitted
//     for every user; inheritable and ambient empty (CVE-2022-24769). For a
//     non-root user the kernel empties effective and permitted at execve
//     (no ambient set, no file capabilities), which is also what Docker 24+
//     does: it stopped clearing them itself so file capabilities work.
//   - noNewPrivileges = false (Docker's default: setuid binaries such as
//     `su` and `ping` keep working); the seccomp profile is Docker-like.
//   - mounts, masked and read-only paths, device rules: Docker's defaults.
//   - namespaces: pid ipc uts mount cgroup and network (new, or joined when
//     networkNamespacePath is set). No user namespace.
//   - resources: memory limit, CPU quota over a 100 ms period, pids limit.
//     Rlimits are not set (inherited), as Docker does with no --ulimit.
//   - annotations: the extra ones from RunOptions, the image's stop signal as
//     "io.berth.stop-signal" (SIGTERM when the image names none) and, per
//     the image-spec's conversion rules, org.opencontainers.image.stopSignal
//     and org.opencontainers.image.exposedPorts.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "image/oci/config.h"
#include "runtime/config/spec.h"
#include "runtime/sys/result.h"

namespace berth::agent::engine {

struct RunOptions {
  std::string id;         // container id; the default hostname is its first 12 characters
  std::string name;       // the user's name for it (annotation io.berth.name)
  std::string imageName;  // for error messages ("... in image nginx:1.25")
  std::string hostname;   // empty: from the id

  std::vector<std::string> env;  // -e, in order: "K=V", or "K" to unset K
  std::string envFile;           // --env-file contents: "K=V" lines, '#' comments

  std::string workdir;                                 // -w; empty: the image's
  std::optional<std::string> user;                     // -u; nullopt: the image's
  std::optional<std::vector<std::string>> entrypoint;  // --entrypoint; set = override
  std::vector<std::string> cmd;                        // the command after the image name
  bool tty = false;
  bool stdinOpen = false;  // -i: for the shim (stdin pipe); not part of the OCI config

  std::optional<int64_t> memory;     // bytes
  std::optional<double> cpus;        // 1.5 = one and a half CPUs
  std::optional<int64_t> pidsLimit;  // <= 0: unlimited (Docker)
  bool readOnlyRootfs = false;

  std::map<std::string, std::string> annotations;  // extra labels/annotations
  std::string rootfsPath;                          // root.path in the config; empty: rootfsDir
  std::string cgroupsPath;           // linux.cgroupsPath; empty: the runtime's default
  std::string networkNamespacePath;  // empty: a new network namespace
  bool seccomp = true;               // false: no seccomp filter (--security-opt seccomp=unconfined)
};

// The default PATH when neither the image nor the user sets one (Docker's).
inline constexpr const char* kDefaultPath =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// Builds the config; `rootfsDir` is the container's mounted rootfs, read
// (inside the root, never following links out of it) for /etc/passwd and
// /etc/group. Errors are in the user's terms ("no command specified",
// "unable to find user app: ... in image web:1").
[[nodiscard]] sys::Result<runtime::config::Spec> buildContainerSpec(
    const image::oci::ImageConfig& image, const RunOptions& options, const std::string& rootfsDir);

// The pieces, for callers (exec) and tests:

// Entrypoint + Cmd with the overrides applied; empty when there is nothing to run.
std::vector<std::string> containerArgs(const image::oci::ContainerConfig& image,
                                       const RunOptions& options);

// Merges `overrides` into `env` in place (see the header comment for "K").
void mergeEnv(std::vector<std::string>& env, const std::vector<std::string>& overrides);

// The variables of an --env-file: "K=V" lines as they are (no quoting, no
// expansion, as Docker reads them; leading blanks trimmed), '#' comments and
// blank lines skipped, a bare "K" kept (it unsets K, like -e K). An empty
// name or whitespace in a name is an error naming the line.
[[nodiscard]] sys::Result<std::vector<std::string>> parseEnvFile(const std::string& contents);

// Docker's default capabilities, as CAP_* names.
const std::vector<std::string>& defaultCapabilities();

// Creates process.cwd inside the rootfs when the image lacks it (Docker and
// podman do this at start), resolving every component inside the root.
[[nodiscard]] sys::Result<void> ensureWorkingDir(const runtime::config::Spec& spec,
                                                 const std::string& rootfsDir);

}  // namespace berth::agent::engine
