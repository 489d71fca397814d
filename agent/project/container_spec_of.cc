// Service -> pb::ContainerSpec, and the spec hash deploys compare.
#include "agent/project/container_spec_of.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <openssl/evp.h>

namespace berth::agent::project {
namespace {

pb::RestartPolicyKind restartKindOf(Restart restart) {
  switch (restart) {
    case Restart::kNo:
      return pb::RESTART_NO;
    case Restart::kAlways:
      return pb::RESTART_ALWAYS;
    case Restart::kOnFailure:
      return pb::RESTART_ON_FAILURE;
    case Restart::kUnlessStopped:
      return pb::RESTART_UNLESS_STOPPED;
  }
  return pb::RESTART_UNSPECIFIED;
}

// A named volume's source gets the project's scope; binds stay as they are.
std::string scopedVolume(const std::string& project, const std::string& text) {
  if (text.empty() || text.front() == '/') return text;
  size_t colon = text.find(':');
  return volumeNameFor(project, text.substr(0, colon)) + text.substr(colon);
}

void setHealthcheck(pb::HealthCheck& out, const HealthCheck& check) {
  for (const std::string& arg : check.test) out.add_test(arg);
  out.set_interval_ms(static_cast<uint64_t>(check.interval.count()));
  out.set_timeout_ms(static_cast<uint64_t>(check.timeout.count()));
  out.set_start_period_ms(static_cast<uint64_t>(check.startPeriod.count()));
  out.set_retries(static_cast<uint32_t>(check.retries));
}

void addAlias(pb::ContainerSpec& spec, const std::string& alias) {
  if (alias == spec.hostname()) return;
  for (const std::string& existing : spec.aliases()) {
    if (existing == alias) return;
  }
  spec.add_aliases(alias);
}

}  // namespace

std::string containerNameOf(const Project& project, const Service& service) {
  return project.name + "-" + service.name;
}

std::string volumeNameFor(const std::string& project, const std::string& volume) {
  return project + "_" + volume;
}

pb::ContainerSpec containerSpecOf(const Project& project, const Service& service) {
  pb::ContainerSpec spec;
  spec.set_image(service.image);
  spec.set_name(containerNameOf(project, service));
  for (const std::string& env : service.environment) spec.add_env(env);
  if (service.entrypoint) {
    pb::StringList* entrypoint = spec.mutable_entrypoint();
    for (const std::string& arg : *service.entrypoint) entrypoint->add_values(arg);
  }
  if (service.command) {
    for (const std::string& arg : *service.command) spec.add_cmd(arg);
  }
  spec.set_user(service.user);
  spec.set_workdir(service.workingDir);
  spec.set_memory_bytes(service.resources.memoryBytes);
  spec.set_nano_cpus(service.resources.nanoCpus);
  spec.set_pids_limit(service.resources.pids);
  spec.set_disk_bytes(service.resources.diskBytes);
  spec.mutable_restart()->set_kind(restartKindOf(service.restart));
  spec.set_hostname(service.hostname.empty() ? service.name : service.hostname);
  if (!service.stopSignal.empty()) spec.set_stop_signal(service.stopSignal);
  if (service.stopGracePeriodSeconds) spec.set_stop_timeout(*service.stopGracePeriodSeconds);
  spec.add_networks(project.name);
  // Reachable at its service name whatever its hostname; main also at the
  // project's name.
  addAlias(spec, service.name);
  for (const std::string& alias : service.aliases) addAlias(spec, alias);
  if (service.isMain) addAlias(spec, project.name);
  for (const std::string& volume : service.volumes) spec.add_volumes(scopedVolume(project.name, volume));
  for (const ConfigFile& config : service.configs) {
    pb::ConfigFile* out = spec.add_configs();
    out->set_target(config.target);
    out->set_content(config.content);
    out->set_mode(config.mode);
    if (config.uid) out->set_uid(*config.uid);
    if (config.gid) out->set_gid(*config.gid);
  }
  auto& labels = *spec.mutable_labels();
  for (const auto& [key, value] : service.labels) labels[key] = value;
  labels[kProjectLabel] = project.name;
  labels[kServiceLabel] = service.name;
  if (service.healthcheck) setHealthcheck(*spec.mutable_healthcheck(), *service.healthcheck);
  // The public entrance is published on the host: its port, or `publish:`.
  if (const Service* entrance = publicEntrance(project); entrance == &service && service.port) {
    uint16_t host = project.publishPort.value_or(*service.port);
    spec.add_publish(std::to_string(host) + ":" + std::to_string(*service.port));
  }
  stampSpecHash(spec);
  return spec;
}

std::string specHash(const pb::ContainerSpec& spec) {
  pb::ContainerSpec copy = spec;
  copy.mutable_labels()->erase(kSpecHashLabel);
  // Deterministic: map entries (labels) in key order, so equal specs give
  // equal bytes within one protobuf version.
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    copy.SerializeToCodedStream(&coded);
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "sha256:";
  for (unsigned int i = 0; i < length; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xf];
  }
  return out;
}

void stampSpecHash(pb::ContainerSpec& spec) { (*spec.mutable_labels())[kSpecHashLabel] = specHash(spec); }

}  // namespace berth::agent::project
