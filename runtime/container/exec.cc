// `exec` into a running container; see exec.h.
//
// Latency matters here (an exec is often a health check or a shell), so the
// steps are chosen for it:
//   - the child joins the container's v1 cgroups itself by writing "0" to
//     each hierarchy's `tasks` file (opened by the parent): a thread moving
//     itself is the one case where the kernel skips the write lock of
//     cgroup_threadgroup_rwsem (cgroup_procs_write_start), whose first taker
//     waits a whole RCU grace period (~9 ms here) — what writing the child's
//     pid to cgroup.procs from the parent cost, and still costs crun. The
//     child is single-threaded, so moving its one thread moves the process.
//     The cgroup2 directory (v2, or the hybrid "unified" one) is joined at
//     clone time with CLONE_INTO_CGROUP, which takes that lock only to read;
//   - the seccomp profile is compiled by the container's first exec and
//     read back by the later ones (security/seccomp_cache.h);
//   - no handshake round trip before the child starts: the parent only
//     waits for the channel's EOF (execve happened) or an error.
#include "runtime/container/exec.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/config/parse.h"
#include "runtime/container/cgroups.h"
#include "runtime/container/console.h"
#include "runtime/container/handshake.h"
#include "runtime/container/lifecycle.h"
#include "runtime/container/namespaces.h"
#include "runtime/container/process.h"
#include "runtime/security/seccomp_cache.h"
#include "runtime/sys/fs.h"
#include "runtime/sys/sealed_exe.h"
#include "runtime/sys/syscall.h"

namespace berth::runtime::container {
namespace {

struct ExecChildContext {
  PreparedProcess* process;
  Channel* channel;
  const std::vector<TasksFile>* tasks;
  std::vector<std::pair<int, int>> joins;  // (flag, fd), user first
  int consoleSocket;
  int preserveFds;
};

sys::Result<void> enterContainerInChild(ExecChildContext& ctx) {
  // First, so everything the child does from here is charged to the container.
  BERTH_TRY(joinCgroupsInChild(*ctx.tasks));
  for (auto [flag, fd] : ctx.joins) {
    if (::setns(fd, flag) < 0) {
      return sys::Error::fromErrno(std::string("join the container's ") + namespaceProcName(flag) + " namespace");
    }
    ::close(fd);
  }
  // setns(mnt) made the container's root our root and cwd.
  if (ctx.process->process.terminal) {
    BERTH_TRY(setupConsoleInChild(ctx.consoleSocket, ctx.process->process.consoleSize, false));
    ::close(ctx.consoleSocket);
  }
  BERTH_TRY(changeToCwdInChild(ctx.process->process.cwd));
  std::string path = BERTH_TRY(findExecutableInChild(*ctx.process));
  BERTH_TRY(finalizeProcessInChild(*ctx.process));
  // The channel is close-on-exec: the parent reads EOF when execve succeeded.
  return execProcessInChild(*ctx.process, path);
}

[[noreturn]] void runExecChild(ExecChildContext& ctx) {
  // Until its execve the child runs the runtime's image with the runtime's
  // fds, in the container's pid namespace: not dumpable, its /proc/<pid>/exe
  // and fd/ are closed to the container's processes (defense in depth beside
  // the write-protected binary, as runc does). execve makes the command
  // dumpable again by the usual rules.
  ::prctl(PR_SET_DUMPABLE, 0);
  resetSignalsInChild();
  closeFdsOnExecInChild(3 + ctx.preserveFds);
  auto r = enterContainerInChild(ctx);
  (void)ctx.channel->sendError(r.error());
  ::_exit(127);
}

// The init's namespaces, the user namespace first (joining it grants the
// rights the others need) and the pid namespace apart: setns(pid) only
// affects children, so the parent joins it and the clone lands inside.
struct ContainerNamespaces {
  std::vector<std::pair<int, sys::UniqueFd>> joins;
  sys::UniqueFd pid;
};

sys::Result<ContainerNamespaces> openNamespaces(const config::Spec& spec, pid_t init) {
  ContainerNamespaces out;
  for (const auto& ns : spec.linux->namespaces) {
    int flag = namespaceFlag(ns.type);
    std::string path = "/proc/" + std::to_string(init) + "/ns/" + namespaceProcName(flag);
    sys::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return sys::Error::fromErrno("open " + path);
    if (flag == CLONE_NEWPID) {
      out.pid = std::move(fd);
    } else if (flag == CLONE_NEWUSER) {
      out.joins.insert(out.joins.begin(), {flag, std::move(fd)});
    } else {
      out.joins.emplace_back(flag, std::move(fd));
    }
  }
  return out;
}

// A pid file is replaced whole (temp file + rename), so a reader never sees
// half a pid; a FIFO, or a pipe named as /proc/self/fd/N (how berthd learns
// the pid without a file), cannot be renamed over and is written in place.
sys::Result<void> writePidFile(const std::string& path, pid_t pid) {
  std::string text = std::to_string(pid);
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && S_ISFIFO(st.st_mode)) {
    sys::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd || ::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
      return sys::Error::fromErrno("write pid file " + path);
    }
    return sys::ok();
  }
  BERTH_TRY_CTX(sys::writeFileReplace(path, text, 0644), "write pid file");
  return sys::ok();
}

// The channel is close-on-exec, so its EOF proves the execve happened; an
// error message says why the child gave up, and the child is then reaped.
sys::Result<void> awaitExecFromParent(Channel& channel, const ExecStarted& started) {
  auto reply = channel.receive();
  if (!reply && reply.error().code() == ECONNRESET) return sys::ok();
  sys::pidfdSendSignal(started.pidfd.get(), SIGKILL);
  ::waitpid(started.pid, nullptr, 0);
  if (!reply) return std::move(reply).error();
  if (reply->type == MsgType::kError) return sys::Error(reply->code, reply->text);
  return sys::Error::invalid("unexpected message from exec process");
}

// In the container's state dir, which only the runtime writes and `delete`
// removes: the first exec compiles, the later ones read the program back.
sys::Result<security::SeccompProgram> compileContainerSeccomp(const StateDir& dir,
                                                              const config::Seccomp& profile) {
  return BERTH_TRY_CTX(security::compileSeccompCached(profile, sys::joinPath(dir.path(), "seccomp-cache")),
                       "linux.seccomp");
}

}  // namespace

sys::Result<config::Spec> loadContainerSpec(const std::string& stateRoot, const std::string& id) {
  StateDir dir(stateRoot, id);
  std::string text = BERTH_TRY(sys::readFile(dir.configFile()));
  return config::parseSpec(text);
}

int commandFailureExitCode(const sys::Error& error) {
  // The texts findExecutableInChild and execProcessInChild (process.cc) give.
  const std::string& what = error.what();
  if (what.rfind("exec: \"", 0) != 0 && what.rfind("exec \"", 0) != 0) return 0;
  bool notFound = error.code() == ENOENT || what.find("executable file not found") != std::string::npos;
  return notFound ? kExitCommandNotFound : kExitCommandNotExecutable;
}

sys::Result<ExecStarted> execInContainer(const ExecOptions& opt) {
  // We are about to become visible inside the container (CVE-2019-5736).
  BERTH_TRY(sys::reexecFromSealedCopy());
  ContainerInfo info = BERTH_TRY(inspectContainer(opt.stateRoot, opt.id));
  if (info.status != Status::kRunning && info.status != Status::kCreated) {
    return sys::Error::invalid("cannot exec in a " + std::string(statusName(info.status)) + " container");
  }
  config::Spec spec = opt.spec ? *opt.spec : BERTH_TRY(loadContainerSpec(opt.stateRoot, opt.id));
  if (!spec.linux) spec.linux.emplace();
  if (!opt.process.apparmorProfile.empty() || !opt.process.selinuxLabel.empty()) {
    return sys::Error::invalid("process: AppArmor profiles and SELinux labels are not supported by berth-runtime");
  }
  PreparedProcess process = BERTH_TRY(prepareProcess(opt.process, std::nullopt));
  if (spec.linux->seccomp) {
    process.seccomp = BERTH_TRY(compileContainerSeccomp(StateDir(opt.stateRoot, opt.id), *spec.linux->seccomp));
  }
  if (opt.process.terminal && opt.consoleSocket.empty() && opt.consoleSocketFd < 0) {
    return sys::Error::invalid("--tty requires --console-socket");
  }

  // Opened now and verified alive afterwards: the fds then name its namespaces.
  ContainerNamespaces ns = BERTH_TRY(openNamespaces(spec, info.state.pid));
  if (!initAlive(info.state)) return sys::Error(ESRCH, "container \"" + opt.id + "\" is not running");

  auto manager = BERTH_TRY(openContainerCgroup(info.state.cgroupsPath, opt.id));
  CgroupJoin cgroups = BERTH_TRY(openCgroupJoin(*manager));
  sys::UniqueFd consoleSock;
  int consoleFd = opt.consoleSocketFd;
  if (opt.process.terminal && consoleFd < 0) {
    consoleSock = BERTH_TRY(connectConsoleSocket(opt.consoleSocket));
    consoleFd = consoleSock.get();
  }
  auto [parentEnd, childEnd] = BERTH_TRY(Channel::pair());

  ExecChildContext ctx{&process, &childEnd, &cgroups.tasks, {}, consoleFd, opt.preserveFds};
  for (auto& [flag, fd] : ns.joins) ctx.joins.emplace_back(flag, fd.get());
  if (ns.pid && ::setns(ns.pid.get(), CLONE_NEWPID) < 0) {
    return sys::Error::fromErrno("join the container's pid namespace");
  }

  int pidfd = -1;
  struct clone_args args {};
  args.flags = CLONE_PIDFD;
  args.pidfd = reinterpret_cast<uint64_t>(&pidfd);
  args.exit_signal = SIGCHLD;
  if (cgroups.cgroup2) {
    args.flags |= CLONE_INTO_CGROUP;
    args.cgroup = static_cast<uint64_t>(cgroups.cgroup2.get());
  }
  long pid = sys::clone3(&args);
  if (pid < 0) return sys::Error::fromErrno("clone3 exec process");
  if (pid == 0) runExecChild(ctx);
  ExecStarted started{static_cast<pid_t>(pid), sys::UniqueFd(pidfd)};
  childEnd.close();
  consoleSock.reset();

  BERTH_TRY(awaitExecFromParent(parentEnd, started));
  if (!opt.pidFile.empty()) BERTH_TRY(writePidFile(opt.pidFile, started.pid));
  return started;
}

}  // namespace berth::runtime::container
