// The default spec: see default_spec.h. Built with ordered_json so the keys
// come out in the order runc prints them, which is the order people read.
#include "runtime/config/default_spec.h"

#include <unistd.h>

#include <nlohmann/json.hpp>

namespace berth::runtime::config {
namespace {

using Json = nlohmann::ordered_json;

Json mount(const char* destination, const char* type, const char* source, Json options) {
  Json m = {{"destination", destination}, {"type", type}, {"source", source}};
  if (!options.empty()) m["options"] = std::move(options);
  return m;
}

Json process() {
  Json caps = Json::array({"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"});
  return {
      {"terminal", true},
      {"user", {{"uid", 0}, {"gid", 0}}},
      {"args", {"sh"}},
      {"env", {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"}},
      {"cwd", "/"},
      {"capabilities",
       {{"bounding", caps}, {"effective", caps}, {"permitted", caps}, {"ambient", caps}}},
      {"rlimits", {{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}}},
      {"noNewPrivileges", true},
  };
}

Json mounts(bool rootless) {
  Json devpts = {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"};
  // gid=5 (tty) does not exist in a user namespace that maps only the caller.
  if (!rootless) devpts.push_back("gid=5");
  Json all = Json::array();
  all.push_back(mount("/proc", "proc", "proc", Json::array()));
  all.push_back(
      mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}));
  all.push_back(mount("/dev/pts", "devpts", "devpts", devpts));
  all.push_back(
      mount("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}));
  all.push_back(mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}));
  if (rootless) {
    // A new sysfs needs a network namespace owned by our user namespace; bind the host's.
    all.push_back(mount("/sys", "none", "/sys", {"rbind", "nosuid", "noexec", "nodev", "ro"}));
  } else {
    all.push_back(mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}));
  }
  all.push_back(
      mount("/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"}));
  return all;
}

Json namespaces(bool rootless) {
  Json list = Json::array();
  const char* types[] = {"pid", "network", "ipc", "uts", "mount"};
  for (const char* type : types) {
    // Without privilege the container cannot configure a new network namespace.
    if (rootless && std::string_view(type) == "network") continue;
    list.push_back({{"type", type}});
  }
  if (rootless) list.push_back({{"type", "user"}});
  return list;
}

Json linuxSection(bool rootless) {
  Json linux = Json::object();
  if (rootless) {
    linux["uidMappings"] = {{{"containerID", 0}, {"hostID", ::geteuid()}, {"size", 1}}};
    linux["gidMappings"] = {{{"containerID", 0}, {"hostID", ::getegid()}, {"size", 1}}};
  } else {
    linux["resources"] = {{"devices", {{{"allow", false}, {"access", "rwm"}}}}};
  }
  linux["namespaces"] = namespaces(rootless);
  linux["maskedPaths"] = {"/proc/acpi",        "/proc/asound",        "/proc/kcore",
                          "/proc/keys",        "/proc/latency_stats", "/proc/timer_list",
                          "/proc/timer_stats", "/proc/sched_debug",   "/sys/firmware",
                          "/proc/scsi"};
  linux["readonlyPaths"] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                            "/proc/sysrq-trigger"};
  return linux;
}

}  // namespace

std::string defaultSpecJson(bool rootless) {
  Json spec = Json::object();
  spec["ociVersion"] = "1.2.0";
  spec["process"] = process();
  spec["root"] = {{"path", "rootfs"}, {"readonly", true}};
  spec["hostname"] = "berth";
  spec["mounts"] = mounts(rootless);
  spec["linux"] = linuxSection(rootless);
  return spec.dump(1, '\t');
}

}  // namespace berth::runtime::config
