// Helpers for the container and cli unit tests: a private temp directory
// removed on scope exit, small file helpers, and a forked child for code
// that changes process-wide state (fds, cwd, signal dispositions) or calls
// exit paths that must not run inside the gtest process.
//
// Every name includes the pid, so test binaries can run in parallel.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>

#include "runtime/sys/fd.h"
#include "runtime/sys/fs.h"
#include "runtime/sys/syscall.h"

namespace berth::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = "/tmp/berth-ctunit-" + std::to_string(::getpid()) + "-XXXXXX";
    char* made = ::mkdtemp(tmpl.data());
    if (made) path_ = made;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    if (!path_.empty()) (void)sys::removeAll(path_);
  }
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline bool writeText(const std::string& path, const std::string& text, mode_t mode = 0644) {
  sys::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
  if (!fd) return false;
  bool ok = ::write(fd.get(), text.data(), text.size()) == static_cast<ssize_t>(text.size());
  // The umask may have cut the mode; tests rely on the exact bits.
  return ::fchmod(fd.get(), mode) == 0 && ok;
}

inline std::string readText(const std::string& path) {
  auto r = sys::readFile(path);
  return r ? *r : std::string();
}

// A /bin/sh script with the given body, mode 0755.
inline bool writeScript(const std::string& path, const std::string& body) {
  return writeText(path, "#!/bin/sh\n" + body + "\n", 0755);
}

struct ChildResult {
  bool exited = false;
  int code = -1;
  int signal = 0;
  bool timedOut = false;
};

// Runs fn() in a forked child and returns how it ended; waits at most
// timeoutMs, then kills it. The child never returns into gtest.
template <class Fn>
ChildResult runInChild(Fn&& fn, int timeoutMs = 10000) {
  ChildResult result;
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = ::fork();
  if (pid < 0) return result;
  if (pid == 0) {
    int code = fn();
    std::fflush(stdout);
    std::fflush(stderr);
    ::_exit(code);
  }
  sys::UniqueFd pidfd(sys::pidfdOpen(pid));
  pollfd p{pidfd.get(), POLLIN, 0};
  if (pidfd && ::poll(&p, 1, timeoutMs) == 0) {
    ::kill(pid, SIGKILL);
    result.timedOut = true;
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) {
    result.exited = true;
    result.code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.signal = WTERMSIG(status);
  }
  return result;
}

// Number of open fds of this process (to catch leaks).
inline int openFdCount() {
  int n = 0;
  if (auto* d = ::opendir("/proc/self/fd")) {
    while (auto* e = ::readdir(d)) {
      if (e->d_name[0] != '.') ++n;
    }
    ::closedir(d);
  }
  return n - 1;  // the directory stream's own fd
}

}  // namespace berth::testing
