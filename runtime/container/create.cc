// `create` and `start`, the runtime side; see create.h, and handshake.h for
// the conversation with the child.
#include "runtime/container/create.h"

#include <fcntl.h>
#include <poll.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>

#include "runtime/config/parse.h"
#include "runtime/config/validate.h"
#include "runtime/container/cgroups.h"
#include "runtime/container/console.h"
#include "runtime/container/hooks.h"
#include "runtime/container/init.h"
#include "runtime/container/namespaces.h"
#include "runtime/sys/fs.h"
#include "runtime/sys/sealed_exe.h"
#include "runtime/sys/syscall.h"

namespace berth::runtime::container {
namespace {

// Undoes a half-made container: kills the child, removes its cgroup and its
// state directory. Disarmed once create has succeeded.
class CreateRollback {
 public:
  explicit CreateRollback(std::string stateDir) : stateDir_(std::move(stateDir)) {}
  ~CreateRollback() {
    if (!armed_) return;
    if (pidfd_ >= 0) {
      sys::pidfdSendSignal(pidfd_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (cgroup_) (void)cgroup_->destroy();
    (void)sys::removeAll(stateDir_);
  }
  void child(pid_t pid, int pidfd) { pid_ = pid, pidfd_ = pidfd; }
  void cgroup(cgroup::Manager* m) { cgroup_ = m; }
  void disarm() { armed_ = false; }

 private:
  std::string stateDir_;
  pid_t pid_ = -1;
  int pidfd_ = -1;
  cgroup::Manager* cgroup_ = nullptr;
  bool armed_ = true;
};

// Security labels we cannot apply must not be silently dropped.
sys::Result<void> refuseUnsupported(const config::Spec& spec) {
  if (!spec.process->apparmorProfile.empty()) {
    return sys::Error::invalid("process.apparmorProfile: AppArmor profiles are not supported by berth-runtime");
  }
  if (!spec.process->selinuxLabel.empty()) {
    return sys::Error::invalid("process.selinuxLabel: SELinux labels are not supported by berth-runtime");
  }
  if (!spec.linux->mountLabel.empty()) {
    return sys::Error::invalid("linux.mountLabel: SELinux labels are not supported by berth-runtime");
  }
  return sys::ok();
}

bool joinsExistingPidNamespace(const NamespacePlan& ns) {
  for (const auto& j : ns.joins) {
    if (j.flag == CLONE_NEWPID) return true;
  }
  return false;
}

sys::Result<std::string> resolveRootfs(const config::Spec& spec, const std::string& bundle) {
  std::string path = spec.root->path;
  if (path.empty() || path[0] != '/') path = sys::joinPath(bundle, path);
  char real[PATH_MAX];
  if (!::realpath(path.c_str(), real)) return sys::Error::fromErrno("root.path " + path);
  struct stat st;
  if (::stat(real, &st) < 0 || !S_ISDIR(st.st_mode)) {
    return sys::Error(ENOTDIR, "root.path " + path + " is not a directory");
  }
  return std::string(real);
}

std::string idMapText(const std::vector<config::IdMapping>& maps) {
  std::string out;
  for (const auto& m : maps) {
    out += std::to_string(m.containerID) + " " + std::to_string(m.hostID) + " " + std::to_string(m.size) + "\n";
  }
  return out;
}

sys::Result<void> writeIdMapsFromParent(pid_t pid, const config::Linux& linux) {
  std::string proc = "/proc/" + std::to_string(pid);
  if (!linux.uidMappings.empty()) {
    BERTH_TRY_CTX(sys::writeFile(proc + "/uid_map", idMapText(linux.uidMappings)), "linux.uidMappings");
  }
  if (!linux.gidMappings.empty()) {
    BERTH_TRY_CTX(sys::writeFile(proc + "/gid_map", idMapText(linux.gidMappings)), "linux.gidMappings");
  }
  return sys::ok();
}

// A new time namespace must get its offsets before any process enters it, so
// the runtime unshares it for its children and writes them, then clones.
sys::Result<void> prepareTimeNamespaceFromParent(const config::Linux& linux) {
  if (::unshare(CLONE_NEWTIME) < 0) return sys::Error::fromErrno("unshare time namespace");
  std::string offsets;
  for (const auto& [clock, off] : linux.timeOffsets) {
    offsets += clock + " " + std::to_string(off.secs) + " " + std::to_string(off.nanosecs) + "\n";
  }
  if (!offsets.empty()) {
    BERTH_TRY_CTX(sys::writeFile("/proc/self/timens_offsets", offsets), "linux.timeOffsets");
  }
  return sys::ok();
}

struct CloneResult {
  pid_t pid;
  sys::UniqueFd pidfd;
};

// clone3 with CLONE_INTO_CGROUP places the child in its cgroup atomically,
// avoiding a cgroup.procs write that can stall for an RCU grace period.
sys::Result<CloneResult> cloneInit(int flags, int cgroupFd, InitContext& ctx) {
  int pidfd = -1;
  struct clone_args args {};
  args.flags = static_cast<uint64_t>(flags) | CLONE_PIDFD;
  args.pidfd = reinterpret_cast<uint64_t>(&pidfd);
  args.exit_signal = SIGCHLD;
  if (cgroupFd >= 0) {
    args.flags |= CLONE_INTO_CGROUP;
    args.cgroup = static_cast<uint64_t>(cgroupFd);
  }
  long pid = sys::clone3(&args);
  if (pid < 0) return sys::Error::fromErrno("clone3 container init");
  if (pid == 0) runContainerInit(ctx);
  return CloneResult{static_cast<pid_t>(pid), sys::UniqueFd(pidfd)};
}

// Sends to the child; if it already gave up, its error explains why better
// than our EPIPE does.
sys::Result<void> sendToInit(Channel& channel, MsgType type, int32_t code = 0) {
  auto sent = channel.send(type, code);
  if (sent) return sent;
  auto pending = channel.receive();
  if (pending && pending->type == MsgType::kError) return sys::Error(pending->code, pending->text);
  return sent;
}

// Serves the child's requests until it is ready (or fails).
sys::Result<void> converseWithInit(Channel& channel, const config::Spec& spec, State& state) {
  for (;;) {
    Message m = BERTH_TRY(channel.receive());
    switch (m.type) {
      case MsgType::kReady:
        return sys::ok();
      case MsgType::kError:
        return sys::Error(m.code, m.text);
      case MsgType::kRunHooks: {
        std::string json = stateJson(state, Status::kCreating);
        auto r = runHooks(spec.hooks->prestart, "prestart", json);
        if (r) r = runHooks(spec.hooks->createRuntime, "createRuntime", json);
        if (!r) {
          (void)channel.sendError(r.error());
          return std::move(r).error();
        }
        BERTH_TRY(channel.send(MsgType::kHooksDone));
        break;
      }
      default:
        return sys::Error::invalid("unexpected message from container init");
    }
  }
}

// The init holds the fifo open until its execve (close-on-exec): once the
// fifo has no reader left, the user's process runs (or the init died).
// runtime-spec: poststart hooks run after the user-specified process starts.
void waitForExec(int fifoWriteEnd, const State& state) {
  for (int waited = 0; waited < 600; ++waited) {  // ~60 s: startContainer hooks may be slow
    struct pollfd p {fifoWriteEnd, 0, 0};
    int r = ::poll(&p, 1, 100);
    if (r > 0 && (p.revents & (POLLERR | POLLHUP))) return;
    if (r < 0 && errno != EINTR) return;
    if (!initAlive(state)) return;
  }
}

}  // namespace

sys::Result<CreatedContainer> createContainer(const CreateOptions& opt) {
  BERTH_TRY(validateContainerId(opt.id));
  // Prepare: everything that can fail on bad input, before touching the host.
  char bundleReal[PATH_MAX];
  if (!::realpath(opt.bundle.c_str(), bundleReal)) return sys::Error::fromErrno("bundle " + opt.bundle);
  std::string bundle = bundleReal;
  std::string configText = BERTH_TRY_CTX(sys::readFile(bundle + "/config.json"), "load bundle");
  config::Spec spec = BERTH_TRY_CTX(config::parseSpec(configText), bundle + "/config.json");
  BERTH_TRY_CTX(config::validateSpec(spec), bundle + "/config.json");
  if (!spec.process) return sys::Error::invalid("config.json: process is required to create a container");
  if (!spec.root) return sys::Error::invalid("config.json: root is required");
  if (!spec.linux) spec.linux.emplace();
  BERTH_TRY(refuseUnsupported(spec));
  std::string rootfs = BERTH_TRY(resolveRootfs(spec, bundle));
  NamespacePlan ns = BERTH_TRY(planNamespaces(spec));
  if (joinsExistingPidNamespace(ns)) {
    // Our init will be visible to the processes already in that namespace
    // (CVE-2019-5736): run from a sealed copy of the binary first.
    BERTH_TRY(sys::reexecFromSealedCopy());
  }
  PreparedProcess process = BERTH_TRY(prepareProcess(*spec.process, spec.linux->seccomp));
  if (spec.process->terminal && opt.consoleSocket.empty() && opt.consoleSocketFd < 0) {
    return sys::Error::invalid("process.terminal is true: --console-socket is required");
  }

  // Apply: from here on, the rollback undoes whatever was done.
  BERTH_TRY(sys::mkdirAll(opt.stateRoot, 0700));
  StateDir dir(opt.stateRoot, opt.id);
  if (::mkdir(dir.path().c_str(), 0711) < 0) {
    if (errno == EEXIST) return sys::Error(EEXIST, "container \"" + opt.id + "\" already exists");
    return sys::Error::fromErrno("create state dir " + dir.path());
  }
  // Declared before the rollback, so they outlive its destructor.
  std::unique_ptr<cgroup::Manager> cg;
  CloneResult child{-1, sys::UniqueFd()};
  CreateRollback rollback(dir.path());
  BERTH_TRY(sys::writeFileReplace(dir.configFile(), configText, 0600));

  std::string cgroupsPath = spec.linux->cgroupsPath;
  cg = BERTH_TRY(openContainerCgroup(cgroupsPath, opt.id));
  rollback.cgroup(cg.get());
  BERTH_TRY_CTX(cg->create(), "create cgroup");
  if (spec.linux->resources) BERTH_TRY_CTX(cg->apply(*spec.linux->resources), "linux.resources");
  BERTH_TRY_CTX(cg->setDevices(deviceRules(spec)), "linux.resources.devices");

  if (::mkfifo(dir.execFifo().c_str(), 0622) < 0) return sys::Error::fromErrno("mkfifo " + dir.execFifo());
  // O_RDWR never blocks on a fifo; the init's read() then blocks until `start` writes.
  sys::UniqueFd fifo(::open(dir.execFifo().c_str(), O_RDWR | O_CLOEXEC));
  if (!fifo) return sys::Error::fromErrno("open " + dir.execFifo());

  sys::UniqueFd consoleSock;
  int consoleFd = opt.consoleSocketFd;
  if (spec.process->terminal && consoleFd < 0) {
    consoleSock = BERTH_TRY(connectConsoleSocket(opt.consoleSocket));
    consoleFd = consoleSock.get();
  }
  auto [parentEnd, childEnd] = BERTH_TRY(Channel::pair());

  State state;
  state.id = opt.id;
  state.bundle = bundle;
  state.rootfs = rootfs;
  state.created = nowRfc3339();
  state.cgroupsPath = cgroupsPath;
  state.owner = ::getuid();
  state.annotations = spec.annotations;

  InitContext ctx;
  ctx.spec = &spec;
  ctx.process = &process;
  ctx.rootfs.rootfs = rootfs;
  ctx.rootfs.bundle = bundle;
  ctx.rootfs.noPivot = opt.noPivot;
  ctx.rootfs.inNewUserns = ns.has(CLONE_NEWUSER);
  ctx.rootfs.newNetns = (ns.newFlags & CLONE_NEWNET) != 0;
  ctx.rootfs.newCgroupns = (ns.newFlags & CLONE_NEWCGROUP) != 0;
  ctx.rootfs.cgroupV2 = cg->cloneIntoFd() >= 0;
  for (const auto& m : cg->containerMounts()) ctx.rootfs.cgroupMounts.push_back({m.name, m.hostDir});
  ctx.channel = &childEnd;
  ctx.execFifo = fifo.get();
  ctx.consoleSocket = consoleFd;
  ctx.preserveFds = opt.preserveFds;
  ctx.newUserns = (ns.newFlags & CLONE_NEWUSER) != 0;
  ctx.newUts = ns.has(CLONE_NEWUTS);
  ctx.newKeyring = !opt.noNewKeyring;
  ctx.hookStateJson = stateJson(state, Status::kCreating);

  int cloneFlags = ns.newFlags;
  for (auto& j : ns.joins) {
    // setns(pid) and setns(time) only move our future children: do them here.
    if (j.flag == CLONE_NEWPID || j.flag == CLONE_NEWTIME) {
      if (::setns(j.fd.get(), j.flag) < 0) return sys::Error::fromErrno("join namespace");
      continue;
    }
    ctx.joins.push_back({j.flag, j.fd.get()});
  }
  if (cloneFlags & CLONE_NEWTIME) {
    BERTH_TRY(prepareTimeNamespaceFromParent(*spec.linux));
    cloneFlags &= ~CLONE_NEWTIME;
  }
  // v2: clone straight into the cgroup. v1 (and hybrid): the child writes
  // itself into each hierarchy's tasks file (cgroups.h: no RCU grace period),
  // and into the unified dir, if any, at clone time.
  int cgroupFd = cg->cloneIntoFd();
  CgroupJoin join;
  if (cgroupFd < 0) {
    join = BERTH_TRY(openCgroupJoin(*cg));
    cgroupFd = join.cgroup2 ? join.cgroup2.get() : -1;
    if (!join.tasks.empty()) ctx.cgroupTasks = &join.tasks;
  }
  if (ctx.cgroupTasks != nullptr && (cloneFlags & CLONE_NEWCGROUP)) {
    // Not in all its cgroups at clone time: the child unshares its cgroup
    // namespace once it joined them.
    cloneFlags &= ~CLONE_NEWCGROUP;
    ctx.unshareCgroupns = true;
  }

  child = BERTH_TRY(cloneInit(cloneFlags, cgroupFd, ctx));
  rollback.child(child.pid, child.pidfd.get());
  childEnd.close();
  fifo.reset();
  consoleSock.reset();
  state.pid = child.pid;

  if (ctx.newUserns) BERTH_TRY(writeIdMapsFromParent(child.pid, *spec.linux));
  if (spec.process->oomScoreAdj) {
    BERTH_TRY_CTX(sys::writeFile("/proc/" + std::to_string(child.pid) + "/oom_score_adj",
                                 std::to_string(*spec.process->oomScoreAdj)),
                  "process.oomScoreAdj");
  }
  std::string what = "create container " + opt.id;
  BERTH_TRY_CTX(sendToInit(parentEnd, MsgType::kGo, child.pid), what);
  // The child joins its cgroups and mounts its rootfs meanwhile (init.cc).
  BERTH_TRY_CTX(converseWithInit(parentEnd, spec, state), what);

  state.initStartTime = processStartTime(child.pid);
  BERTH_TRY(saveState(dir, state));
  if (!opt.pidFile.empty()) {
    BERTH_TRY_CTX(sys::writeFileReplace(opt.pidFile, std::to_string(child.pid), 0644), "write pid file");
  }
  rollback.disarm();
  return CreatedContainer{std::move(state), std::move(child.pidfd)};
}

sys::Result<void> startContainer(const std::string& stateRoot, const std::string& id,
                                 std::string* warnings) {
  StateDir dir(stateRoot, id);
  State state = BERTH_TRY(loadState(dir));
  if (!initAlive(state)) return sys::Error::invalid("container \"" + id + "\" is stopped: cannot start");
  sys::UniqueFd fifo(::open(dir.execFifo().c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fifo) {
    if (errno == ENOENT) return sys::Error::invalid("container \"" + id + "\" has already been started");
    return sys::Error::fromErrno("open " + dir.execFifo());
  }
  if (::write(fifo.get(), "0", 1) != 1) return sys::Error::fromErrno("signal container init to start");
  ::unlink(dir.execFifo().c_str());
  waitForExec(fifo.get(), state);

  auto configText = sys::readFile(dir.configFile());
  if (!configText) return sys::ok();
  auto spec = config::parseSpec(*configText);
  if (spec && spec->hooks && !spec->hooks->poststart.empty()) {
    // runtime-spec: a failing poststart hook is logged; the container runs on.
    if (auto r = runHooks(spec->hooks->poststart, "poststart", stateJson(state, Status::kRunning));
        !r && warnings) {
      *warnings += r.error().str();
    }
  }
  return sys::ok();
}

}  // namespace berth::runtime::container
