// Building a container's OCI config from image config + run options: see
// container_spec.h for the rules. Each part of the config has its own small
// builder; buildContainerSpec() checks the user's input first and then
// assembles, so a bad option fails before anything reads the rootfs.
#include "agent/engine/container_spec.h"

#include <fcntl.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>

#include "agent/engine/container_seccomp.h"
#include "agent/engine/container_user.h"
#include "runtime/sys/fd.h"
#include "runtime/sys/fs.h"

namespace berth::agent::engine {
namespace {

using runtime::config::Capabilities;
using runtime::config::DeviceCgroupRule;
using runtime::config::Linux;
using runtime::config::Mount;
using runtime::config::Process;
using runtime::config::Resources;
using runtime::config::Spec;
using sys::Error;
using sys::Result;

constexpr const char* kOciVersion = "1.2.0";
constexpr int64_t kCpuPeriodUs = 100000;      // Docker's --cpus period: 100 ms
constexpr int64_t kMinMemoryBytes = 6 << 20;  // Docker refuses less than 6 MiB
constexpr size_t kMaxHostnameLength = 64;     // HOST_NAME_MAX in the kernel

std::string_view envKey(std::string_view entry) {
  return entry.substr(0, entry.find('='));
}

Mount mount(const char* destination, const char* type, const char* source,
            std::vector<std::string> options) {
  return Mount{destination, type, source, std::move(options), {}, {}};
}

// Docker's default mounts. /sys/fs/cgroup is read-only: with a cgroup
// namespace the container sees its own cgroup as the root.
std::vector<Mount> defaultMounts() {
  return {
      mount("/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}),
      mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
      mount("/dev/pts", "devpts", "devpts",
            {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}),
      mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}),
      mount("/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"}),
      mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
      mount("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}),
  };
}

// Deny every device, then allow mknod of any (the node is useless without
// the access rules below) and the devices every runtime creates in /dev.
std::vector<DeviceCgroupRule> defaultDeviceRules() {
  auto rule = [](const char* type, std::optional<int64_t> major, std::optional<int64_t> minor,
                 const char* access) {
    return DeviceCgroupRule{true, type, major, minor, access};
  };
  return {
      DeviceCgroupRule{false, "", std::nullopt, std::nullopt, "rwm"},
      rule("c", std::nullopt, std::nullopt, "m"),
      rule("b", std::nullopt, std::nullopt, "m"),
      rule("c", 1, 3, "rwm"),               // null
      rule("c", 1, 5, "rwm"),               // zero
      rule("c", 1, 7, "rwm"),               // full
      rule("c", 1, 8, "rwm"),               // random
      rule("c", 1, 9, "rwm"),               // urandom
      rule("c", 5, 0, "rwm"),               // tty
      rule("c", 5, 1, "rwm"),               // console
      rule("c", 5, 2, "rwm"),               // ptmx
      rule("c", 136, std::nullopt, "rwm"),  // pts/*
  };
}

std::vector<std::string> defaultMaskedPaths() {
  return {"/proc/asound",     "/proc/acpi",        "/proc/interrupts",
          "/proc/kcore",      "/proc/keys",        "/proc/latency_stats",
          "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
          "/proc/scsi",       "/sys/firmware",     "/sys/devices/virtual/powercap"};
}

std::vector<std::string> defaultReadonlyPaths() {
  return {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};
}

Result<std::string> hostnameFor(const RunOptions& options) {
  if (options.id.empty()) return Error::invalid("container id is empty");
  std::string hostname = options.hostname.empty() ? options.id.substr(0, 12) : options.hostname;
  if (hostname.size() > kMaxHostnameLength) {
    return Error::invalid("hostname \"" + hostname + "\" is longer than 64 characters");
  }
  return hostname;
}

Result<std::string> workingDirFor(const image::oci::ContainerConfig& image,
                                  const RunOptions& options) {
  const std::string& dir = !options.workdir.empty() ? options.workdir : image.workingDir;
  if (dir.empty()) return std::string("/");
  if (dir.front() != '/') {
    return Error::invalid("the working directory \"" + dir + "\" is invalid: it must be absolute");
  }
  return sys::cleanPath(dir);
}

Result<Resources> resourcesFor(const RunOptions& options) {
  Resources r;
  r.devices = defaultDeviceRules();
  if (options.memory) {
    if (*options.memory < kMinMemoryBytes) {
      return Error::invalid("memory limit " + std::to_string(*options.memory) +
                            " bytes is below the minimum of 6 MiB");
    }
    r.memory.emplace().limit = *options.memory;
  }
  if (options.cpus) {
    double cpus = *options.cpus;
    auto quota = std::isfinite(cpus) ? std::llround(cpus * kCpuPeriodUs) : 0;
    if (!(cpus > 0) || quota < 1000) {
      return Error::invalid("cpus must be at least 0.01, got " + std::to_string(cpus));
    }
    auto& cpu = r.cpu.emplace();
    cpu.quota = quota;
    cpu.period = kCpuPeriodUs;
  }
  if (options.pidsLimit && *options.pidsLimit > 0) r.pids.emplace().limit = *options.pidsLimit;
  return r;
}

Linux linuxFor(const RunOptions& options, Resources resources) {
  Linux l;
  l.namespaces = {{"pid", ""},   {"ipc", ""},    {"uts", ""},
                  {"mount", ""}, {"cgroup", ""}, {"network", options.networkNamespacePath}};
  l.cgroupsPath = options.cgroupsPath;
  l.resources = std::move(resources);
  if (options.seccomp) l.seccomp = defaultSeccompProfile();
  // Docker's two network sysctls for a container with its own network
  // namespace: any user may bind ports below 1024 and send ICMP echo.
  l.sysctl = {{"net.ipv4.ip_unprivileged_port_start", "0"},
              {"net.ipv4.ping_group_range", "0 2147483647"}};
  l.maskedPaths = defaultMaskedPaths();
  l.readonlyPaths = defaultReadonlyPaths();
  return l;
}

std::map<std::string, std::string> annotationsFor(const image::oci::ContainerConfig& image,
                                                  const RunOptions& options) {
  std::map<std::string, std::string> a;
  a["io.berth.stop-signal"] = image.stopSignal.empty() ? "SIGTERM" : image.stopSignal;
  if (!image.stopSignal.empty()) a["org.opencontainers.image.stopSignal"] = image.stopSignal;
  if (!image.exposedPorts.empty()) {
    std::string ports;
    for (const std::string& port : image.exposedPorts) ports += (ports.empty() ? "" : ",") + port;
    a["org.opencontainers.image.exposedPorts"] = ports;
  }
  if (!options.name.empty()) a["io.berth.name"] = options.name;
  for (const auto& [key, value] : options.annotations) a[key] = value;  // the user's win
  return a;
}

Result<std::vector<std::string>> envFor(const image::oci::ContainerConfig& image,
                                        const RunOptions& options, const std::string& hostname,
                                        const std::string& home) {
  // Docker's order: its own defaults first, so the image and the user can
  // replace each of them in place.
  std::vector<std::string> env = {kDefaultPath, "HOSTNAME=" + hostname};
  if (options.tty) env.push_back("TERM=xterm");
  mergeEnv(env, image.env);
  std::vector<std::string> fromFile = BERTH_TRY_CTX(parseEnvFile(options.envFile), "env file");
  mergeEnv(env, fromFile);
  mergeEnv(env, options.env);
  // HOME last, and only when nobody set it: runc's rule (libcontainer sets
  // it from passwd at exec), made explicit so every runtime agrees.
  bool hasHome = false;
  for (const std::string& e : env) hasHome = hasHome || envKey(e) == "HOME";
  if (!hasHome) env.push_back("HOME=" + home);
  return env;
}

Result<Process> processFor(const image::oci::ImageConfig& image, const RunOptions& options,
                           const std::string& hostname, const std::string& rootfsDir) {
  Process p;
  p.args = containerArgs(image.config, options);
  if (p.args.empty()) return Error::invalid("no command specified");
  p.terminal = options.tty;
  p.cwd = BERTH_TRY(workingDirFor(image.config, options));

  const std::string& userSpec = options.user ? *options.user : image.config.user;
  ResolvedUser user = BERTH_TRY(resolveUserInRootfs(userSpec, rootfsDir));
  p.user.uid = user.uid;
  p.user.gid = user.gid;
  p.user.additionalGids = user.additionalGids;
  p.env = BERTH_TRY(envFor(image.config, options, hostname, user.home));

  Capabilities caps;
  caps.bounding = defaultCapabilities();
  caps.effective = caps.bounding;
  caps.permitted = caps.bounding;
  p.capabilities = std::move(caps);
  p.noNewPrivileges = false;
  return p;
}

}  // namespace

const std::vector<std::string>& defaultCapabilities() {
  static const std::vector<std::string> caps = {
      "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
      "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
      "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
      "CAP_KILL",    "CAP_AUDIT_WRITE"};
  return caps;
}

std::vector<std::string> containerArgs(const image::oci::ContainerConfig& image,
                                       const RunOptions& options) {
  std::vector<std::string> args;
  if (options.entrypoint) {
    // --entrypoint "" is Docker's way to say "no entrypoint".
    bool cleared = options.entrypoint->empty() ||
                   (options.entrypoint->size() == 1 && options.entrypoint->front().empty());
    if (!cleared) args = *options.entrypoint;
    // The image's Cmd was written for the image's entrypoint: dropped.
    args.insert(args.end(), options.cmd.begin(), options.cmd.end());
    return args;
  }
  if (image.entrypoint) args = *image.entrypoint;
  if (!options.cmd.empty()) {
    args.insert(args.end(), options.cmd.begin(), options.cmd.end());
  } else if (image.cmd) {
    args.insert(args.end(), image.cmd->begin(), image.cmd->end());
  }
  return args;
}

void mergeEnv(std::vector<std::string>& env, const std::vector<std::string>& overrides) {
  for (const std::string& entry : overrides) {
    std::string_view key = envKey(entry);
    bool unset = entry.find('=') == std::string::npos;
    auto it = std::find_if(env.begin(), env.end(),
                           [&](const std::string& e) { return envKey(e) == key; });
    if (unset) {
      if (it != env.end()) env.erase(it);
    } else if (it != env.end()) {
      *it = entry;
    } else {
      env.push_back(entry);
    }
  }
}

Result<std::vector<std::string>> parseEnvFile(const std::string& contents) {
  std::vector<std::string> env;
  std::string_view rest = contents;
  for (size_t lineNo = 1; !rest.empty(); ++lineNo) {
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.front()))) {
      line.remove_prefix(1);
    }
    if (line.empty() || line.front() == '#') continue;
    std::string_view key = envKey(line);
    bool blank = std::any_of(key.begin(), key.end(),
                             [](char c) { return std::isspace(static_cast<unsigned char>(c)); });
    if (key.empty() || blank) {
      return Error::invalid("line " + std::to_string(lineNo) + ": invalid variable name \"" +
                            std::string(key) + "\"");
    }
    env.emplace_back(line);
  }
  return env;
}

Result<Spec> buildContainerSpec(const image::oci::ImageConfig& image, const RunOptions& options,
                                const std::string& rootfsDir) {
  std::string imageLabel = options.imageName.empty() ? "the image" : "image " + options.imageName;
  std::string hostname = BERTH_TRY(hostnameFor(options));
  Resources resources = BERTH_TRY(resourcesFor(options));

  Spec spec;
  spec.ociVersion = kOciVersion;
  spec.process = BERTH_TRY_CTX(processFor(image, options, hostname, rootfsDir), imageLabel);
  spec.root = runtime::config::Root{options.rootfsPath.empty() ? rootfsDir : options.rootfsPath,
                                    options.readOnlyRootfs};
  spec.hostname = hostname;
  spec.mounts = defaultMounts();
  spec.annotations = annotationsFor(image.config, options);
  spec.linux = linuxFor(options, std::move(resources));
  return spec;
}

Result<void> ensureWorkingDir(const Spec& spec, const std::string& rootfsDir) {
  if (!spec.process || spec.process->cwd == "/") return sys::ok();
  sys::UniqueFd root(::open(rootfsDir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) return Error::fromErrno("open rootfs " + rootfsDir);
  auto dir = sys::mkdirAllInRoot(root.get(), spec.process->cwd, 0755);
  if (!dir) return std::move(dir).error().context("create working directory " + spec.process->cwd);
  return sys::ok();
}

}  // namespace berth::agent::engine
