// One thread that watches every container's shim and runs the restart
// timers: an epoll set of shim pidfds (pidfd_open works for processes that
// are not our children: the shims are detached, and after a daemon restart
// they never were ours) plus deadlines, and an eventfd to wake it when the
// set changes.
//
// A pidfd becomes readable once its process exited: for a shim that means
// the container's init exited and its logs and exit.json are complete.
// Callbacks run on the monitor thread, with no lock of the monitor held;
// they must be quick (the engine hands the real work to a worker).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "runtime/sys/fd.h"
#include "runtime/sys/result.h"

namespace berth::agent::engine {

class ExitMonitor {
 public:
  using Callback = std::function<void()>;
  using Clock = std::chrono::steady_clock;

  static sys::Result<std::unique_ptr<ExitMonitor>> start();
  ~ExitMonitor();
  ExitMonitor(const ExitMonitor&) = delete;
  ExitMonitor& operator=(const ExitMonitor&) = delete;

  // Stops and joins the thread; watches and timers are dropped uncalled.
  void stop();

  // Calls `onExit` once when `pidfd` becomes readable. A second watch with
  // the same key replaces the first (its callback is never called).
  sys::Result<void> watch(const std::string& key, sys::UniqueFd pidfd, Callback onExit);
  void unwatch(const std::string& key);

  // Calls `fire` once at `when`; replaces an earlier timer of the same key.
  void schedule(const std::string& key, Clock::time_point when, Callback fire);
  // True when a timer was pending (and is now cancelled).
  bool cancel(const std::string& key);
  bool scheduled(const std::string& key) const;

 private:
  struct Watch {
    std::string key;
    sys::UniqueFd pidfd;
    Callback onExit;
  };
  struct Timer {
    Clock::time_point when;
    Callback fire;
  };

  ExitMonitor(sys::UniqueFd epoll, sys::UniqueFd wake);
  void run();
  void wake();
  int timeoutMs();
  void fireDueTimers();
  void handleReadable(uint64_t token);
  void dropWatchLocked(std::map<uint64_t, Watch>::iterator it);

  sys::UniqueFd epoll_;
  sys::UniqueFd wake_;
  mutable std::mutex mu_;
  bool stopping_ = false;
  uint64_t nextToken_ = 1;
  std::map<uint64_t, Watch> watches_;       // token -> watch
  std::map<std::string, uint64_t> tokens_;  // key -> token
  std::map<std::string, Timer> timers_;
  std::thread thread_;
};

// Runs work off the monitor thread, one thread per task: container exits
// and restarts are rare, and a task may wait a long time for a container's
// lock (a `stop` with a long timeout) without holding up any other.
class TaskRunner {
 public:
  TaskRunner() = default;
  ~TaskRunner() { drain(); }
  TaskRunner(const TaskRunner&) = delete;
  TaskRunner& operator=(const TaskRunner&) = delete;

  // False once draining started: the task is dropped.
  bool post(std::function<void()> task);
  // Refuses new tasks and waits for the running ones.
  void drain();

 private:
  void reapFinished();

  std::mutex mu_;
  std::condition_variable idle_;
  bool draining_ = false;
  uint64_t nextId_ = 0;
  std::map<uint64_t, std::thread> threads_;
  std::vector<uint64_t> finished_;
};

}  // namespace berth::agent::engine
