// The features document: see features.h. Every list comes from names.h, the
// same tables the validator accepts, so the document cannot promise more or
// less than `create` takes.
#include "runtime/config/features.h"

#include <nlohmann/json.hpp>

#include "runtime/config/names.h"

#ifndef BERTH_VERSION
#error "BERTH_VERSION must be defined by the build"
#endif

namespace berth::runtime::config {
namespace {

using Json = nlohmann::ordered_json;

Json seccompFeatures() {
  return {
      {"enabled", true},
      {"actions", seccompActions()},
      {"operators", seccompOperators()},
      {"archs", seccompArchs()},
      {"knownFlags", seccompKnownFlags()},
      {"supportedFlags", seccompSupportedFlags()},
  };
}

Json linuxFeatures() {
  return {
      {"namespaces", knownNamespaces()},
      {"capabilities", knownCapabilities()},
      {"cgroup",
       {{"v1", true}, {"v2", true}, {"systemd", false}, {"systemdUser", false}, {"rdma", false}}},
      {"seccomp", seccompFeatures()},
      {"apparmor", {{"enabled", false}}},
      {"selinux", {{"enabled", false}}},
      {"intelRdt", {{"enabled", false}}},
  };
}

}  // namespace

std::string featuresJson() {
  Json doc = {
      {"ociVersionMin", "1.0.0"},
      {"ociVersionMax", "1.2.0"},
      {"hooks", knownHooks()},
      {"mountOptions", knownMountOptions()},
      {"linux", linuxFeatures()},
      {"annotations", {{"io.github.berth.runtime.version", BERTH_VERSION}}},
  };
  return doc.dump(4);
}

}  // namespace berth::runtime::config
