// berth-shim's startup, detach and shutdown; see shim.h for the sequence.
#include "agent/shim/shim.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "agent/shim/launch.h"
#include "agent/shim/options.h"
#include "agent/shim/supervisor.h"
#include "runtime/container/create.h"
#include "runtime/container/handshake.h"
#include "runtime/container/lifecycle.h"
#include "runtime/security/seccomp_cache.h"
#include "runtime/sys/fs.h"

namespace berth::agent::shim {
namespace {

namespace rc = berth::runtime::container;

// The container's stdout/stderr pipes get this much kernel buffer, so a
// slow log disk does not block the container at once (see supervisor.h).
constexpr int kPipeSize = 1 << 20;

// Both ends of the container's stdio: the shim's (ShimIo) and the ones the
// creator hands to the container as fds 0-2 (or the console socket).
struct Stdio {
  ShimIo shim;
  sys::UniqueFd childIn, childOut, childErr;
  sys::UniqueFd consoleShim, consoleChild;  // tty: the pty master travels here
};

sys::Result<void> setNonblocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) return sys::Error::fromErrno("set O_NONBLOCK");
  return sys::ok();
}

sys::Result<Stdio> makeStdio(const ShimOptions& o) {
  Stdio s;
  s.shim.tty = o.tty;
  sys::UniqueFd devNull(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!devNull) return sys::Error::fromErrno("open /dev/null");
  if (o.tty) {
    int sp[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
      return sys::Error::fromErrno("create console socketpair");
    }
    s.consoleShim.reset(sp[0]);
    s.consoleChild.reset(sp[1]);
    s.childIn.reset(::dup(devNull.get()));
    s.childOut.reset(::dup(devNull.get()));
    s.childErr = std::move(devNull);
    return s;
  }
  auto [outR, outW] = BERTH_TRY(sys::makePipe());
  auto [errR, errW] = BERTH_TRY(sys::makePipe());
  // Best effort: above /proc/sys/fs/pipe-max-size an unprivileged shim gets EPERM.
  ::fcntl(outR.get(), F_SETPIPE_SZ, kPipeSize);
  ::fcntl(errR.get(), F_SETPIPE_SZ, kPipeSize);
  BERTH_TRY(setNonblocking(outR.get()));
  BERTH_TRY(setNonblocking(errR.get()));
  s.shim.out = std::move(outR), s.childOut = std::move(outW);
  s.shim.err = std::move(errR), s.childErr = std::move(errW);
  if (o.openStdin) {
    auto [inR, inW] = BERTH_TRY(sys::makePipe());
    BERTH_TRY(setNonblocking(inW.get()));
    s.shim.in = std::move(inW), s.childIn = std::move(inR);
  } else {
    s.childIn = std::move(devNull);
  }
  return s;
}

// The creator process: creates and starts the container with the runtime
// library, reports on `resultFd`, exits. The container's init is its child
// until then, and the shim's (as subreaper) afterwards.
[[noreturn]] void createAndStartInCreator(const ShimOptions& o, Stdio& io, int resultFd) {
  sigset_t all;
  sigfillset(&all);
  ::sigprocmask(SIG_UNBLOCK, &all, nullptr);
  for (int sig : {SIGPIPE, SIGHUP, SIGINT}) ::signal(sig, SIG_DFL);
  // The init inherits fds 0-2 as its stdio; dup2 clears close-on-exec.
  if (::dup2(io.childIn.get(), 0) < 0 || ::dup2(io.childOut.get(), 1) < 0 || ::dup2(io.childErr.get(), 2) < 0) {
    sendReport(resultFd, encodeErrorReport(sys::Error::fromErrno("set up the container's stdio")));
    ::_exit(1);
  }
  // Only this process compiles: the setting dies with it.
  if (!o.seccompCacheDir.empty()) runtime::security::setProcessSeccompCacheDir(o.seccompCacheDir);
  rc::CreateOptions co;
  co.id = o.id;
  co.bundle = o.bundle;
  co.stateRoot = o.stateRoot;
  co.consoleSocketFd = io.consoleChild ? io.consoleChild.get() : -1;
  auto created = rc::createContainer(co);
  if (!created) {
    sendReport(resultFd, encodeErrorReport(created.error()));
    ::_exit(1);
  }
  std::string warnings;
  if (auto started = rc::startContainer(o.stateRoot, o.id, &warnings); !started) {
    (void)rc::deleteContainer(o.stateRoot, o.id, /*force=*/true, nullptr);
    sendReport(resultFd, encodeErrorReport(std::move(started).error().context("start container " + o.id)));
    ::_exit(1);
  }
  sendReport(resultFd, encodeStartedReport({created->state.pid, ::getppid()}));
  ::_exit(0);
}

// Forks the creator and waits for its report; returns the init's pid.
sys::Result<pid_t> createThroughCreator(const ShimOptions& o, Stdio& io) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0) return sys::Error::fromErrno("create pipe");
  sys::UniqueFd readEnd(fds[0]), writeEnd(fds[1]);
  pid_t creator = ::fork();
  if (creator < 0) return sys::Error::fromErrno("fork");
  if (creator == 0) createAndStartInCreator(o, io, writeEnd.get());
  writeEnd.reset();
  std::string text;
  char buf[1024];
  ssize_t n;
  while ((n = ::read(readEnd.get(), buf, sizeof(buf))) != 0) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  int status = 0;
  while (::waitpid(creator, &status, 0) < 0 && errno == EINTR) {
  }
  if (text.empty()) return sys::Error::invalid("create container " + o.id + ": the creator process died");
  LaunchReport report = BERTH_TRY(parseLaunchReport(text));
  return report.initPid;
}

// Fork, setsid, fork: returns only in the detached grandchild.
sys::Result<void> detach() {
  pid_t pid = ::fork();
  if (pid < 0) return sys::Error::fromErrno("fork");
  if (pid > 0) ::_exit(0);
  if (::setsid() < 0) ::_exit(1);
  pid = ::fork();
  if (pid != 0) ::_exit(pid < 0 ? 1 : 0);
  return sys::ok();
}

// Blocks SIGCHLD (read through a signalfd instead) and ignores the signals
// a terminal or a dead reader would send.
sys::Result<sys::UniqueFd> setUpSignals() {
  for (int sig : {SIGPIPE, SIGHUP, SIGINT}) ::signal(sig, SIG_IGN);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  if (::sigprocmask(SIG_BLOCK, &set, nullptr) < 0) return sys::Error::fromErrno("block SIGCHLD");
  sys::UniqueFd fd(::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!fd) return sys::Error::fromErrno("signalfd");
  return fd;
}

// Points fds 0-2 at /dev/null: the launcher's terminal or pipes must not be
// held for the container's lifetime.
void detachStdio() {
  int fd = ::open("/dev/null", O_RDWR);
  if (fd < 0) return;
  for (int i = 0; i <= 2; ++i) ::dup2(fd, i);
  if (fd > 2) ::close(fd);
}

struct Shim {
  ShimOptions options;
  sys::UniqueFd dirfd;
  sys::UniqueFd signalFd;
  std::optional<logs::LogWriter> log;
  std::optional<AttachServer> attach;
  Stdio io;
  pid_t initPid = 0;
};

sys::Result<void> prepare(Shim& s) {
  const ShimOptions& o = s.options;
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) return sys::Error::fromErrno("become a child subreaper");
  ::umask(022);
  BERTH_TRY(sys::mkdirAll(o.dir, 0700));
  s.dirfd.reset(::open(o.dir.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  if (!s.dirfd) return sys::Error::fromErrno("open " + o.dir);
  // Not pinning the launcher's cwd (a mount point may need unmounting).
  if (::fchdir(s.dirfd.get()) < 0) return sys::Error::fromErrno("chdir " + o.dir);
  if (::unlinkat(s.dirfd.get(), kExitFileName, 0) < 0 && errno != ENOENT) {
    return sys::Error::fromErrno("remove stale " + sys::joinPath(o.dir, kExitFileName));
  }
  BERTH_TRY(sys::writeFileReplace(sys::joinPath(o.dir, kShimPidFileName), std::to_string(::getpid()) + "\n"));
  s.signalFd = BERTH_TRY(setUpSignals());
  logs::WriterOptions lo;
  lo.maxSizeBytes = o.logMaxSize;
  lo.maxFiles = o.logMaxFiles;
  s.log.emplace(BERTH_TRY_CTX(logs::LogWriter::open(o.dir, kLogBaseName, lo), "open container log"));
  s.attach.emplace(BERTH_TRY(AttachServer::listen(s.dirfd.get())));
  s.io = BERTH_TRY(makeStdio(o));
  s.initPid = BERTH_TRY(createThroughCreator(o, s.io));
  // Only the container holds the write ends now: its exit means EOF.
  s.io.childIn.reset(), s.io.childOut.reset(), s.io.childErr.reset(), s.io.consoleChild.reset();
  if (o.tty) {
    s.io.shim.out = BERTH_TRY_CTX(rc::receiveFd(s.io.consoleShim.get()), "receive the pty master");
    BERTH_TRY(setNonblocking(s.io.shim.out.get()));
    // Like `docker run -t` without -i: a terminal, but no input from attach.
    if (o.openStdin) s.io.shim.in.reset(::dup(s.io.shim.out.get()));
    s.io.consoleShim.reset();
  }
  return sys::ok();
}

void finish(Shim& s) {
  Supervisor supervisor(std::move(s.io.shim), *s.log, *s.attach, s.signalFd.get(), s.initPid, s.dirfd.get());
  ExitStatus status = supervisor.run();
  // No fdatasync of the log: every record is in the page cache already,
  // where readers and a restarted berthd find it; syncing would delay the
  // exit (and `berth run`) for the benefit of a power cut only.
  (void)writeExitFile(s.options.dir, status);
  s.attach->shutdown(FrameType::kExit, encodeExitJson(status), s.dirfd.get());
  ::unlinkat(s.dirfd.get(), kShimPidFileName, 0);
}

int reportFdFromArgs(const std::vector<std::string>& args) {
  for (size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == "--report-fd") return std::atoi(args[i + 1].c_str());
  }
  return -1;
}

}  // namespace

int shimMain(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto options = parseShimArgs(args);
  if (!options) {
    std::string line = encodeErrorReport(options.error());
    if (int fd = reportFdFromArgs(args); fd >= 0) sendReport(fd, line);
    std::fprintf(stderr, "berth-shim: %s", line.c_str());
    return 2;
  }
  int reportFd = options->reportFd;
  // fds 0-2 become /dev/null below: a report fd among them moves up first.
  if (reportFd >= 0 && reportFd <= 2) reportFd = ::fcntl(reportFd, F_DUPFD_CLOEXEC, 3);
  if (reportFd >= 0) ::fcntl(reportFd, F_SETFD, FD_CLOEXEC);
  if (auto r = detach(); !r) {
    if (reportFd >= 0) sendReport(reportFd, encodeErrorReport(r.error()));
    return 1;
  }
  detachStdio();
  Shim shim;
  shim.options = std::move(*options);
  if (auto r = prepare(shim); !r) {
    // Clean up before reporting: the launcher may look right away.
    if (shim.dirfd) {
      ::unlinkat(shim.dirfd.get(), kShimPidFileName, 0);
      ::unlinkat(shim.dirfd.get(), kAttachSocketName, 0);
    }
    if (reportFd >= 0) sendReport(reportFd, encodeErrorReport(r.error()));
    return 1;
  }
  if (reportFd >= 0) {
    sendReport(reportFd, encodeStartedReport({shim.initPid, ::getpid()}));
    ::close(reportFd);
  }
  finish(shim);
  return 0;
}

}  // namespace berth::agent::shim
