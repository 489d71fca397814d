// `exec` into a running container; see exec.h.
#include "runtime/container/exec.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/config/parse.h"
#include "runtime/container/cgroups.h"
#include "runtime/container/console.h"
#include "runtime/container/handshake.h"
#include "runtime/container/lifecycle.h"
#include "runtime/container/namespaces.h"
#include "runtime/container/process.h"
#include "runtime/sys/fs.h"
#include "runtime/sys/sealed_exe.h"
#include "runtime/sys/syscall.h"

namespace berth::runtime::container {
namespace {

struct ExecChildContext {
  PreparedProcess* process;
  Channel* channel;
  std::vector<std::pair<int, int>> joins;  // (flag, fd), user first
  int consoleSocket;
  int preserveFds;
};

sys::Result<void> enterContainerInChild(ExecChildContext& ctx) {
  BERTH_TRY(ctx.channel->expect(MsgType::kGo));
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
  resetSignalsInChild();
  closeFdsOnExecInChild(3 + ctx.preserveFds);
  auto r = enterContainerInChild(ctx);
  (void)ctx.channel->sendError(r.error());
  ::_exit(127);
}

}  // namespace

sys::Result<config::Spec> loadContainerSpec(const std::string& stateRoot, const std::string& id) {
  StateDir dir(stateRoot, id);
  std::string text = BERTH_TRY(sys::readFile(dir.configFile()));
  return config::parseSpec(text);
}

sys::Result<ExecStarted> execInContainer(const ExecOptions& opt) {
  // We are about to become visible inside the container (CVE-2019-5736).
  BERTH_TRY(sys::reexecFromSealedCopy());
  ContainerInfo info = BERTH_TRY(inspectContainer(opt.stateRoot, opt.id));
  if (info.status != Status::kRunning && info.status != Status::kCreated) {
    return sys::Error::invalid("cannot exec in a " + std::string(statusName(info.status)) + " container");
  }
  config::Spec spec = BERTH_TRY(loadContainerSpec(opt.stateRoot, opt.id));
  if (!spec.linux) spec.linux.emplace();
  if (!opt.process.apparmorProfile.empty() || !opt.process.selinuxLabel.empty()) {
    return sys::Error::invalid("process: AppArmor profiles and SELinux labels are not supported by berth-runtime");
  }
  PreparedProcess process = BERTH_TRY(prepareProcess(opt.process, spec.linux->seccomp));
  if (opt.process.terminal && opt.consoleSocket.empty() && opt.consoleSocketFd < 0) {
    return sys::Error::invalid("--tty requires --console-socket");
  }

  // The init's namespaces, opened now and verified alive afterwards.
  std::vector<std::pair<int, sys::UniqueFd>> nsFds;
  sys::UniqueFd pidNs;
  for (const auto& ns : spec.linux->namespaces) {
    int flag = namespaceFlag(ns.type);
    std::string path = "/proc/" + std::to_string(info.state.pid) + "/ns/" + namespaceProcName(flag);
    sys::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return sys::Error::fromErrno("open " + path);
    if (flag == CLONE_NEWPID) {
      pidNs = std::move(fd);
    } else if (flag == CLONE_NEWUSER) {
      nsFds.insert(nsFds.begin(), {flag, std::move(fd)});
    } else {
      nsFds.emplace_back(flag, std::move(fd));
    }
  }
  if (!initAlive(info.state)) return sys::Error(ESRCH, "container \"" + opt.id + "\" is not running");

  auto cg = BERTH_TRY(openContainerCgroup(info.state.cgroupsPath, opt.id));
  sys::UniqueFd consoleSock;
  int consoleFd = opt.consoleSocketFd;
  if (opt.process.terminal && consoleFd < 0) {
    consoleSock = BERTH_TRY(connectConsoleSocket(opt.consoleSocket));
    consoleFd = consoleSock.get();
  }
  auto [parentEnd, childEnd] = BERTH_TRY(Channel::pair());

  ExecChildContext ctx{&process, &childEnd, {}, consoleFd, opt.preserveFds};
  for (auto& [flag, fd] : nsFds) ctx.joins.emplace_back(flag, fd.get());
  // setns(pid) only affects children: the runtime joins, the clone lands inside.
  if (pidNs && ::setns(pidNs.get(), CLONE_NEWPID) < 0) {
    return sys::Error::fromErrno("join the container's pid namespace");
  }

  int pidfd = -1;
  struct clone_args args {};
  args.flags = CLONE_PIDFD;
  args.pidfd = reinterpret_cast<uint64_t>(&pidfd);
  args.exit_signal = SIGCHLD;
  auto cgroupFd = cg->cloneIntoFd();
  if (cgroupFd >= 0) {
    args.flags |= CLONE_INTO_CGROUP;
    args.cgroup = static_cast<uint64_t>(cgroupFd);
  }
  long pid = sys::clone3(&args);
  if (pid < 0) return sys::Error::fromErrno("clone3 exec process");
  if (pid == 0) runExecChild(ctx);
  ExecStarted started{static_cast<pid_t>(pid), sys::UniqueFd(pidfd)};
  childEnd.close();
  consoleSock.reset();

  auto fail = [&](sys::Error e) -> sys::Error {
    sys::pidfdSendSignal(started.pidfd.get(), SIGKILL);
    ::waitpid(started.pid, nullptr, 0);
    return e;
  };
  if (cgroupFd < 0) {
    if (auto r = cg->addProcess(started.pid); !r) return fail(std::move(r).error().context("join cgroup"));
  }
  if (auto r = parentEnd.send(MsgType::kGo); !r) return fail(std::move(r).error());
  auto reply = parentEnd.receive();
  if (reply) {
    if (reply->type == MsgType::kError) return fail(sys::Error(reply->code, reply->text));
    return fail(sys::Error::invalid("unexpected message from exec process"));
  }
  if (reply.error().code() != ECONNRESET) return fail(std::move(reply).error());
  if (!opt.pidFile.empty()) {
    BERTH_TRY_CTX(sys::writeFileReplace(opt.pidFile, std::to_string(started.pid), 0644), "write pid file");
  }
  return started;
}

}  // namespace berth::runtime::container
