// exec and shell through `berth-runtime exec`; see exec_session.h.
//
// Threads: the calling thread starts the runtime, then pumps output (pipes
// or the pty master) to the client until the runtime exits or the client
// goes; a second thread takes the client's input (stdin, resize, close,
// signal) and applies it. Every fd either thread may block on is
// non-blocking and polled beside a wake eventfd, so the end of the call can
// always stop the input thread, however stuck the process is.
//
// Nothing touches a disk on the way (an exec is often a health check, and a
// file created, fsynced and unlinked under /tmp cost milliseconds): the
// runtime child gets process.json as a memfd (its fd 3), reports the
// process's pid through a pipe (its fd 4, written in place as the pid file)
// and says why it failed on its stderr, which is always a pipe. Only a tty
// session makes a private directory, for the console socket.
//
// The runtime is started from a write-protected view of its binary
// (sys::openWriteProtectedExecutable, made once and remade when the file
// changes), so it need not re-execute itself before entering the container
// (CVE-2019-5736): one execve less per call.
#include "agent/streams/exec_session.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "agent/engine/container_user.h"
#include "agent/streams/child_process.h"
#include "agent/streams/exec_plan.h"
#include "runtime/config/serialize.h"
#include "runtime/container/exec.h"
#include "runtime/container/handshake.h"
#include "runtime/sys/fs.h"
#include "runtime/sys/sealed_exe.h"
#include "runtime/sys/syscall.h"

namespace berth::agent::streams {
namespace {

// Below the API's frame limit with room for the envelope.
constexpr size_t kChunkSize = 32 * 1024;
// After the runtime exited, output still buffered is sent; a pipe kept open
// by a background process the exec'd one left behind must not hold the call.
constexpr int kDrainQuietMs = 100;
// How long a cancelled call waits for the pid file of a process that is
// just being started, so it can be killed rather than orphaned.
constexpr int kKillWaitMs = 1000;
constexpr int kMaxSignal = 64;
// The runtime child's fds for process.json and the pid pipe (ChildStdio::extra).
constexpr const char* kProcessJsonFd = "/proc/self/fd/3";
constexpr const char* kPidPipeFd = "/proc/self/fd/4";

api::CallError cancelledError() { return {pb::CANCELLED, "cancelled by the client"}; }

sys::Result<sys::UniqueFd> listenUnix(const std::string& path) {
  sys::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return sys::Error::fromErrno("create console socket");
  struct sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) return sys::Error::invalid("console socket path too long: " + path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  if (::bind(fd.get(), reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)) < 0 ||
      ::listen(fd.get(), 1) < 0) {
    return sys::Error::fromErrno("listen on console socket " + path);
  }
  return fd;
}

struct Pipe {
  sys::UniqueFd read, write;
};

sys::Result<Pipe> makePipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0) return sys::Error::fromErrno("pipe2");
  return Pipe{sys::UniqueFd(fds[0]), sys::UniqueFd(fds[1])};
}

sys::Result<sys::UniqueFd> memfdWith(const std::string& text) {
  sys::UniqueFd fd(::memfd_create("berth-exec-process", MFD_CLOEXEC));
  if (!fd) return sys::Error::fromErrno("memfd_create for process.json");
  std::string_view rest(text);
  while (!rest.empty()) {
    ssize_t n = ::write(fd.get(), rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return sys::Error::fromErrno("write process.json to a memfd");
    rest.remove_prefix(static_cast<size_t>(n));
  }
  return fd;
}

// The write-protected view of the runtime binary, shared by every call and
// remade when the file at the path is another one (an upgrade replaced it).
class ProtectedRuntime {
 public:
  // An fd to execveat, null or invalid: start the runtime by its path (a
  // script, as tests use; no CAP_SYS_ADMIN), and it protects itself. Shared,
  // so a remake while a call still starts its runtime leaves its fd open.
  std::shared_ptr<const sys::UniqueFd> fd(const std::string& path) {
    struct stat st;
    if (::stat(path.c_str(), &st) < 0) return nullptr;
    std::lock_guard lock(mutex_);
    if (path != path_ || st.st_dev != id_.st_dev || st.st_ino != id_.st_ino ||
        st.st_mtim.tv_sec != id_.st_mtim.tv_sec || st.st_mtim.tv_nsec != id_.st_mtim.tv_nsec) {
      path_ = path;
      id_ = st;
      fd_.reset();
      if (isElf(path)) {
        auto view = sys::openWriteProtectedExecutable(path);
        if (view) fd_ = std::make_shared<const sys::UniqueFd>(std::move(*view));
      }
    }
    return fd_;
  }

 private:
  static bool isElf(const std::string& path) {
    sys::UniqueFd file(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    char magic[4];
    return file && ::read(file.get(), magic, sizeof magic) == 4 && std::memcmp(magic, "\x7f" "ELF", 4) == 0;
  }

  std::mutex mutex_;
  std::string path_;
  struct stat id_ {};
  std::shared_ptr<const sys::UniqueFd> fd_;
};

std::shared_ptr<const sys::UniqueFd> protectedRuntime(const std::string& path) {
  static ProtectedRuntime runtime;
  return runtime.fd(path);
}

void setNonBlocking(int fd) {
  if (fd >= 0) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
}

void setWindowSize(int master, unsigned rows, unsigned cols) {
  if (master < 0 || rows == 0 || cols == 0) return;
  struct winsize ws {};
  ws.ws_row = static_cast<unsigned short>(rows);
  ws.ws_col = static_cast<unsigned short>(cols);
  ::ioctl(master, TIOCSWINSZ, &ws);
}

// The exec'd process (not our child: the runtime's), learned from the
// runtime's --pid-file (a pipe), for signals and for killing it when the
// client goes.
class ExecTarget {
 public:
  ExecTarget(const ChildProcess& runtime, sys::UniqueFd pidPipe)
      : runtime_(runtime), pidPipe_(std::move(pidPipe)) {
    setNonBlocking(pidPipe_.get());
  }

  // True once the runtime wrote the pid: the process was exec'd.
  bool started() {
    std::lock_guard lock(mutex_);
    return startedLocked();
  }
  void signal(int sig) {
    std::lock_guard lock(mutex_);
    if (startedLocked() && process_) {
      sys::pidfdSendSignal(process_.get(), sig);
    } else {
      runtime_.signal(sig);  // queued by the runtime and forwarded once started
    }
  }
  // The process first (the runtime would only orphan it), then the runtime.
  void kill() {
    for (int waited = 0; !started() && !pollReadable(runtime_.pidfd()) && waited < kKillWaitMs;
         waited += 10) {
      ::usleep(10 * 1000);
    }
    std::lock_guard lock(mutex_);
    if (process_) sys::pidfdSendSignal(process_.get(), SIGKILL);
    runtime_.signal(SIGKILL);
  }

 private:
  bool startedLocked() {
    if (started_) return true;
    readPidPipe();
    if (pidText_.empty()) return false;
    started_ = true;
    pid_t pid = static_cast<pid_t>(std::strtol(pidText_.c_str(), nullptr, 10));
    process_ = openChildPidfd(pid, runtime_.pid());
    return true;
  }

  // The runtime writes the pid in one write of a few bytes (atomic on a pipe).
  void readPidPipe() {
    char buf[32];
    while (pidPipe_) {
      ssize_t n = ::read(pidPipe_.get(), buf, sizeof buf);
      if (n > 0) {
        pidText_.append(buf, static_cast<size_t>(n));
      } else if (n == 0) {
        pidPipe_.reset();  // every writer is gone
      } else if (errno != EINTR) {
        return;  // EAGAIN: nothing (yet)
      }
    }
  }

  std::mutex mutex_;
  const ChildProcess& runtime_;
  sys::UniqueFd pidPipe_;
  std::string pidText_;
  sys::UniqueFd process_;
  bool started_ = false;
};

class ExecSession {
 public:
  ExecSession(api::BidiStream& stream, const ExecRequest& request, const RuntimeExecPaths& paths)
      : stream_(stream), request_(request), paths_(paths) {}

  // `processJson`: the memfd the runtime reads as its fd 3.
  api::CallResult<pb::ExitStatus> run(const std::vector<std::string>& argv, int processJson);

 private:
  enum class End { kExited, kCancelled };
  enum class Read { kData, kEof, kGone };

  sys::Result<void> start(const std::vector<std::string>& argv, int processJson);
  // Waits for the runtime to hand over the pty master; false when the
  // runtime exited first (*cancelled: the client went).
  sys::Result<bool> awaitConsole(int listener, bool* cancelled);
  End pumpOutput();
  void drainAfterExit();
  void collectHeldStderr();
  Read forward(sys::UniqueFd& fd, pb::OutputStream stream);
  bool emit(pb::OutputStream stream, std::string_view data);
  void inputLoop();
  void applyInput(const pb::StreamInput& input);
  api::CallResult<pb::ExitStatus> finish();

  api::BidiStream& stream_;
  const ExecRequest& request_;
  const RuntimeExecPaths& paths_;
  ChildProcess runtime_;
  std::optional<ExecTarget> target_;
  sys::UniqueFd master_, stdin_, stdout_, stderr_;
  sys::UniqueFd wake_;
  // stderr written before the process started is the runtime's own
  // complaint, which the call reports as its error instead.
  std::string heldStderr_;
};

api::CallResult<pb::ExitStatus> ExecSession::run(const std::vector<std::string>& argv, int processJson) {
  wake_ = BERTH_TRY(makeEventFd());
  sys::UniqueFd listener;
  if (request_.tty) listener = BERTH_TRY(listenUnix(paths_.consoleSocket));
  BERTH_TRY(start(argv, processJson));
  if (request_.tty) {
    bool cancelled = false;
    bool attached = BERTH_TRY(awaitConsole(listener.get(), &cancelled));
    listener.reset();
    if (cancelled) {
      target_->kill();
      return cancelledError();
    }
    if (!attached) return finish();  // the runtime failed before the process started
    setWindowSize(master_.get(), request_.rows, request_.cols);
    setNonBlocking(master_.get());
  }
  std::thread input([this] { inputLoop(); });
  End end = pumpOutput();
  if (end == End::kCancelled) target_->kill();
  signalEventFd(wake_.get());
  stream_.closeInput();
  input.join();
  if (end == End::kCancelled) return cancelledError();
  return finish();
}

sys::Result<void> ExecSession::start(const std::vector<std::string>& argv, int processJson) {
  ChildStdio stdio;
  Pipe in, out, err, pid;
  if (!request_.tty) {
    if (request_.stdin) {
      in = BERTH_TRY(makePipe());
      stdio.in = in.read.get();
    }
    out = BERTH_TRY(makePipe());
    stdio.out = out.write.get();
  }
  // With a tty too: the process gets the pty, the runtime's own complaints
  // come here.
  err = BERTH_TRY(makePipe());
  stdio.err = err.write.get();
  pid = BERTH_TRY(makePipe());
  stdio.extra = {processJson, pid.write.get()};
  auto view = protectedRuntime(argv.front());
  runtime_ = BERTH_TRY(ChildProcess::spawn(argv, stdio, view ? view->get() : -1));
  target_.emplace(runtime_, std::move(pid.read));
  // Only the child keeps its ends: EOF on ours then means the process (and
  // whatever inherited its stdio) closed them.
  stdin_ = std::move(in.write);
  stdout_ = std::move(out.read);
  stderr_ = std::move(err.read);
  setNonBlocking(stdin_.get());
  setNonBlocking(stdout_.get());
  setNonBlocking(stderr_.get());
  return sys::ok();
}

sys::Result<bool> ExecSession::awaitConsole(int listener, bool* cancelled) {
  sys::UniqueFd conn;
  for (;;) {
    int waitOn = conn ? conn.get() : listener;
    struct pollfd fds[3] = {
        {waitOn, POLLIN, 0}, {runtime_.pidfd(), POLLIN, 0}, {stream_.cancelFd(), POLLIN, 0}};
    if (::poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      return sys::Error::fromErrno("wait for the exec's console");
    }
    if (fds[2].revents != 0) {
      *cancelled = true;
      return false;
    }
    if (fds[0].revents != 0 && !conn) {
      conn.reset(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
      if (!conn) return sys::Error::fromErrno("accept on the console socket");
      continue;
    }
    if (fds[0].revents != 0) {
      auto master = runtime::container::receiveFd(conn.get());
      if (!master) return false;  // the process failed before sending it
      master_ = std::move(*master);
      return true;
    }
    if (fds[1].revents != 0) return false;
  }
}

bool ExecSession::emit(pb::OutputStream stream, std::string_view data) {
  pb::ExecOutput output;
  output.set_stream(stream);
  output.set_data(std::string(data));
  return stream_.send(output);
}

ExecSession::Read ExecSession::forward(sys::UniqueFd& fd, pb::OutputStream stream) {
  char buf[kChunkSize];
  ssize_t n = ::read(fd.get(), buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return Read::kData;
  if (n <= 0) {  // EOF; EIO on a pty master once every slave fd is closed
    fd.reset();
    return Read::kEof;
  }
  std::string_view data(buf, static_cast<size_t>(n));
  if (stream == pb::OUTPUT_STDERR && !target_->started()) {
    heldStderr_.append(data);
    return Read::kData;
  }
  if (!heldStderr_.empty()) {
    bool sent = emit(pb::OUTPUT_STDERR, heldStderr_);
    heldStderr_.clear();
    if (!sent) return Read::kGone;
  }
  return emit(stream, data) ? Read::kData : Read::kGone;
}

ExecSession::End ExecSession::pumpOutput() {
  for (;;) {
    int out = request_.tty ? master_.get() : stdout_.get();
    struct pollfd fds[4] = {{out, POLLIN, 0},
                            {stderr_.get(), POLLIN, 0},
                            {runtime_.pidfd(), POLLIN, 0},
                            {stream_.cancelFd(), POLLIN, 0}};
    if (::poll(fds, 4, -1) < 0 && errno != EINTR) return End::kCancelled;
    if (fds[3].revents != 0) return End::kCancelled;
    if (fds[0].revents != 0 &&
        forward(request_.tty ? master_ : stdout_, pb::OUTPUT_STDOUT) == Read::kGone) {
      return End::kCancelled;
    }
    if (fds[1].revents != 0 && forward(stderr_, pb::OUTPUT_STDERR) == Read::kGone) {
      return End::kCancelled;
    }
    if (fds[2].revents != 0) {
      drainAfterExit();
      return stream_.cancelled() ? End::kCancelled : End::kExited;
    }
  }
}

void ExecSession::drainAfterExit() {
  for (;;) {
    int out = request_.tty ? master_.get() : stdout_.get();
    if (out < 0 && !stderr_) return;
    struct pollfd fds[2] = {{out, POLLIN, 0}, {stderr_.get(), POLLIN, 0}};
    int n = ::poll(fds, 2, kDrainQuietMs);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    if (fds[0].revents != 0 &&
        forward(request_.tty ? master_ : stdout_, pb::OUTPUT_STDOUT) == Read::kGone) {
      return;
    }
    if (fds[1].revents != 0 && forward(stderr_, pb::OUTPUT_STDERR) == Read::kGone) return;
  }
}

void ExecSession::inputLoop() {
  // A write to a pipe the process closed must fail with EPIPE, not raise
  // SIGPIPE in the daemon: the signal is directed at this thread, so
  // blocking it here is enough (a pending one dies with the thread).
  sigset_t pipe;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  ::pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
  pb::StreamInput input;
  while (stream_.receive(&input)) applyInput(input);
}

void ExecSession::applyInput(const pb::StreamInput& input) {
  switch (input.input_case()) {
    case pb::StreamInput::kStdin: {
      int fd = request_.tty ? master_.get() : stdin_.get();
      if (fd >= 0 && !writeAllInterruptible(fd, input.stdin(), wake_.get()) && !request_.tty) {
        stdin_.reset();  // the process closed its stdin
      }
      break;
    }
    case pb::StreamInput::kResize:
      setWindowSize(master_.get(), input.resize().rows(), input.resize().cols());
      break;
    case pb::StreamInput::kCloseStdin:
      // On a tty the client sends ^D itself (the line discipline's EOF).
      if (!request_.tty) stdin_.reset();
      break;
    case pb::StreamInput::kSignal:
      if (input.signal() > 0 && input.signal() <= kMaxSignal) target_->signal(input.signal());
      break;
    default:
      break;
  }
}

// What the runtime wrote to stderr and nobody read yet (a tty session that
// ended before its console arrived never pumped it). The runtime has exited:
// what it wrote is in the pipe, so a non-blocking read finds all of it.
void ExecSession::collectHeldStderr() {
  char buf[4096];
  while (stderr_) {
    ssize_t n = ::read(stderr_.get(), buf, sizeof buf);
    if (n > 0) {
      heldStderr_.append(buf, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      stderr_.reset();
    }
  }
}

api::CallResult<pb::ExitStatus> ExecSession::finish() {
  int status = BERTH_TRY(runtime_.wait());
  bool started = target_->started();
  if (!started && status != 0) {
    collectHeldStderr();
    if (auto code = commandFailureExitCode(status, heldStderr_)) {
      // As docker exec: the reason on stderr, 127 or 126 as the exit code.
      emit(pb::OUTPUT_STDERR, runtimeComplaint(heldStderr_) + "\n");
      pb::ExitStatus exit;
      exit.set_code(*code);
      return exit;
    }
    return execStartError(request_.id, heldStderr_, status);
  }
  if (!heldStderr_.empty()) emit(pb::OUTPUT_STDERR, heldStderr_);
  return exitStatusFromRuntime(status);
}

std::optional<ExecUser> toExecUser(const engine::ResolvedUser& user) {
  return ExecUser{user.uid, user.gid, user.additionalGids, user.home};
}

api::CallResult<pb::ExitStatus> execIn(const engine::ContainerView& view, const ExecTools& tools,
                                       const ExecRequest& request, api::BidiStream& stream) {
  auto spec = runtime::container::loadContainerSpec(view.stateRoot, view.runtimeId);
  if (!spec) {
    if (spec.error().code() == ENOENT) {
      return api::CallError(pb::FAILED_PRECONDITION, "container " + request.id + " is not running");
    }
    return std::move(spec).error().context("exec in container " + request.id);
  }
  std::optional<ExecUser> user;
  if (!request.user.empty()) {
    auto resolved = engine::resolveUserInRootfs(request.user, view.rootfs);
    if (!resolved) return api::CallError(pb::INVALID_ARGUMENT, resolved.error().str());
    user = toExecUser(*resolved);
  }
  runtime::config::Process base = spec->process ? *spec->process : runtime::config::Process{};
  auto process = buildExecProcess(base, view, request, user);
  if (!process) return api::CallError(pb::INVALID_ARGUMENT, process.error().str());

  sys::UniqueFd processJson = BERTH_TRY(memfdWith(runtime::config::serializeProcess(*process)));
  RuntimeExecPaths paths;
  paths.runtimeBinary = tools.runtimeBinary;
  paths.processJson = kProcessJsonFd;
  paths.pidFile = kPidPipeFd;
  std::optional<ScratchDir> scratch;  // the console socket needs a path
  if (request.tty) {
    scratch.emplace(BERTH_TRY(ScratchDir::create(tools.scratchParent, "exec")));
    paths.consoleSocket = scratch->file("console.sock");
  }
  ExecSession session(stream, request, paths);
  return session.run(runtimeExecArgv(paths, view.stateRoot, view.runtimeId), processJson.get());
}

api::CallResult<engine::ContainerView> findRunning(engine::ContainerAccess& access,
                                                   const std::string& id) {
  auto view = access.find(id);
  if (!view) return view;
  if (view->state == pb::STATE_PAUSED) {
    return api::CallError(pb::FAILED_PRECONDITION, "container " + id + " is paused");
  }
  if (view->state != pb::STATE_RUNNING) {
    return api::CallError(pb::FAILED_PRECONDITION, "container " + id + " is not running");
  }
  return view;
}

}  // namespace

api::CallResult<pb::ExitStatus> runExec(engine::ContainerAccess& access, const ExecTools& tools,
                                        const pb::ExecStart& request, api::BidiStream& stream) {
  auto view = findRunning(access, request.id());
  if (!view) return std::move(view).error();
  return execIn(*view, tools, execRequestFrom(request), stream);
}

api::CallResult<pb::ExitStatus> runShell(engine::ContainerAccess& access, const ExecTools& tools,
                                         const pb::ShellStart& request, api::BidiStream& stream) {
  auto view = findRunning(access, request.id());
  if (!view) return std::move(view).error();
  return execIn(*view, tools, shellRequestFrom(request, *view), stream);
}

}  // namespace berth::agent::streams
