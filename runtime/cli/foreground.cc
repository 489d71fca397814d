// Foreground process supervision; see foreground.h.
#include "runtime/cli/foreground.h"

#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>

#include "runtime/sys/syscall.h"

namespace berth::runtime::cli {
namespace {

constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT};

sigset_t forwardedSet() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : kForwarded) sigaddset(&set, s);
  return set;
}

// Puts the caller's terminal in raw mode for the proxy; restores it on scope exit.
class RawTerminal {
 public:
  explicit RawTerminal(int fd) : fd_(fd) {
    if (!::isatty(fd) || ::tcgetattr(fd, &saved_) < 0) return;
    struct termios raw = saved_;
    ::cfmakeraw(&raw);
    active_ = ::tcsetattr(fd, TCSANOW, &raw) == 0;
  }
  ~RawTerminal() {
    if (active_) ::tcsetattr(fd_, TCSANOW, &saved_);
  }

 private:
  int fd_;
  struct termios saved_ {};
  bool active_ = false;
};

void copyWindowSize(int from, int to) {
  struct winsize ws;
  if (::ioctl(from, TIOCGWINSZ, &ws) == 0) ::ioctl(to, TIOCSWINSZ, &ws);
}

// Copies what is readable on `from` to `to`; false at EOF or error.
bool pump(int from, int to) {
  char buf[16384];
  ssize_t n = ::read(from, buf, sizeof(buf));
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
  if (n <= 0) return false;
  for (ssize_t off = 0; off < n;) {
    ssize_t w = ::write(to, buf + off, static_cast<size_t>(n - off));
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    off += w;
  }
  return true;
}

int exitCodeOf(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

}  // namespace

sys::Result<LocalConsole> makeLocalConsole() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0) {
    return sys::Error::fromErrno("create console socketpair");
  }
  return LocalConsole{sys::UniqueFd(fds[0]), sys::UniqueFd(fds[1])};
}

void blockForwardedSignals() {
  sigset_t set = forwardedSet();
  ::sigprocmask(SIG_BLOCK, &set, nullptr);
}

int runForeground(pid_t pid, int pidfd, int ptyMaster) {
  sigset_t set = forwardedSet();
  sys::UniqueFd sigfd(::signalfd(-1, &set, SFD_CLOEXEC));
  RawTerminal raw(ptyMaster >= 0 ? STDIN_FILENO : -1);
  if (ptyMaster >= 0) copyWindowSize(STDIN_FILENO, ptyMaster);

  bool stdinOpen = ptyMaster >= 0;
  bool masterOpen = ptyMaster >= 0;
  for (;;) {
    struct pollfd fds[4] = {{pidfd, POLLIN, 0}, {sigfd.get(), POLLIN, 0},
                            {stdinOpen ? STDIN_FILENO : -1, POLLIN, 0}, {masterOpen ? ptyMaster : -1, POLLIN, 0}};
    if (::poll(fds, 4, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[3].revents) masterOpen = pump(ptyMaster, STDOUT_FILENO);
    if (fds[2].revents) stdinOpen = pump(STDIN_FILENO, ptyMaster);
    if (fds[1].revents & POLLIN) {
      struct signalfd_siginfo si;
      if (::read(sigfd.get(), &si, sizeof(si)) == sizeof(si)) {
        if (static_cast<int>(si.ssi_signo) == SIGWINCH) {
          if (ptyMaster >= 0) copyWindowSize(STDIN_FILENO, ptyMaster);
        } else {
          sys::pidfdSendSignal(pidfd, static_cast<int>(si.ssi_signo));
        }
      }
    }
    if (fds[0].revents) {
      // Drain what the process wrote before it exited.
      while (masterOpen) {
        struct pollfd p {ptyMaster, POLLIN, 0};
        if (::poll(&p, 1, 0) <= 0) break;
        masterOpen = pump(ptyMaster, STDOUT_FILENO);
      }
      break;
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return exitCodeOf(status);
}

}  // namespace berth::runtime::cli
