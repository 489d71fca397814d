// Hook execution; see hooks.h.
#include "runtime/container/hooks.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

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

// Waits for `pid` for at most `timeoutMs` (< 0: forever); kills it past that.
sys::Result<int> waitWithTimeout(pid_t pid, int timeoutMs) {
  sys::UniqueFd pidfd(sys::pidfdOpen(pid));
  if (pidfd && timeoutMs >= 0) {
    struct pollfd p {pidfd.get(), POLLIN, 0};
    int r;
    do {
      r = ::poll(&p, 1, timeoutMs);
    } while (r < 0 && errno == EINTR);
    if (r == 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      return sys::Error(ETIMEDOUT, "timed out after " + std::to_string(timeoutMs / 1000) + "s");
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
  pid_t pid;
  int rc = ::posix_spawn(&pid, hook.path.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return sys::Error(rc, "start " + hook.path);
  readEnd.reset();

  // A hook that does not read its stdin must not block us: ignore EPIPE.
  const char* p = stateJson.data();
  size_t left = stateJson.size();
  while (left > 0) {
    ssize_t n = ::write(writeEnd.get(), p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  writeEnd.reset();

  int timeoutMs = hook.timeout ? *hook.timeout * 1000 : -1;
  int status = BERTH_TRY_CTX(waitWithTimeout(pid, timeoutMs), hook.path);
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
