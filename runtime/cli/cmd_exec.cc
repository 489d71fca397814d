// `exec`: a new process in a running container. Without --process the
// process starts from the container's own (env, user, capabilities...), with
// the command line's overrides, as runc does. A command that cannot be run
// exits 127 (not found) or 126 (not executable), as docker exec does.
#include <fcntl.h>

#include <cstdlib>

#include "runtime/cli/foreground.h"
#include "runtime/cli/globals.h"
#include "runtime/config/parse.h"
#include "runtime/container/exec.h"
#include "runtime/container/handshake.h"
#include "runtime/security/credentials.h"
#include "runtime/sys/fs.h"
#include "runtime/sys/sealed_exe.h"

namespace berth::runtime::cli {
namespace {

const std::vector<FlagSpec> kExecFlags = {
    {"process", "p", true, "path to a process.json (runtime-spec process object)"},
    {"tty", "t", false, "allocate a pseudo-TTY"},
    {"console-socket", nullptr, true, "unix socket that receives the pty master"},
    {"cwd", nullptr, true, "current working directory in the container"},
    {"env", "e", true, "set an environment variable (repeatable)"},
    {"user", "u", true, "UID[:GID] to run as"},
    {"additional-gids", "g", true, "an additional group (repeatable)"},
    {"cap", "c", true, "add a capability (repeatable)"},
    {"no-new-privs", nullptr, false, "set no_new_privs"},
    {"detach", "d", false, "return once the process started"},
    {"pid-file", nullptr, true, "write the process's pid to this file"},
    {"preserve-fds", nullptr, true, "pass N extra fds (from 3) to the process"},
    {"process-label", nullptr, true, "accepted for runc compatibility"},
    {"apparmor", nullptr, true, "accepted for runc compatibility"},
    {"ignore-paused", nullptr, false, "accepted for runc compatibility"},
};

void setEnv(std::vector<std::string>& env, const std::string& kv) {
  auto key = kv.substr(0, kv.find('='));
  for (auto& e : env) {
    if (e.compare(0, key.size() + 1, key + "=") == 0) {
      e = kv;
      return;
    }
  }
  env.push_back(kv);
}

void addCap(std::vector<std::string>& set, const std::string& cap) {
  for (const auto& c : set) {
    if (c == cap) return;
  }
  set.push_back(cap);
}

// `spec` receives the container's config when it had to be read.
sys::Result<config::Process> buildProcess(const Globals& g, const Args& args, const std::string& id,
                                          std::optional<config::Spec>* spec) {
  if (args.has("process")) {
    std::string text = BERTH_TRY(sys::readFile(args.value("process")));
    return BERTH_TRY_CTX(config::parseProcess(text), args.value("process"));
  }
  if (args.positionals().size() < 2) return sys::Error::invalid("exec: a command is required");
  *spec = BERTH_TRY(container::loadContainerSpec(g.root, id));
  config::Process p = (*spec)->process ? *(*spec)->process : config::Process{};
  p.args.assign(args.positionals().begin() + 1, args.positionals().end());
  p.terminal = args.flag("tty");
  p.consoleSize.reset();
  if (args.has("cwd")) p.cwd = args.value("cwd");
  for (const auto& e : args.values("env")) setEnv(p.env, e);
  if (args.has("user")) {
    config::User u = BERTH_TRY(security::parseUserSpec(args.value("user")));
    p.user.uid = u.uid;
    p.user.gid = u.gid;
    p.user.additionalGids.clear();
  }
  for (const auto& gid : args.values("additional-gids")) {
    p.user.additionalGids.push_back(static_cast<uint32_t>(std::strtoul(gid.c_str(), nullptr, 10)));
  }
  if (args.flag("no-new-privs")) p.noNewPrivileges = true;
  if (!args.values("cap").empty()) {
    if (!p.capabilities) p.capabilities.emplace();
    for (const auto& c : args.values("cap")) {
      addCap(p.capabilities->bounding, c);
      addCap(p.capabilities->effective, c);
      addCap(p.capabilities->permitted, c);
    }
  }
  return p;
}

}  // namespace

int cmdExec(const Globals& g, const std::vector<std::string>& argv, size_t first) {
  Args args;
  int rc = 0;
  if (!parseCommandArgs(g, commands()[6], kExecFlags, argv, first, &args, &rc)) return rc;
  std::string id;
  if (!takeContainerId(g, args, &id, &rc)) return rc;
  // execInContainer would do it anyway (CVE-2019-5736): first, so that the
  // config is read and parsed once, in the re-executed process.
  if (auto r = sys::reexecFromSealedCopy(); !r) return fail(g, r.error());
  std::optional<config::Spec> spec;
  auto process = buildProcess(g, args, id, &spec);
  if (!process) return fail(g, process.error());

  container::ExecOptions opt;
  opt.stateRoot = g.root;
  opt.id = id;
  opt.process = std::move(*process);
  opt.spec = std::move(spec);
  opt.consoleSocket = args.value("console-socket");
  opt.pidFile = args.value("pid-file");
  opt.preserveFds = std::atoi(args.value("preserve-fds", "0").c_str());
  bool detach = args.flag("detach");

  LocalConsole console;
  if (opt.process.terminal && opt.consoleSocket.empty()) {
    if (detach) return fail(g, "exec --tty --detach requires --console-socket");
    auto lc = makeLocalConsole();
    if (!lc) return fail(g, lc.error());
    console = std::move(*lc);
    opt.consoleSocketFd = console.sendEnd.get();
  }
  if (!detach) blockForwardedSignals();
  auto started = container::execInContainer(opt);
  if (!started) {
    fail(g, started.error());
    int code = container::commandFailureExitCode(started.error());
    return code != 0 ? code : 1;
  }
  if (detach) return 0;
  sys::UniqueFd master;
  if (console.receiveEnd) {
    console.sendEnd.reset();
    auto m = container::receiveFd(console.receiveEnd.get());
    if (!m) return fail(g, m.error());
    master = std::move(*m);
  }
  return runForeground(started->pid, started->pidfd.get(), master.get());
}

}  // namespace berth::runtime::cli
