// ForkedChild: runs a function in a forked child process for tests that
// must change process-wide state (seccomp filters, credentials, rlimits)
// which can never be undone in the test process itself.
//
// The child's function returns its exit code; the child _exits and never
// returns into gtest. Waiting is bounded, and the destructor kills and reaps
// a child that is still around, so a failing test leaves no process behind.
#pragma once

#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <utility>

#include "runtime/sys/fd.h"
#include "runtime/sys/syscall.h"

namespace berth::testing {

struct ChildStatus {
  bool exited = false;  // exited normally: see code
  int code = -1;
  int signal = 0;         // killed by this signal
  bool timedOut = false;  // killed by wait() after its timeout
};

class ForkedChild {
 public:
  template <class Fn>
  static ForkedChild run(Fn&& fn) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      // Crashes the tests provoke (SIGSYS) must not leave core files behind.
      const rlimit noCore{0, 0};
      ::setrlimit(RLIMIT_CORE, &noCore);
      ::_exit(fn());
    }
    return ForkedChild(pid);
  }

  ForkedChild(ForkedChild&& other) noexcept
      : pid_(std::exchange(other.pid_, -1)), pidfd_(std::move(other.pidfd_)) {}
  ForkedChild(const ForkedChild&) = delete;
  ForkedChild& operator=(const ForkedChild&) = delete;
  ForkedChild& operator=(ForkedChild&&) = delete;
  ~ForkedChild() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }

  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

  // Waits at most `timeout` for the child to end; kills it after that.
  ChildStatus wait(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    ChildStatus status;
    if (pid_ <= 0) return status;
    pollfd pfd{pidfd_.get(), POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(timeout.count())) == 0) {
      ::kill(pid_, SIGKILL);
      status.timedOut = true;
    }
    int raw = 0;
    while (::waitpid(pid_, &raw, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    if (WIFEXITED(raw)) {
      status.exited = true;
      status.code = WEXITSTATUS(raw);
    } else if (WIFSIGNALED(raw)) {
      status.signal = WTERMSIG(raw);
    }
    return status;
  }

 private:
  explicit ForkedChild(pid_t pid) : pid_(pid), pidfd_(pid > 0 ? sys::pidfdOpen(pid) : -1) {}

  pid_t pid_ = -1;
  sys::UniqueFd pidfd_;
};

inline std::string describe(const ChildStatus& s) {
  if (s.timedOut) return "timed out";
  if (s.exited) return "exited " + std::to_string(s.code);
  return "killed by signal " + std::to_string(s.signal);
}

}  // namespace berth::testing
