// Container process preparation and finalization; see process.h.
#include "runtime/container/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include "runtime/security/credentials.h"
#include "runtime/security/seccomp_cache.h"
#include "runtime/sys/syscall.h"

namespace berth::runtime::container {

sys::Result<PreparedProcess> prepareProcess(const config::Process& process,
                                            const std::optional<config::Seccomp>& seccomp) {
  PreparedProcess p;
  p.process = process;
  if (process.capabilities) {
    p.caps = BERTH_TRY(security::prepareCapabilities(*process.capabilities));
  }
  p.rlimits = BERTH_TRY(security::prepareRlimits(process.rlimits));
  if (seccomp)
    p.seccomp = BERTH_TRY_CTX(security::compileSeccompForProcess(*seccomp), "linux.seccomp");
  for (auto& a : p.process.args) p.argv.push_back(a.data());
  p.argv.push_back(nullptr);
  for (auto& e : p.process.env) p.envp.push_back(e.data());
  p.envp.push_back(nullptr);
  return p;
}

void resetSignalsInChild() {
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    ::signal(sig, SIG_DFL);
  }
  sigset_t all;
  sigemptyset(&all);
  ::sigprocmask(SIG_SETMASK, &all, nullptr);
}

namespace {

std::string_view pathFromEnv(const config::Process& p) {
  for (const auto& e : p.env) {
    if (e.rfind("PATH=", 0) == 0) return std::string_view(e).substr(5);
  }
  return "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
}

bool isExecutableFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

}  // namespace

sys::Result<std::string> findExecutableInChild(const PreparedProcess& p) {
  if (p.process.args.empty()) return sys::Error::invalid("process.args must not be empty");
  const std::string& name = p.process.args[0];
  if (name.find('/') != std::string::npos) {
    // Checked like a PATH entry, so a file that cannot be executed fails
    // `create` (as in runc), not the later `start`.
    struct stat st;
    if (::stat(name.c_str(), &st) < 0) return sys::Error::fromErrno("exec: \"" + name + "\"");
    if (!S_ISREG(st.st_mode) || ::access(name.c_str(), X_OK) < 0) {
      return sys::Error(EACCES, "exec: \"" + name + "\"");
    }
    return name;
  }
  std::string_view path = pathFromEnv(p.process);
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string_view::npos) end = path.size();
    std::string dir(path.substr(start, end - start));
    if (dir.empty()) dir = ".";
    std::string candidate = dir + "/" + name;
    if (isExecutableFile(candidate)) return candidate;
    start = end + 1;
  }
  return sys::Error::invalid("exec: \"" + name + "\": executable file not found in $PATH");
}

sys::Result<void> finalizeProcessInChild(const PreparedProcess& p) {
  // Raising a hard rlimit needs CAP_SYS_RESOURCE: before capabilities drop.
  BERTH_TRY(security::applyRlimitsInChild(p.rlimits));
  // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN, which the
  // user switch may drop: load it first (runc's order).
  if (p.seccomp && !p.process.noNewPrivileges) {
    BERTH_TRY_CTX(security::loadSeccompInChild(*p.seccomp), "load seccomp filter");
  }
  BERTH_TRY(security::switchUserInChild(p.process.user, p.caps, p.setgroupsAllowed));
  if (p.process.noNewPrivileges) BERTH_TRY(security::setNoNewPrivilegesInChild());
  return sys::ok();
}

sys::Result<void> execProcessInChild(const PreparedProcess& p, const std::string& path) {
  // With no_new_privs the filter goes last, so it does not have to allow the
  // runtime's own remaining system calls.
  if (p.seccomp && p.process.noNewPrivileges) {
    BERTH_TRY_CTX(security::loadSeccompInChild(*p.seccomp), "load seccomp filter");
  }
  ::execve(path.c_str(), p.argv.data(), p.envp.data());
  return sys::Error::fromErrno("exec \"" + p.process.args[0] + "\"");
}

void closeFdsOnExecInChild(int first, std::initializer_list<int> keep) {
  std::vector<int> sorted(keep);
  std::sort(sorted.begin(), sorted.end());
  unsigned lo = static_cast<unsigned>(first);
  for (int k : sorted) {
    if (k < first) continue;
    if (static_cast<unsigned>(k) > lo) sys::closeRange(lo, static_cast<unsigned>(k) - 1, CLOSE_RANGE_CLOEXEC);
    lo = static_cast<unsigned>(k) + 1;
  }
  sys::closeRange(lo, UINT_MAX, CLOSE_RANGE_CLOEXEC);
}

sys::Result<void> changeToCwdInChild(const std::string& cwd) {
  if (::chdir(cwd.c_str()) < 0) return sys::Error::fromErrno("chdir to process.cwd " + cwd);
  // A cwd reached through a leaked fd or an escaping path is reported by the
  // kernel as "(unreachable)/...": refuse it (CVE-2024-21626).
  char buf[PATH_MAX];
  if (::getcwd(buf, sizeof(buf)) == nullptr) return sys::Error::fromErrno("getcwd after chdir to " + cwd);
  if (buf[0] != '/') return sys::Error(EPERM, "process.cwd " + cwd + " is outside the container's root");
  return sys::ok();
}

}  // namespace berth::runtime::container
