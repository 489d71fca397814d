// Hook execution; see hooks.h.
#include "runtime/container/hooks.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <ctime>
#include <optional>

#include "runtime/sys/fd.h"
#include "runtime/sys/syscall.h"

extern char** environ;

namespace berth::runtime::container {
namespace {

std::vector<char*> cStrings(const std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (const auto& s : v) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

using Clock = std::chrono::steady_clock;
using Deadline = std::optional<Clock::time_point>;

// Milliseconds left until `deadline`, never negative; -1 (forever) without one.
int remainingMs(const Deadline& deadline) {
  if (!deadline) return -1;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<decltype(left)>(left, 0, INT_MAX));
}

// Feeds the state to the hook's stdin. A hook may exit without reading it,
// or never read it while a pipe holds only 64 KiB: neither may kill us with
// SIGPIPE (whatever the caller's disposition) nor block us past the deadline.
void feedStdin(int fd, const std::string& data, const Deadline& deadline) {
  ::fcntl(fd, F_SETFL, O_NONBLOCK);
  sigset_t pipeSet, oldMask, pending;
  sigemptyset(&pipeSet);
  sigaddset(&pipeSet, SIGPIPE);
  sigpending(&pending);
  bool wasPending = sigismember(&pending, SIGPIPE);
  ::pthread_sigmask(SIG_BLOCK, &pipeSet, &oldMask);
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n >= 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN) break;  // EPIPE: the hook closed its stdin; its exit status tells
    struct pollfd p {fd, POLLOUT, 0};
    int r = ::poll(&p, 1, remainingMs(deadline));
    if (r == 0 || (r < 0 && errno != EINTR)) break;  // the wait reports the timeout
  }
  // Consume the SIGPIPE a write raised, so unblocking does not deliver it.
  sigpending(&pending);
  if (!wasPending && sigismember(&pending, SIGPIPE)) {
    struct timespec zero {};
    ::sigtimedwait(&pipeSet, nullptr, &zero);
  }
  ::pthread_sigmask(SIG_SETMASK, &oldMask, nullptr);
}

// Waits for `pid` until `deadline` (none: forever); kills it past that.
sys::Result<int> waitWithTimeout(pid_t pid, const Deadline& deadline, int timeoutSeconds) {
  sys::UniqueFd pidfd(sys::pidfdOpen(pid));
  if (pidfd && deadline) {
    struct pollfd p {pidfd.get(), POLLIN, 0};
    int r;
    do {
      r = ::poll(&p, 1, remainingMs(deadline));
    } while (r < 0 && errno == EINTR);
    if (r == 0) {
      // The whole process group: a shell script's own children must not
      // outlive a hook that timed out.
      // (and the hook itself, should it have left that group).
      ::kill(-pid, SIGKILL);
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      return sys::Error(ETIMEDOUT, "timed out after " + std::to_string(timeoutSeconds) + "s");
    }
  }
  int status = 0;
  pid_t w;
  do {
    w = ::waitpid(pid, &status, 0);
  } while (w < 0 && errno == EINTR);
  if (w < 0) return sys::Error::fromErrno("wait");
  return status;
}

}  // namespace

sys::Result<void> runHook(const config::Hook& hook, const std::string& stateJson) {
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) < 0) return sys::Error::fromErrno("pipe");
  sys::UniqueFd readEnd(pipefd[0]), writeEnd(pipefd[1]);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, readEnd.get(), STDIN_FILENO);
  // args[0] is argv[0] by the spec; an empty args list means just the path.
  std::vector<std::string> args = hook.args.empty() ? std::vector<std::string>{hook.path} : hook.args;
  auto argv = cStrings(args);
  auto envp = cStrings(hook.env);
  // Its own process group, so a timeout can kill everything the hook started.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  pid_t pid;
  int rc = ::posix_spawn(&pid, hook.path.c_str(), &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return sys::Error(rc, "start " + hook.path);
  readEnd.reset();

  // The timeout covers the hook's whole run, feeding its stdin included.
  Deadline deadline;
  if (hook.timeout) deadline = Clock::now() + std::chrono::seconds(*hook.timeout);
  feedStdin(writeEnd.get(), stateJson, deadline);
  writeEnd.reset();

  int status = BERTH_TRY_CTX(waitWithTimeout(pid, deadline, hook.timeout.value_or(0)), hook.path);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return sys::ok();
  if (WIFEXITED(status)) {
    return sys::Error::invalid(hook.path + ": exited with status " + std::to_string(WEXITSTATUS(status)));
  }
  return sys::Error::invalid(hook.path + ": killed by signal " + std::to_string(WTERMSIG(status)));
}

sys::Result<void> runHooks(const std::vector<config::Hook>& hooks, const char* stage,
                           const std::string& stateJson) {
  for (const auto& h : hooks) {
    if (auto r = runHook(h, stateJson); !r) {
      return std::move(r).error().context(std::string(stage) + " hook");
    }
  }
  return sys::ok();
}

}  // namespace berth::runtime::container
