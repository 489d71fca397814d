// The container init, as a list of named stages; see init.h and the
// sequence diagram in handshake.h. Each stage says why it sits where it does.
#include "runtime/container/init.h"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "runtime/container/console.h"
#include "runtime/container/hooks.h"

namespace berth::runtime::container {
namespace {

// Replaces the "pid":0 placeholder the parent left in the hook state.
void fillHookPid(InitContext& ctx, int pid) {
  auto pos = ctx.hookStateJson.find("\"pid\":0");
  if (pos != std::string::npos) ctx.hookStateJson.replace(pos, 7, "\"pid\":" + std::to_string(pid));
}

sys::Result<void> joinNamespacesInChild(const InitContext& ctx) {
  for (const auto& j : ctx.joins) {
    if (::setns(j.fd, j.nstype) < 0) return sys::Error::fromErrno("join namespace (setns)");
    ::close(j.fd);
  }
  return sys::ok();
}

sys::Result<void> setHostnameInChild(const config::Spec& spec) {
  if (!spec.hostname.empty() && ::sethostname(spec.hostname.data(), spec.hostname.size()) < 0) {
    return sys::Error::fromErrno("set hostname " + spec.hostname);
  }
  if (!spec.domainname.empty() && ::setdomainname(spec.domainname.data(), spec.domainname.size()) < 0) {
    return sys::Error::fromErrno("set domainname " + spec.domainname);
  }
  return sys::ok();
}

// A new network namespace starts with its loopback down; crun brings it up,
// and programs expect 127.0.0.1 to work (a container's own services talking
// to each other, health checks). Done while we still hold CAP_NET_ADMIN.
sys::Result<void> bringUpLoopbackInChild() {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return sys::Error::fromErrno("bring up lo: socket");
  struct ifreq request {};
  std::strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
  int rc = ::ioctl(fd, SIOCGIFFLAGS, &request);
  if (rc == 0 && (request.ifr_flags & IFF_UP) == 0) {
    request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP);
    rc = ::ioctl(fd, SIOCSIFFLAGS, &request);
  }
  int saved = errno;
  ::close(fd);
  if (rc < 0) return sys::Error(saved, "bring up lo in the new network namespace");
  return sys::ok();
}

// A fresh session keyring per container keeps the host's keys (and other
// containers') out of reach, as runc and crun do. Kernels or seccomp policies
// without keyrings simply skip it.
void joinNewSessionKeyringInChild() {
  constexpr long kKeyctlJoinSessionKeyring = 1;
  ::syscall(SYS_keyctl, kKeyctlJoinSessionKeyring, nullptr, 0, 0, 0);
}

sys::Result<void> waitForStartInChild(int fifo) {
  char c;
  ssize_t n;
  do {
    n = ::read(fifo, &c, 1);
  } while (n < 0 && errno == EINTR);
  if (n != 1) return sys::Error::fromErrno("wait for start on exec fifo");
  // The fifo stays open (close-on-exec): `start` waits for it to lose its
  // last reader, i.e. for our execve, before running the poststart hooks.
  return sys::ok();
}

// Stages up to "ready": everything that can fail for a reason the user of
// `create` must hear about.
sys::Result<void> prepareInChild(InitContext& ctx) {
  const config::Spec& spec = *ctx.spec;
  // 1. The parent writes uid/gid maps and sets oom_score_adj from outside;
  //    nothing below may run before that.
  Message go = BERTH_TRY(ctx.channel->expect(MsgType::kGo));
  fillHookPid(ctx, go.code);
  //    Into our v1 cgroups now, so the mounts below are charged to the
  //    container (a v2/unified cgroup was joined at clone time).
  if (ctx.cgroupTasks != nullptr) BERTH_TRY(joinCgroupsInChild(*ctx.cgroupTasks));
  // 2. Join namespaces given by path; the user namespace first, so we hold
  //    capabilities over the namespaces it owns.
  BERTH_TRY(joinNamespacesInChild(ctx));
  // 3. In a new user namespace we start as the overflow uid: become its root.
  if (ctx.newUserns && (::setresgid(0, 0, 0) < 0 || ::setresuid(0, 0, 0) < 0)) {
    return sys::Error::fromErrno("become root in the user namespace");
  }
  if (ctx.newKeyring) joinNewSessionKeyringInChild();
  if (ctx.newUts) BERTH_TRY(setHostnameInChild(spec));
  if (ctx.rootfs.newNetns) BERTH_TRY(bringUpLoopbackInChild());
  // 4. Mounts, devices: still seeing the host's paths (bind sources).
  BERTH_TRY(linux::prepareRootfsInChild(spec, ctx.rootfs));
  // 5. The cgroup namespace's root is the cgroup we are in when unsharing;
  //    we are in ours since step 1.
  if (ctx.unshareCgroupns && ::unshare(CLONE_NEWCGROUP) < 0) {
    return sys::Error::fromErrno("unshare cgroup namespace");
  }
  // 6. prestart/createRuntime hooks run in the runtime's namespaces, after
  //    ours exist and before pivot_root (runtime-spec).
  if (spec.hooks) {
    BERTH_TRY(ctx.channel->send(MsgType::kRunHooks));
    BERTH_TRY(ctx.channel->expect(MsgType::kHooksDone));
    BERTH_TRY(runHooks(spec.hooks->createContainer, "createContainer", ctx.hookStateJson));
  }
  // 7. Switch to the container's root, then the parts that need it.
  BERTH_TRY(linux::pivotRootInChild(ctx.rootfs));
  BERTH_TRY(linux::finishRootfsInChild(spec, ctx.rootfs));
  // 8. The terminal comes from the container's devpts, so after pivot_root.
  if (ctx.process->process.terminal) {
    BERTH_TRY(setupConsoleInChild(ctx.consoleSocket, ctx.process->process.consoleSize, true));
    ::close(ctx.consoleSocket);
  } else {
    ::setsid();
  }
  BERTH_TRY(changeToCwdInChild(ctx.process->process.cwd));
  return sys::ok();
}

}  // namespace

[[noreturn]] void runContainerInit(InitContext& ctx) {
  resetSignalsInChild();
  ::prctl(PR_SET_PDEATHSIG, 0);
  // Nothing the runtime opened may reach the container (CVE-2024-21626): the
  // fds still needed are closed explicitly once used, the rest on exec.
  closeFdsOnExecInChild(3 + ctx.preserveFds);
  for (int fd = 3; fd < 3 + ctx.preserveFds; ++fd) {
    int flags = ::fcntl(fd, F_GETFD);
    if (flags >= 0) ::fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
  }

  auto fail = [&](sys::Error e) {
    (void)ctx.channel->sendError(e);
    ::_exit(1);
  };
  if (auto r = prepareInChild(ctx); !r) fail(std::move(r).error());
  auto path = findExecutableInChild(*ctx.process);
  if (!path) fail(std::move(path).error());
  if (auto r = finalizeProcessInChild(*ctx.process); !r) fail(std::move(r).error());
  // 9. Ready: the parent records the state and `create` returns.
  if (auto r = ctx.channel->send(MsgType::kReady); !r) ::_exit(1);
  ctx.channel->close();

  // 10. Wait for `start`. From here on nobody is listening on the channel:
  //     failures go to stderr, which is the container's.
  sys::Result<void> r = waitForStartInChild(ctx.execFifo);
  if (r && ctx.spec->hooks && !ctx.spec->hooks->startContainer.empty()) {
    // `create` has finished by now: the container is "created" until the exec.
    std::string json = ctx.hookStateJson;
    if (auto pos = json.find("\"status\":\"creating\""); pos != std::string::npos) {
      json.replace(pos, 19, "\"status\":\"created\"");
    }
    r = runHooks(ctx.spec->hooks->startContainer, "startContainer", json);
  }
  if (r) r = execProcessInChild(*ctx.process, *path);
  std::string msg = "berth-runtime: " + r.error().str() + "\n";
  (void)!::write(STDERR_FILENO, msg.data(), msg.size());
  ::_exit(127);
}

}  // namespace berth::runtime::container
