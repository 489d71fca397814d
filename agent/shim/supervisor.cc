// The shim's event loop; see supervisor.h.
#include "agent/shim/supervisor.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>

namespace berth::agent::shim {
namespace {

// One read is one log record (logs::kMaxPayload keeps it to one), and the
// buffer is static so the hot path allocates nothing.
constexpr size_t kReadSize = logs::kMaxPayload;
alignas(64) char gReadBuffer[kReadSize];

// Consecutive full reads of one stream per wakeup before the other fds get
// their turn.
constexpr int kReadsPerWakeup = 4;

// After the init has exited: how long to wait for the last output. With a
// pid namespace every process is gone and EOF comes at once; without one, a
// daemonized orphan may hold the pipes open forever.
constexpr int kDrainIdleMs = 200;
constexpr auto kDrainMax = std::chrono::seconds(5);

enum PollSlot { kSignal, kOut, kErr, kIn, kFirstAttach };

}  // namespace

Supervisor::Supervisor(ShimIo io, logs::LogWriter& log, AttachServer& attach, int signalFd, pid_t initPid,
                       int dirfd)
    : io_(std::move(io)), log_(log), attach_(attach), signalFd_(signalFd), initPid_(initPid), dirfd_(dirfd) {}

ExitStatus Supervisor::run() {
  struct pollfd fds[kFirstAttach + 1 + kMaxAttachClients];
  std::chrono::steady_clock::time_point exitedAt;
  reapChildren();  // the init may have exited before we were ready
  while (true) {
    if (initExited_) {
      if (exitedAt == std::chrono::steady_clock::time_point()) exitedAt = std::chrono::steady_clock::now();
      if (drained() || std::chrono::steady_clock::now() - exitedAt > kDrainMax) break;
    }
    fds[kSignal] = {signalFd_, POLLIN, 0};
    fds[kOut] = {io_.out.get(), POLLIN, 0};
    fds[kErr] = {io_.err.get(), POLLIN, 0};
    bool stdinBusy = !pendingStdin_.empty();
    fds[kIn] = {stdinBusy ? io_.in.get() : -1, POLLOUT, 0};
    // While stdin is backed up, client input waits in the clients' sockets.
    size_t n = kFirstAttach + attach_.fillPoll(fds + kFirstAttach, !stdinBusy);
    int ready = ::poll(fds, n, initExited_ ? kDrainIdleMs : -1);
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) break;  // draining, and nothing more came
    if (ready < 0) {
      // Cannot happen with valid fds; never record an exit that did not happen.
      if (initExited_) break;
      ::usleep(10000);
      continue;
    }
    if (fds[kSignal].revents) reapChildren();
    if (fds[kOut].revents && !relay(io_.out.get(), logs::Stream::kStdout)) io_.out.reset();
    if (fds[kErr].revents && !relay(io_.err.get(), logs::Stream::kStderr)) io_.err.reset();
    if (fds[kIn].revents) flushStdin();
    attach_.handlePoll(fds + kFirstAttach, *this);
  }
  return status_;
}

void Supervisor::reapChildren() {
  struct signalfd_siginfo info;
  while (::read(signalFd_, &info, sizeof(info)) == sizeof(info)) {
  }
  int status = 0;
  pid_t pid;
  // Orphans of the container are reparented to us (subreaper): reap them
  // too, or they stay zombies.
  while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
    if (pid == initPid_) {
      status_ = exitStatusFromWait(status, realtimeNowNs());
      initExited_ = true;
    }
  }
}

bool Supervisor::relay(int fd, logs::Stream stream) {
  for (int i = 0; i < kReadsPerWakeup; ++i) {
    ssize_t n = ::read(fd, gReadBuffer, kReadSize);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return true;
    // EIO on a pty master: every slave fd is closed, the terminal's EOF.
    if (n <= 0) return false;
    std::string_view chunk(gReadBuffer, static_cast<size_t>(n));
    if (auto r = log_.write(stream, chunk, realtimeNowNs()); !r) noteLogError(r.error());
    attach_.broadcast(stream == logs::Stream::kStdout ? FrameType::kStdout : FrameType::kStderr, chunk);
    if (static_cast<size_t>(n) < kReadSize) return true;
  }
  return true;
}

void Supervisor::onStdin(std::string_view data) {
  if (!io_.in || closeStdinWhenFlushed_) return;
  if (pendingStdin_.empty()) {
    ssize_t n = ::write(io_.in.get(), data.data(), data.size());
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      closeStdin();  // EPIPE: the container closed its stdin
      return;
    }
    if (n > 0) data.remove_prefix(static_cast<size_t>(n));
  }
  // Bounded: no client is read while this is non-empty, and one client
  // read is at most 4 KiB.
  pendingStdin_.append(data);
}

void Supervisor::flushStdin() {
  while (!pendingStdin_.empty() && io_.in) {
    ssize_t n = ::write(io_.in.get(), pendingStdin_.data(), pendingStdin_.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n < 0) {
      closeStdin();
      return;
    }
    pendingStdin_.erase(0, static_cast<size_t>(n));
  }
  if (closeStdinWhenFlushed_) closeStdin();
}

void Supervisor::onCloseStdin() {
  // On a tty, closing our end of the master would hang up the terminal.
  if (io_.tty) return;
  closeStdinWhenFlushed_ = true;
  if (pendingStdin_.empty()) closeStdin();
}

void Supervisor::closeStdin() {
  io_.in.reset();
  pendingStdin_.clear();
  pendingStdin_.shrink_to_fit();
}

void Supervisor::onResize(WindowSize size) {
  if (!io_.tty || !io_.out) return;
  struct winsize ws {};
  ws.ws_row = size.rows;
  ws.ws_col = size.cols;
  ::ioctl(io_.out.get(), TIOCSWINSZ, &ws);
}

void Supervisor::noteLogError(const sys::Error& error) {
  // The output is lost either way; stopping the reads would block the
  // container. The first error is kept where berthd can show it.
  if (loggedError_) return;
  loggedError_ = true;
  std::string line = "log write failed: " + error.str() + "\n";
  int fd = ::openat(dirfd_, "shim.log", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd >= 0) {
    (void)!::write(fd, line.data(), line.size());
    ::close(fd);
  }
}

}  // namespace berth::agent::shim
