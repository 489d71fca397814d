// Raw mode, window size and the signal self-pipe.
#include "agent/cli/terminal.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <utility>

namespace berth::agent::cli {

namespace {

// The write end for the async-signal-safe handler.
std::atomic<int> gSignalFd{-1};

void onSignal(int signo) {
  int saved = errno;
  int fd = gSignalFd.load();
  if (fd >= 0) {
    unsigned char byte = static_cast<unsigned char>(signo);
    // A full pipe drops the signal: 64 KiB of pending signals is a lot.
    (void)!::write(fd, &byte, 1);
  }
  errno = saved;
}

}  // namespace

std::optional<WindowSize> terminalSize(int fd) {
  struct winsize ws {};
  if (::ioctl(fd, TIOCGWINSZ, &ws) != 0 || ws.ws_row == 0) return std::nullopt;
  return WindowSize{ws.ws_row, ws.ws_col};
}

sys::Result<RawTerminal> RawTerminal::enable(int fd) {
  struct termios saved {};
  if (::tcgetattr(fd, &saved) != 0) return sys::Error::fromErrno("tcgetattr on the terminal");
  struct termios raw = saved;
  ::cfmakeraw(&raw);
  // Keep output post-processing: the container's pty already turns "\n" into
  // "\r\n", but our own messages (errors) should still land at column 0.
  raw.c_oflag = saved.c_oflag;
  if (::tcsetattr(fd, TCSADRAIN, &raw) != 0) return sys::Error::fromErrno("set raw terminal mode");
  return RawTerminal(fd, saved);
}

RawTerminal::RawTerminal(RawTerminal&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), saved_(other.saved_) {}

RawTerminal::~RawTerminal() {
  if (fd_ >= 0) ::tcsetattr(fd_, TCSADRAIN, &saved_);
}

sys::Result<SignalPipe> SignalPipe::install(const std::vector<int>& signals) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return sys::Error::fromErrno("pipe for signals");
  SignalPipe pipe;
  pipe.read_.reset(fds[0]);
  pipe.write_.reset(fds[1]);
  int expected = -1;
  if (!gSignalFd.compare_exchange_strong(expected, fds[1])) {
    return sys::Error(EBUSY, "signal forwarding is already installed");
  }
  for (int signo : signals) {
    struct sigaction action {};
    action.sa_handler = onSignal;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    struct sigaction old {};
    if (::sigaction(signo, &action, &old) != 0) return sys::Error::fromErrno("sigaction");
    pipe.saved_.emplace_back(signo, old);
  }
  return pipe;
}

SignalPipe::SignalPipe(SignalPipe&& other) noexcept
    : read_(std::move(other.read_)),
      write_(std::move(other.write_)),
      saved_(std::move(other.saved_)) {
  other.saved_.clear();
}

SignalPipe::~SignalPipe() {
  for (auto& [signo, old] : saved_) ::sigaction(signo, &old, nullptr);
  if (write_) {
    int expected = write_.get();
    gSignalFd.compare_exchange_strong(expected, -1);
  }
}

int SignalPipe::next() {
  unsigned char byte = 0;
  ssize_t n = ::read(read_.get(), &byte, 1);
  return n == 1 ? byte : 0;
}

}  // namespace berth::agent::cli
