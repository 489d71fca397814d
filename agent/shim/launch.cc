// Launching berth-shim; see launch.h.
#include "agent/shim/launch.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <charconv>
#include <vector>

#include "runtime/sys/fd.h"
#include "runtime/sys/syscall.h"

namespace berth::agent::shim {
namespace {

// The fd number the report pipe gets in the shim.
constexpr int kReportFdInShim = 3;

template <class T>
bool parseInt(std::string_view text, T* out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

// Reads until EOF, the timeout, or a full line.
sys::Result<std::string> readReport(int fd, std::chrono::milliseconds timeout) {
  std::string text;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (text.find('\n') == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return sys::Error(ETIMEDOUT, "wait for the shim's report");
    struct pollfd p {fd, POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys::Error::fromErrno("poll the shim's report pipe");
    if (n == 0) continue;
    char buf[512];
    ssize_t got = ::read(fd, buf, sizeof(buf));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return sys::Error::fromErrno("read the shim's report");
    if (got == 0) break;
    text.append(buf, static_cast<size_t>(got));
    if (text.size() > 8192) return sys::Error::invalid("the shim's report is too long");
  }
  if (text.empty()) return sys::Error::invalid("the shim exited without reporting");
  return text.substr(0, text.find('\n'));
}

// Starts the shim binary argv[0] with `reportFd` as its fd 3 and nothing
// else open beyond 0-2. posix_spawn reports a failed exec itself.
sys::Result<pid_t> spawnShim(char* const* argv, int reportFd) {
  posix_spawn_file_actions_t actions;
  if (int err = ::posix_spawn_file_actions_init(&actions); err != 0) {
    return sys::Error(err, "posix_spawn_file_actions_init");
  }
  // dup2 clears close-on-exec on the new fd; the rest is closed.
  int err = ::posix_spawn_file_actions_adddup2(&actions, reportFd, kReportFdInShim);
  if (err == 0) err = ::posix_spawn_file_actions_addclosefrom_np(&actions, kReportFdInShim + 1);
  pid_t pid = 0;
  if (err == 0) err = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv, environ);
  ::posix_spawn_file_actions_destroy(&actions);
  if (err != 0) return sys::Error(err, std::string("exec ") + argv[0]);
  return pid;
}

}  // namespace

std::string encodeStartedReport(const LaunchReport& r) {
  return "started " + std::to_string(r.initPid) + " " + std::to_string(r.shimPid) + "\n";
}

std::string encodeErrorReport(const sys::Error& error) {
  std::string what = error.what();
  for (char& c : what) {
    if (c == '\n') c = ' ';
  }
  return "error " + std::to_string(error.code()) + " " + what + "\n";
}

sys::Result<LaunchReport> parseLaunchReport(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  auto bad = [&] { return sys::Error::invalid("malformed shim report \"" + std::string(line) + "\""); };
  if (line.starts_with("started ")) {
    std::string_view rest = line.substr(8);
    size_t sp = rest.find(' ');
    LaunchReport r;
    if (sp == std::string_view::npos || !parseInt(rest.substr(0, sp), &r.initPid) ||
        !parseInt(rest.substr(sp + 1), &r.shimPid) || r.initPid <= 0 || r.shimPid <= 0) {
      return bad();
    }
    return r;
  }
  if (line.starts_with("error ")) {
    std::string_view rest = line.substr(6);
    size_t sp = rest.find(' ');
    int code = 0;
    if (sp == std::string_view::npos || !parseInt(rest.substr(0, sp), &code) || code < 0) return bad();
    return sys::Error(code, std::string(rest.substr(sp + 1)));
  }
  return bad();
}

void sendReport(int fd, std::string_view line) {
  while (!line.empty()) {
    ssize_t n = ::write(fd, line.data(), line.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    line.remove_prefix(static_cast<size_t>(n));
  }
}

sys::Result<LaunchReport> launchShim(const LaunchOptions& launch, ShimOptions options) {
  if (launch.binary.empty() && !launch.entry) return sys::Error::invalid("launch shim: no binary and no entry");
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0) return sys::Error::fromErrno("create the shim's report pipe");
  sys::UniqueFd readEnd(fds[0]), writeEnd(fds[1]);
  options.reportFd = kReportFdInShim;
  // Everything the child needs is built before fork: berthd has threads, and
  // the child of a threaded process may only call async-signal-safe functions.
  std::vector<std::string> args = toArgv(options);
  args.insert(args.begin(), launch.binary.empty() ? std::string("berth-shim") : launch.binary);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  pid_t pid;
  if (!launch.binary.empty()) {
    // posix_spawn (a vfork: no copy of berthd's page tables, which a fork
    // pays for in milliseconds) with the report pipe as fd 3.
    pid =
        BERTH_TRY_CTX(spawnShim(argv.data(), writeEnd.get()), "start berth-shim for " + options.id);
  } else {
    // Tests of the library: fork and call `entry`.
    pid = ::fork();
    if (pid < 0) return sys::Error::fromErrno("fork berth-shim");
    if (pid == 0) {
      // dup2 clears close-on-exec on the new fd; everything else is closed.
      if (::dup2(writeEnd.get(), kReportFdInShim) < 0) ::_exit(127);
      sys::closeRange(kReportFdInShim + 1, ~0U, 0);
      ::_exit(launch.entry(static_cast<int>(args.size()), argv.data()));
    }
  }
  writeEnd.reset();
  auto report = readReport(readEnd.get(), launch.timeout);
  // The first process exits as soon as it has forked the detached shim.
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!report) return std::move(report).error().context("start berth-shim for " + options.id);
  return std::move(parseLaunchReport(*report)).context("start container " + options.id);
}

}  // namespace berth::agent::shim
