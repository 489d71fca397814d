// berth deploy, down, ls and status: the project commands.
//
// deploy reads and validates the whole project file here, in the CLI
// (agent/project: a bad file changes nothing on the host and exits 125 with
// FILE:LINE:COL), builds each service's container spec and sends them in
// one ProjectDeployRequest; berthd reconciles and streams progress lines.
// ls and status read the containers by their berth.project label.
#include <algorithm>
#include <map>

#include "agent/cli/commands.h"
#include "agent/cli/project_ref.h"
#include "agent/cli/table.h"
#include "agent/cli/units.h"
#include "agent/project/container_spec_of.h"
#include "agent/project/project_file.h"

namespace berth::agent::cli {
namespace {

namespace project = ::berth::agent::project;

pb::DependCondition conditionOf(project::DependCondition condition) {
  switch (condition) {
    case project::DependCondition::kHealthy:
      return pb::DEPEND_HEALTHY;
    case project::DependCondition::kCompletedSuccessfully:
      return pb::DEPEND_COMPLETED_SUCCESSFULLY;
    default:
      return pb::DEPEND_STARTED;
  }
}

}  // namespace

// Not static: unit-tested (tests/unit/agent_cli would need it declared; the
// deploy tests build requests through it).
sys::Result<pb::ProjectDeployRequest> deployRequestOf(const project::Project& p) {
  pb::ProjectDeployRequest request;
  request.set_name(p.name);
  request.set_source(p.file);
  for (const project::Service& s : p.services) {
    if (s.image.empty()) {
      return sys::Error::invalid(s.mark.file + ":" + std::to_string(s.mark.line) + ":" +
                                 std::to_string(s.mark.column) + ": " + s.name +
                                 ": build: is not supported yet; give an image");
    }
    pb::ProjectService* out = request.add_services();
    out->set_name(s.name);
    *out->mutable_spec() = project::containerSpecOf(p, s);
    for (const project::Dependency& d : s.dependsOn) {
      pb::ProjectDependency* dep = out->add_depends_on();
      dep->set_service(d.service);
      dep->set_condition(conditionOf(d.condition));
    }
    out->set_main(s.isMain);
    if (s.port) out->set_port(*s.port);
  }
  for (const project::Volume& v : p.volumes) {
    pb::ProjectVolume* out = request.add_volumes();
    out->set_name(project::volumeNameFor(p.name, v.name));
    out->set_size_limit(v.sizeLimitBytes);
    for (const auto& [key, value] : v.labels) (*out->mutable_labels())[key] = value;
    (*out->mutable_labels())[project::kProjectLabel] = p.name;
  }
  if (const project::Service* entrance = project::publicEntrance(p); entrance && entrance->port) {
    request.set_entrance(entrance->name);
    request.set_publish_port(p.publishPort.value_or(*entrance->port));
  } else if (p.publishPort) {
    // main without a port: berthd takes it from the image and publishes it
    // here (agent/deploy/deployer.h).
    request.set_publish_port(*p.publishPort);
  }
  return request;
}

namespace {

std::string joined(const google::protobuf::RepeatedPtrField<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

void printSummary(Context& ctx, const std::string& name, const pb::ProjectDeployReply& r) {
  bool nothing = r.created_size() + r.recreated_size() + r.removed_size() + r.started_size() == 0;
  if (nothing) {
    ctx.out() << name << " is up to date (" << r.unchanged_size() << " services unchanged, "
              << r.elapsed_ms() << " ms)\n";
  } else {
    ctx.out() << "deployed " << name << " in " << r.elapsed_ms() << " ms:";
    if (r.created_size()) ctx.out() << " created " << joined(r.created()) << ";";
    if (r.recreated_size()) ctx.out() << " recreated " << joined(r.recreated()) << ";";
    if (r.started_size()) ctx.out() << " started " << joined(r.started()) << ";";
    if (r.removed_size()) ctx.out() << " removed " << joined(r.removed()) << ";";
    ctx.out() << " " << r.unchanged_size() << " unchanged\n";
  }
  if (!r.public_address().empty()) ctx.out() << "public address: " << r.public_address() << "\n";
}

int deployCommand(Context& ctx, const ParsedArgs& args) {
  std::string where = args.positionals().empty() ? "." : args.positionals()[0];
  auto loaded = project::loadProject(where);
  if (!loaded) return ctx.fail(loaded.error().what(), kExitUsage);
  auto request = deployRequestOf(*loaded);
  if (!request) return ctx.fail(request.error().what(), kExitUsage);
  auto client = ctx.client();
  if (!client.ok()) return ctx.fail(client.error());
  bool quiet = args.flag("quiet");
  auto reply = (*client)->projectDeploy(*request, [&](const pb::DeployProgress& p) {
    if (!quiet) {
      ctx.out() << (p.service().empty() ? request->name() : p.service()) << ": " << p.message() << "\n";
      ctx.out().flush();
    }
    return true;
  });
  if (!reply.ok()) return ctx.fail(reply.error());
  printSummary(ctx, request->name(), *reply);
  return kExitOk;
}

int downCommand(Context& ctx, const ParsedArgs& args) {
  auto client = ctx.client();
  if (!client.ok()) return ctx.fail(client.error());
  pb::ProjectDownRequest request;
  request.set_name(args.positionals()[0]);
  request.set_volumes(args.flag("volumes"));
  auto reply = (*client)->projectDown(request);
  if (!reply.ok()) return ctx.fail(reply.error());
  for (const std::string& name : reply->removed_containers()) ctx.out() << "removed " << name << "\n";
  if (reply->network_removed()) ctx.out() << "removed network " << request.name() << "\n";
  for (const std::string& name : reply->removed_volumes()) ctx.out() << "removed volume " << name << "\n";
  return kExitOk;
}

std::string labelOf(const pb::ContainerSummary& s, const char* key) {
  auto it = s.labels().find(key);
  return it == s.labels().end() ? "" : it->second;
}

// "0.0.0.0:8080" from a published "8080:80[/tcp]".
std::string publicAddress(const pb::ContainerSummary& s) {
  if (s.ports_size() == 0) return "";
  std::string port = s.ports(0);
  size_t colon = port.find(':');
  return "0.0.0.0:" + (colon == std::string::npos ? port : port.substr(0, colon));
}

int lsCommand(Context& ctx, const ParsedArgs&) {
  auto client = ctx.client();
  if (!client.ok()) return ctx.fail(client.error());
  pb::ContainerListRequest request;
  request.set_all(true);
  auto reply = (*client)->containerList(request);
  if (!reply.ok()) return ctx.fail(reply.error());
  struct Row {
    int running = 0, total = 0;
    std::string address;
  };
  std::map<std::string, Row> projects;
  for (const pb::ContainerSummary& s : reply->containers()) {
    std::string name = labelOf(s, project::kProjectLabel);
    if (name.empty()) continue;
    Row& row = projects[name];
    ++row.total;
    if (s.state() == pb::STATE_RUNNING) ++row.running;
    if (row.address.empty()) row.address = publicAddress(s);
  }
  Table table({"NAME", "SERVICES", "PUBLIC ADDRESS"});
  for (const auto& [name, row] : projects) {
    table.add({name, std::to_string(row.running) + "/" + std::to_string(row.total) + " running",
               row.address});
  }
  ctx.out() << table.render();
  return kExitOk;
}

std::string stateText(pb::ContainerState state) {
  switch (state) {
    case pb::STATE_CREATED: return "created";
    case pb::STATE_RUNNING: return "running";
    case pb::STATE_PAUSED: return "paused";
    case pb::STATE_RESTARTING: return "restarting";
    case pb::STATE_EXITED: return "exited";
    case pb::STATE_REMOVING: return "removing";
    case pb::STATE_DEAD: return "dead";
    default: return "unknown";
  }
}

int statusCommand(Context& ctx, const ParsedArgs& args) {
  const std::string& name = args.positionals()[0];
  auto client = ctx.client();
  if (!client.ok()) return ctx.fail(client.error());
  auto containers = projectContainers(**client, name);
  if (!containers.ok()) return ctx.fail(containers.error());
  if (containers->empty()) return ctx.fail("no such project: " + name);
  std::map<std::string, pb::ContainerInfo> infos;
  std::string address;
  pb::StatsRequest stats;
  for (const pb::ContainerSummary& s : *containers) {
    pb::ContainerInspectRequest inspect;
    inspect.set_id(s.id());
    if (auto info = (*client)->containerInspect(inspect); info.ok()) infos[s.id()] = *info;
    if (address.empty()) address = publicAddress(s);
    if (s.state() == pb::STATE_RUNNING) stats.add_ids(s.id());
  }
  // One stats batch (its CPU share is since the container's start: cheap).
  std::map<std::string, pb::ContainerStats> usage;
  if (stats.ids_size() > 0) {
    (void)(*client)->stats(stats, [&](const pb::StatsBatch& batch) {
      for (const pb::ContainerStats& c : batch.containers()) usage[c.id()] = c;
      return true;
    });
  }
  int64_t now = ctx.io().nowNs();
  Table table({"SERVICE", "CONTAINER", "STATE", "HEALTH", "RESTARTS", "ADDRESS", "CPU", "MEMORY", "UPTIME"});
  for (const pb::ContainerSummary& s : *containers) {
    const pb::ContainerInfo& info = infos[s.id()];
    auto u = usage.find(s.id());
    bool running = s.state() == pb::STATE_RUNNING;
    char cpu[32] = "";
    if (u != usage.end()) std::snprintf(cpu, sizeof cpu, "%.1f%%", u->second.cpu_percent());
    table.add({labelOf(s, project::kServiceLabel), s.name(), stateText(s.state()),
               info.health().empty() ? "-" : info.health(), std::to_string(s.restart_count()),
               info.network_address().empty() ? "-" : info.network_address(), u == usage.end() ? "-" : cpu,
               u == usage.end() ? "-" : formatSizeBinary(u->second.memory_usage()),
               running && s.started_ns() > 0 ? humanDuration(now - s.started_ns()) : "-"});
  }
  ctx.out() << table.render();
  ctx.out() << "public address: " << (address.empty() ? "none" : address) << "\n";
  return kExitOk;
}

}  // namespace

std::vector<Command> projectCommands() {
  return {
      {"deploy", "[OPTIONS] [DIR|FILE]",
       "Deploy a project (berth.yaml or a Compose file; default: the current directory)",
       {{"quiet", 'q', false, "", "Print only the summary"}}, {}, 0, 1, deployCommand},
      {"down", "[OPTIONS] PROJECT", "Remove a project's containers and network",
       {{"volumes", 'v', false, "", "Also remove the project's volumes"}}, {}, 1, 1, downCommand},
      {"ls", "", "List projects", {}, {}, 0, 0, lsCommand},
      {"status", "PROJECT", "Show a project's containers and public address", {}, {}, 1, 1,
       statusCommand},
  };
}

}  // namespace berth::agent::cli
