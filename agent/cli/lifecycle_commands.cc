// berth start, stop, restart, rm, update: one call per named container
// (CONTAINER or PROJECT/SERVICE); the name is echoed for each success
// (docker; update adds whether it took effect live), failures go to stderr
// and make the exit code 1 without stopping the others.
#include "agent/cli/commands.h"
#include "agent/cli/project_ref.h"
#include "agent/cli/units.h"
#include "storage/disk/disk.h"

namespace berth::agent::cli {

namespace {

// Runs `call` for every positional; prints the name on success.
template <class Call>
int forEachName(Context& ctx, const ParsedArgs& args, Call call) {
  auto client = ctx.client();
  if (!client.ok()) return ctx.fail(client.error());
  int code = kExitOk;
  for (const auto& name : args.positionals()) {
    api::CallError error;
    auto target = resolveContainerRef(**client, name);  // PROJECT/SERVICE
    if (!target.ok()) {
      code = ctx.fail(target.error());
      continue;
    }
    if (call(**client, *target, error)) {
      ctx.out() << name << "\n";
    } else {
      code = ctx.fail(error);
    }
  }
  return code;
}

int startAttached(Context& ctx, const ParsedArgs& args) {
  if (args.positionals().size() != 1) {
    return ctx.usage("start", "you cannot start and attach multiple containers at once");
  }
  auto client = ctx.client();
  if (!client.ok()) return ctx.fail(client.error());
  pb::ContainerInspectRequest inspect;
  inspect.set_id(args.positionals()[0]);
  auto info = (*client)->containerInspect(inspect);
  if (!info.ok()) return ctx.fail(info.error());
  bool tty = info->spec().tty();
  bool stdinOpen = args.flag("interactive");
  return attachAndStart(ctx, **client, info->summary().id(), stdinOpen, tty, kExitFailed);
}

int startCommand(Context& ctx, const ParsedArgs& args) {
  if (args.flag("attach")) return startAttached(ctx, args);
  return forEachName(ctx, args, [](api::Client& c, const std::string& name, api::CallError& e) {
    pb::ContainerStartRequest request;
    request.set_id(name);
    auto r = c.containerStart(request);
    if (!r.ok()) e = r.error();
    return r.ok();
  });
}

// -t SECS of stop and restart.
sys::Result<std::optional<uint32_t>> stopTimeout(const ParsedArgs& args) {
  if (!args.has("time")) return std::optional<uint32_t>();
  auto secs = BERTH_TRY_CTX(parseInteger(args.value("time"), 0, 0xffffffff), "--time");
  return std::optional<uint32_t>(static_cast<uint32_t>(secs));
}

int stopCommand(Context& ctx, const ParsedArgs& args) {
  auto timeout = stopTimeout(args);
  if (!timeout) return ctx.usage("stop", timeout.error().what());
  return forEachName(ctx, args, [&](api::Client& c, const std::string& name, api::CallError& e) {
    pb::ContainerStopRequest request;
    request.set_id(name);
    if (*timeout) request.set_timeout_seconds(**timeout);
    auto r = c.containerStop(request);
    if (!r.ok()) e = r.error();
    return r.ok();
  });
}

int restartCommand(Context& ctx, const ParsedArgs& args) {
  auto timeout = stopTimeout(args);
  if (!timeout) return ctx.usage("restart", timeout.error().what());
  return forEachName(ctx, args, [&](api::Client& c, const std::string& name, api::CallError& e) {
    pb::ContainerRestartRequest request;
    request.set_id(name);
    if (*timeout) request.set_timeout_seconds(**timeout);
    auto r = c.containerRestart(request);
    if (!r.ok()) e = r.error();
    return r.ok();
  });
}

int removeCommand(Context& ctx, const ParsedArgs& args) {
  return forEachName(ctx, args, [&](api::Client& c, const std::string& name, api::CallError& e) {
    pb::ContainerRemoveRequest request;
    request.set_id(name);
    request.set_force(args.flag("force"));
    auto r = c.containerRemove(request);
    if (!r.ok()) e = r.error();
    return r.ok();
  });
}

}  // namespace

sys::Result<pb::ContainerUpdateRequest> buildUpdateRequest(const ParsedArgs& args) {
  pb::ContainerUpdateRequest request;
  if (args.has("memory")) {
    request.set_memory_bytes(BERTH_TRY_CTX(parseSize(args.value("memory")), "--memory"));
  }
  if (args.has("cpus")) {
    request.set_nano_cpus(BERTH_TRY_CTX(parseNanoCpus(args.value("cpus")), "--cpus"));
  }
  if (args.has("pids-limit")) {
    request.set_pids_limit(
        BERTH_TRY_CTX(parseInteger(args.value("pids-limit"), -1, INT64_MAX >> 2), "--pids-limit"));
  }
  if (args.has("restart")) {
    *request.mutable_restart() =
        BERTH_TRY_CTX(parseRestartPolicy(args.value("restart")), "--restart");
  }
  if (args.has("disk")) {
    request.set_disk_bytes(BERTH_TRY_CTX(storage::disk::parseSize(args.value("disk")), "--disk"));
  }
  if (!args.has("memory") && !args.has("cpus") && !args.has("pids-limit") && !args.has("restart") &&
      !args.has("disk")) {
    return sys::Error::invalid(
        "nothing to update: give --memory, --cpus, --pids-limit, --restart or --disk");
  }
  return request;
}

namespace {

// What an update did, in the user's words: "updated live" when the
// container runs (cgroup limits change at once, a disk grows online), else
// when the new limits take effect.
std::string updatedText(api::Client& client, const std::string& id) {
  pb::ContainerInspectRequest inspect;
  inspect.set_id(id);
  auto info = client.containerInspect(inspect);
  if (info.ok() && info->summary().state() == pb::STATE_RUNNING) return "updated live";
  return "updated (not running: the new limits apply when it starts)";
}

// A disk that cannot grow while mounted here (CONFLICT: berthd lacks
// CAP_SYS_RESOURCE, or the filesystem refuses an online resize). Nothing
// was changed by the refused call; the cgroup limits of the same call are
// applied on their own, then the user is told how to grow the disk: stop,
// update, start (the writable layer survives, the service is down meanwhile).
// For a plain container berth does not do it by itself: that downtime is the
// user's call. A project's service (PROJECT/SERVICE) is the platform's to
// keep right, as the issue asks of `berth update`: it is restarted with the
// bigger disk, and berth says so.
int restartWithDisk(Context& ctx, api::Client& client, const std::string& name,
                    pb::ContainerUpdateRequest request) {
  pb::ContainerStopRequest stop;
  stop.set_id(request.id());
  if (auto r = client.containerStop(stop); !r.ok()) return ctx.fail(name + ": stop: " + errorText(r.error()));
  auto updated = client.containerUpdate(request);
  pb::ContainerStartRequest start;
  start.set_id(request.id());
  auto started = client.containerStart(start);
  if (!updated.ok()) return ctx.fail(name + ": " + errorText(updated.error()));
  if (!started.ok()) return ctx.fail(name + ": start: " + errorText(started.error()));
  for (const auto& w : updated->warnings()) ctx.warn(w);
  ctx.out() << name << ": updated; restarted to grow its disk (it cannot grow while mounted here)\n";
  return kExitOk;
}

int updateWithoutDisk(Context& ctx, api::Client& client, const std::string& name,
                      pb::ContainerUpdateRequest request, const api::CallError& refused,
                      const std::string& diskArg) {
  std::string how = "to grow it, stop it for a moment: berth stop " + name + " && berth update --disk " +
                    diskArg + " " + name + " && berth start " + name;
  request.clear_disk_bytes();
  bool more = request.has_memory_bytes() || request.has_nano_cpus() || request.has_pids_limit() ||
              request.has_restart();
  if (more) {
    auto r = client.containerUpdate(request);
    if (!r.ok()) return ctx.fail(name + ": " + errorText(r.error()));
    for (const auto& w : r->warnings()) ctx.warn(w);
    ctx.out() << name << ": " << updatedText(client, request.id()) << " except the disk\n";
  }
  return ctx.fail(name + ": the disk was not grown: " + errorText(refused) + "\n  " + how);
}

int updateCommand(Context& ctx, const ParsedArgs& args) {
  auto base = buildUpdateRequest(args);
  if (!base) return ctx.usage("update", base.error().what());
  auto client = ctx.client();
  if (!client.ok()) return ctx.fail(client.error());
  int code = kExitOk;
  for (const std::string& name : args.positionals()) {
    auto target = resolveContainerRef(**client, name);  // PROJECT/SERVICE
    if (!target.ok()) {
      code = ctx.fail(target.error());
      continue;
    }
    pb::ContainerUpdateRequest request = *base;
    request.set_id(*target);
    auto r = (*client)->containerUpdate(request);
    if (!r.ok() && request.has_disk_bytes() && r.error().code == pb::CONFLICT) {
      bool service = name.find('/') != std::string::npos;
      int done = service ? restartWithDisk(ctx, **client, name, request)
                         : updateWithoutDisk(ctx, **client, name, request, r.error(), args.value("disk"));
      if (done != kExitOk) code = done;
      continue;
    }
    if (!r.ok()) {
      code = ctx.fail(r.error());
      continue;
    }
    for (const auto& w : r->warnings()) ctx.warn(w);
    ctx.out() << name << ": " << updatedText(**client, *target) << "\n";
  }
  return code;
}

}  // namespace

std::vector<Command> lifecycleCommands() {
  const FlagSpec time{"time", 't', true, "SECS", "Seconds to wait before killing the container"};
  return {
      {"start",
       "[OPTIONS] CONTAINER [CONTAINER...]",
       "Start created or stopped containers",
       {{"attach", 'a', false, "", "Attach stdout/stderr and exit with the container's code"},
        {"interactive", 'i', false, "", "Attach stdin"}},
       {},
       1,
       SIZE_MAX,
       startCommand},
      {"stop",
       "[OPTIONS] CONTAINER [CONTAINER...]",
       "Stop running containers (the stop signal, then SIGKILL)",
       {time},
       {},
       1,
       SIZE_MAX,
       stopCommand},
      {"restart",
       "[OPTIONS] CONTAINER [CONTAINER...]",
       "Restart containers",
       {time},
       {},
       1,
       SIZE_MAX,
       restartCommand},
      {"rm",
       "[OPTIONS] CONTAINER [CONTAINER...]",
       "Remove containers",
       {{"force", 'f', false, "", "Kill and remove running containers"}},
       {},
       1,
       SIZE_MAX,
       removeCommand},
      {"update",
       "[OPTIONS] CONTAINER|PROJECT/SERVICE [...]",
       "Change the resources of containers, live",
       {{"memory", 'm', true, "SIZE", "Memory limit (512m, 1g; 0: unlimited)"},
        {"cpus", 0, true, "N", "Number of CPUs (1.5; 0: unlimited)"},
        {"pids-limit", 0, true, "N", "Process limit (-1: unlimited)"},
        {"restart", 0, true, "POLICY", "no, always, on-failure[:N] or unless-stopped"},
        {"disk", 0, true, "SIZE", "Grow the container's disk (set with --disk at create)"}},
       {},
       1,
       SIZE_MAX,
       updateCommand,
       false,
       "Memory, CPUs and the process limit change at once in a running container (\"updated\n"
       "live\"). A disk grows online when the kernel lets berthd resize it while mounted; when\n"
       "it cannot, the disk is left as it was (the other limits still apply) and berth prints\n"
       "the commands that grow it stopped: stop, update --disk, start.\n\n"
       "A project's service (PROJECT/SERVICE) keeps updated values through `berth deploy` as\n"
       "long as its definition in the file is unchanged: a deploy neither undoes nor repeats\n"
       "them. A deploy that changes the service recreates it with the file's resources, so\n"
       "write lasting values in berth.yaml (resources: memory, cpus, pids, disk)."},
  };
}

}  // namespace berth::agent::cli
