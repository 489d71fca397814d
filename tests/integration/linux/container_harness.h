// Test harness for the rootfs stages: runs prepare -> pivot -> finish in a child
// that is pid 1 of new mount, pid, uts and ipc namespaces (as the container init
// would be), then runs checks from inside and reports them over a pipe, so the
// test process itself never changes its own mounts.
#pragma once

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <string>

#include "runtime/linux/rootfs.h"
#include "runtime/sys/fd.h"
#include "runtime/sys/fs.h"

namespace berth::runtime::linux::testing {

// Collects failed expectations inside the child, where gtest must not be used.
class Checks {
 public:
  void expect(bool cond, const std::string& what) {
    if (!cond) failures_ += "FAIL " + what + "\n";
  }
  // Expects `call` to have failed with `err`.
  void expectErrno(int rc, int err, const std::string& what) {
    int saved = errno;
    if (rc >= 0) {
      failures_ += "FAIL " + what + ": succeeded, want " + std::strerror(err) + "\n";
    } else if (saved != err) {
      failures_ += "FAIL " + what + ": " + std::strerror(saved) + ", want " + std::strerror(err) + "\n";
    }
  }
  const std::string& str() const { return failures_; }

 private:
  std::string failures_;
};

struct ChildReport {
  int exitCode = -1;
  std::string output;  // "ERROR <stage>: <message>" or the "FAIL ..." lines; empty when all passed
};

using CheckFn = std::function<void(Checks&)>;

inline void writeAllTo(int fd, const std::string& text) {
  size_t off = 0;
  while (off < text.size()) {
    ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

// Runs in the grandchild (pid 1 of the new pid namespace).
[[noreturn]] inline void containerInit(int out, const config::Spec& spec, const RootfsContext& ctx,
                                       const CheckFn& beforePivot, const CheckFn& inside) {
  ::alarm(30);
  auto fail = [&](const char* stage, const sys::Error& e) {
    writeAllTo(out, std::string("ERROR ") + stage + ": " + e.str());
    ::_exit(2);
  };
  if (auto r = prepareRootfsInChild(spec, ctx); !r) fail("prepare", r.error());
  Checks checks;
  if (beforePivot) beforePivot(checks);
  if (auto r = pivotRootInChild(ctx); !r) fail("pivot", r.error());
  if (auto r = finishRootfsInChild(spec, ctx); !r) fail("finish", r.error());
  if (inside) inside(checks);
  writeAllTo(out, checks.str());
  ::_exit(0);
}

inline ChildReport runContainer(const config::Spec& spec, const RootfsContext& ctx, const CheckFn& inside,
                                const CheckFn& beforePivot = {}) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0) return {-1, "pipe failed"};
  sys::UniqueFd readEnd(fds[0]), writeEnd(fds[1]);
  pid_t middle = ::fork();
  if (middle < 0) return {-1, "fork failed"};
  if (middle == 0) {
    readEnd.reset();
    if (::unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC) < 0) {
      writeAllTo(writeEnd.get(), std::string("ERROR unshare: ") + std::strerror(errno));
      ::_exit(3);
    }
    pid_t init = ::fork();
    if (init == 0) containerInit(writeEnd.get(), spec, ctx, beforePivot, inside);
    int status = 0;
    while (init > 0 && ::waitpid(init, &status, 0) < 0 && errno == EINTR) {
    }
    ::_exit(init < 0 ? 4 : WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  }
  writeEnd.reset();
  ChildReport report;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(readEnd.get(), buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) report.output.append(buf, static_cast<size_t>(n));
  }
  int status = 0;
  while (::waitpid(middle, &status, 0) < 0 && errno == EINTR) {
  }
  report.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return report;
}

// The host's mounts outside the shared scratch areas other tests use in
// parallel (/tmp, /run): a rootfs stage leaking to the host would show here.
inline std::string hostMountsOutsideScratch() {
  auto text = sys::readFile("/proc/self/mountinfo");
  if (!text) return "unreadable";
  std::string out;
  size_t start = 0;
  while (start < text->size()) {
    size_t end = text->find('\n', start);
    if (end == std::string::npos) end = text->size();
    std::string line = text->substr(start, end - start);
    start = end + 1;
    // Field 5 is the mount point.
    size_t pos = 0;
    for (int i = 0; i < 4 && pos != std::string::npos; ++i) pos = line.find(' ', pos + 1);
    if (pos == std::string::npos) continue;
    std::string mountPoint = line.substr(pos + 1, line.find(' ', pos + 1) - pos - 1);
    if (mountPoint.starts_with("/tmp/") || mountPoint.starts_with("/run/")) continue;
    out += line + "\n";
  }
  return out;
}

// Mounts below `dir` in the host's table (must be none once a test is over).
inline std::string hostMountsUnder(const std::string& dir) {
  auto text = sys::readFile("/proc/self/mountinfo");
  if (!text) return "unreadable";
  std::string out;
  size_t start = 0;
  while ((start = text->find(" " + dir, start)) != std::string::npos) {
    size_t end = text->find('\n', start);
    out += text->substr(start, end - start) + "\n";
    start = end;
  }
  return out;
}

inline bool isFsType(const char* path, long magic) {
  struct statfs st;
  return ::statfs(path, &st) == 0 && static_cast<long>(st.f_type) == magic;
}

inline std::string readSmall(const char* path) {
  auto r = sys::readFile(path);
  return r ? *r : "<" + r.error().str() + ">";
}

inline std::string readLink(const char* path) {
  char buf[512];
  ssize_t n = ::readlink(path, buf, sizeof(buf));
  return n < 0 ? std::string("<") + std::strerror(errno) + ">" : std::string(buf, static_cast<size_t>(n));
}

}  // namespace berth::runtime::linux::testing
