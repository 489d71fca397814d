// Child processes of a multi-threaded daemon and the fd toolkit around them:
// a child (e.g. berth-runtime exec) that is killed and reaped whenever its
// owner lets go of it, a pidfd of a process we did not start that is proven
// to be the one we mean, writes that a shutdown can interrupt, and a private
// scratch directory.
//
// berthd is multi-threaded, so a child is started with clone3 (no fork
// handlers, no allocation after it) and only async-signal-safe calls run in
// it before execve.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/sys/fd.h"
#include "runtime/sys/result.h"

namespace berth::sys {

// The child's stdio; -1 is /dev/null.
struct ChildStdio {
  int in = -1;
  int out = -1;
  int err = -1;
  // Become the child's fds 3, 4, ... (e.g. a process.json memfd the child
  // reads as /proc/self/fd/3), so it needs no file on disk.
  std::vector<int> extra;
};

// Our child process, with a pidfd. Destroying it (or kill()) kills it with
// SIGKILL and reaps it unless wait() already did, so no code path leaks it.
// Its parent death signal is SIGKILL: if the thread that started it dies,
// it goes too.
class ChildProcess {
 public:
  // argv[0] is the binary's path. The child gets its own session, default
  // signal dispositions, an empty signal mask and only the fds in `stdio`
  // (stdio.extra included).
  // `executable`, when not -1, is an fd of that binary (e.g. an O_PATH one)
  // that is run instead of the path, with execveat.
  static Result<ChildProcess> spawn(const std::vector<std::string>& argv, const ChildStdio& stdio,
                                    int executable = -1);

  ChildProcess() = default;
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  // Readable once the child exited.
  int pidfd() const { return pidfd_.get(); }
  bool running() const { return pid_ > 0; }
  void signal(int sig) const;
  // Reaps the child (blocking); returns its waitpid() status word.
  Result<int> wait();
  // Reaps the child if it has exited, without blocking: its status word, or
  // nullopt while it runs. An error (someone else reaped it) also ends our
  // hold on it: running() is false after either.
  Result<std::optional<int>> tryWait();
  // SIGKILL and reap.
  void kill();

 private:
  pid_t pid_ = 0;
  UniqueFd pidfd_;
};

// A pidfd for `pid`, but only if that process is still the child of
// `parent` (read from /proc after the pidfd pins it), so a pid reused after
// the process we mean was reaped is never signalled. Invalid fd otherwise.
UniqueFd openChildPidfd(pid_t pid, pid_t parent);

// The parent pid of `pid` from /proc/<pid>/stat; 0 when unknown.
pid_t parentOf(pid_t pid);

// True when `fd` polls readable (or hung up) right now.
bool pollReadable(int fd);

// Writes all of `data` to a non-blocking `fd`, waiting for room with poll;
// false when `wakeFd` becomes readable first or the write fails (EPIPE: the
// reader is gone).
bool writeAllInterruptible(int fd, std::string_view data, int wakeFd);

// A non-blocking eventfd, for waking a thread out of poll.
Result<UniqueFd> makeEventFd();
void signalEventFd(int fd);

// A directory only the daemon can read (mkdtemp, 0700) and its contents,
// removed when this goes out of scope.
class ScratchDir {
 public:
  // Under `parent` (empty: /tmp), named berth-<tag>-XXXXXX.
  static Result<ScratchDir> create(const std::string& parent, const std::string& tag);
  ScratchDir() = default;
  ScratchDir(ScratchDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  ScratchDir& operator=(ScratchDir&&) = delete;
  ~ScratchDir();
  const std::string& path() const { return path_; }
  std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

}  // namespace berth::sys
