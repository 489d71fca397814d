// Child processes, pidfds, interruptible writes and scratch directories;
// see child_process.h.
#include "runtime/sys/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <utility>

#include "runtime/sys/fs.h"
#include "runtime/sys/syscall.h"

extern char** environ;

namespace berth::sys {
namespace {

// Makes fds[i] the child's fd i, without close-on-exec. Every source is
// first moved above the targets, so no dup2 overwrites a source still to be
// installed (a source may itself be a low number). `moved` has fds.size() room.
bool installFdsInChild(const std::vector<int>& fds, int* moved) {
  int count = static_cast<int>(fds.size());
  for (int i = 0; i < count; ++i) {
    moved[i] = ::fcntl(fds[static_cast<size_t>(i)], F_DUPFD_CLOEXEC, count);
    if (moved[i] < 0) return false;
  }
  for (int i = 0; i < count; ++i) {
    if (::dup2(moved[i], i) != i) return false;
  }
  return true;
}

// Runs in the clone3 child: only async-signal-safe calls, no allocation.
[[noreturn]] void execInChild(char* const* argv, const std::vector<int>& fds, int* moved, int executable,
                              pid_t parent) {
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  // A disposition the daemon set to SIG_IGN (SIGPIPE) would survive execve.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; ++s) ::sigaction(s, &dfl, nullptr);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(127);  // the parent died before prctl
  ::setsid();
  // Above the fds about to be installed, which could otherwise replace it.
  if (executable >= 0) {
    executable = ::fcntl(executable, F_DUPFD_CLOEXEC, static_cast<int>(fds.size()));
    if (executable < 0) ::_exit(127);
  }
  if (!installFdsInChild(fds, moved)) ::_exit(127);
  // Whatever another daemon thread opened without O_CLOEXEC stays behind.
  closeRange(static_cast<unsigned>(fds.size()), ~0U, CLOSE_RANGE_CLOEXEC);
  // `executable` is close-on-exec: execveat still sees it, the binary does not.
  // If that fails, the path still names the binary.
  if (executable >= 0) ::execveat(executable, "", argv, environ, AT_EMPTY_PATH);
  ::execve(argv[0], argv, environ);
  ::_exit(127);
}

}  // namespace

Result<ChildProcess> ChildProcess::spawn(const std::vector<std::string>& argv,
                                         const ChildStdio& stdio, int executable) {
  if (argv.empty()) return Error::invalid("spawn: empty command line");
  // Everything the child needs is prepared here: it must not allocate.
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  UniqueFd devNull(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!devNull) return Error::fromErrno("open /dev/null");
  std::vector<int> fds = {stdio.in, stdio.out, stdio.err};
  for (int& fd : fds) {
    if (fd < 0) fd = devNull.get();
  }
  fds.insert(fds.end(), stdio.extra.begin(), stdio.extra.end());
  std::vector<int> moved(fds.size());
  pid_t parent = ::getpid();
  int pidfd = -1;
  struct clone_args cl {};
  cl.flags = CLONE_PIDFD;
  cl.pidfd = reinterpret_cast<uint64_t>(&pidfd);
  cl.exit_signal = SIGCHLD;
  long pid = clone3(&cl);
  if (pid < 0) return Error::fromErrno("clone3 " + argv[0]);
  if (pid == 0) execInChild(args.data(), fds, moved.data(), executable, parent);
  ChildProcess child;
  child.pid_ = static_cast<pid_t>(pid);
  child.pidfd_.reset(pidfd);
  return child;
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, 0)), pidfd_(std::move(other.pidfd_)) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    kill();
    pid_ = std::exchange(other.pid_, 0);
    pidfd_ = std::move(other.pidfd_);
  }
  return *this;
}

ChildProcess::~ChildProcess() { kill(); }

void ChildProcess::signal(int sig) const {
  if (pid_ > 0) pidfdSendSignal(pidfd_.get(), sig);
}

Result<int> ChildProcess::wait() {
  if (pid_ <= 0) return Error(ECHILD, "wait for child: already reaped");
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0) {
    if (errno != EINTR) return Error::fromErrno("wait for child " + std::to_string(pid_));
  }
  pid_ = 0;
  pidfd_.reset();
  return status;
}

Result<std::optional<int>> ChildProcess::tryWait() {
  if (pid_ <= 0) return Error(ECHILD, "wait for child: already reaped");
  int status = 0;
  pid_t got = ::waitpid(pid_, &status, WNOHANG);
  if (got == 0 || (got < 0 && errno == EINTR)) return std::optional<int>();
  int err = errno;  // before close() in reset() can change it
  pid_t pid = std::exchange(pid_, 0);
  pidfd_.reset();
  if (got < 0) return Error(err, "wait for child " + std::to_string(pid));
  return std::optional<int>(status);
}

void ChildProcess::kill() {
  if (pid_ <= 0) return;
  signal(SIGKILL);
  (void)wait();
}

pid_t parentOf(pid_t pid) {
  auto text = readFile("/proc/" + std::to_string(pid) + "/stat");
  if (!text) return 0;
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
  size_t paren = text->rfind(')');
  if (paren == std::string::npos || paren + 4 > text->size()) return 0;
  return static_cast<pid_t>(std::strtol(text->c_str() + paren + 4, nullptr, 10));
}

UniqueFd openChildPidfd(pid_t pid, pid_t parent) {
  if (pid <= 0) return {};
  UniqueFd fd(pidfdOpen(pid));
  if (!fd) return {};
  // The pidfd now names one process for good; /proc/<pid> still names the
  // same one unless it has already exited, which the readable pidfd shows.
  if (parentOf(pid) != parent || pollReadable(fd.get())) return {};
  return fd;
}

bool pollReadable(int fd) {
  if (fd < 0) return false;
  struct pollfd p {
    fd, POLLIN, 0
  };
  return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR)) != 0;
}

bool writeAllInterruptible(int fd, std::string_view data, int wakeFd) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN) return false;
    struct pollfd fds[2] = {{fd, POLLOUT, 0}, {wakeFd, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) return false;
    if (fds[1].revents != 0) return false;
    if ((fds[0].revents & (POLLERR | POLLNVAL)) != 0) return false;
  }
  return true;
}

Result<UniqueFd> makeEventFd() {
  UniqueFd fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!fd) return Error::fromErrno("eventfd");
  return fd;
}

void signalEventFd(int fd) {
  uint64_t one = 1;
  (void)!::write(fd, &one, sizeof one);
}

Result<ScratchDir> ScratchDir::create(const std::string& parent, const std::string& tag) {
  std::string pattern = (parent.empty() ? std::string("/tmp") : parent) + "/berth-" + tag + "-XXXXXX";
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) return Error::fromErrno("create a directory " + pattern);
  ScratchDir dir;
  dir.path_ = buf.data();
  return dir;
}

ScratchDir::~ScratchDir() {
  if (!path_.empty()) (void)removeAll(path_);
}

}  // namespace berth::sys
