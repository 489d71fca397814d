// The exit monitor (agent/engine/exit_monitor.h): pidfd watches fire once
// when the process exits, timers fire in order and can be cancelled, a
// replaced watch never fires, and the task runner waits for its tasks.
#include "agent/engine/exit_monitor.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "agent/engine/container_resources.h"
#include "runtime/sys/syscall.h"

namespace berth::agent::engine {
namespace {

using namespace std::chrono_literals;

bool waitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout = 5s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// A child that sleeps until killed; reaped by the destructor.
struct Child {
  pid_t pid = -1;
  Child() {
    pid = ::fork();
    if (pid == 0) {
      ::pause();
      ::_exit(0);
    }
  }
  ~Child() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
  sys::UniqueFd pidfd() const { return sys::UniqueFd(sys::pidfdOpen(pid)); }
};

TEST(ExitMonitor, WatchFiresOnceWhenTheProcessExits) {
  auto monitor = ExitMonitor::start();
  ASSERT_TRUE(monitor) << monitor.error().str();
  Child child;
  ASSERT_GT(child.pid, 0);
  std::atomic<int> fired{0};
  ASSERT_TRUE((*monitor)->watch("c1", child.pidfd(), [&] { ++fired; }));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(fired.load(), 0);
  ::kill(child.pid, SIGKILL);
  EXPECT_TRUE(waitFor([&] { return fired.load() == 1; }));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(fired.load(), 1);
}

double processCpuMs() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

TEST(ExitMonitor, ADupOfTheWatchedPidfdDoesNotMakeTheMonitorSpin) {
  auto monitor = ExitMonitor::start();
  ASSERT_TRUE(monitor);
  Child child, other;
  sys::UniqueFd pidfd = child.pidfd();
  // A log stream keeps its own dup of the shim's pidfd after the exit.
  sys::UniqueFd dup(::dup(pidfd.get()));
  std::atomic<int> fired{0};
  ASSERT_TRUE((*monitor)->watch("c", std::move(pidfd), [&] { ++fired; }));
  sys::UniqueFd otherFd = other.pidfd();
  sys::UniqueFd otherDup(::dup(otherFd.get()));
  ASSERT_TRUE((*monitor)->watch("o", std::move(otherFd), [&] { ++fired; }));
  (*monitor)->unwatch("o");
  ::kill(child.pid, SIGKILL);
  ::kill(other.pid, SIGKILL);
  ASSERT_TRUE(waitFor([&] { return fired.load() == 1; }));
  double before = processCpuMs();
  std::this_thread::sleep_for(300ms);
  EXPECT_LT(processCpuMs() - before, 100.0) << "the monitor thread is busy-looping";
  EXPECT_EQ(fired.load(), 1);
}

TEST(ExitMonitor, ReplacedAndUnwatchedWatchesNeverFire) {
  auto monitor = ExitMonitor::start();
  ASSERT_TRUE(monitor);
  Child a, b;
  std::atomic<int> first{0}, second{0}, third{0};
  ASSERT_TRUE((*monitor)->watch("k", a.pidfd(), [&] { ++first; }));
  ASSERT_TRUE((*monitor)->watch("k", b.pidfd(), [&] { ++second; }));
  Child c;
  ASSERT_TRUE((*monitor)->watch("other", c.pidfd(), [&] { ++third; }));
  (*monitor)->unwatch("other");
  ::kill(a.pid, SIGKILL);
  ::kill(c.pid, SIGKILL);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(first.load(), 0);
  EXPECT_EQ(third.load(), 0);
  ::kill(b.pid, SIGKILL);
  EXPECT_TRUE(waitFor([&] { return second.load() == 1; }));
}

TEST(ExitMonitor, TimersFireInOrderAndCanBeCancelled) {
  auto monitor = ExitMonitor::start();
  ASSERT_TRUE(monitor);
  std::mutex mu;
  std::vector<std::string> order;
  auto now = ExitMonitor::Clock::now();
  auto record = [&](const char* name) {
    return [&, name] {
      std::lock_guard lock(mu);
      order.push_back(name);
    };
  };
  (*monitor)->schedule("late", now + 150ms, record("late"));
  (*monitor)->schedule("early", now + 30ms, record("early"));
  (*monitor)->schedule("never", now + 60ms, record("never"));
  EXPECT_TRUE((*monitor)->scheduled("never"));
  EXPECT_TRUE((*monitor)->cancel("never"));
  EXPECT_FALSE((*monitor)->cancel("never"));
  EXPECT_TRUE(waitFor([&] {
    std::lock_guard lock(mu);
    return order.size() == 2;
  }));
  std::this_thread::sleep_for(50ms);
  std::lock_guard lock(mu);
  EXPECT_EQ(order, (std::vector<std::string>{"early", "late"}));
  EXPECT_GE(ExitMonitor::Clock::now() - now, 150ms);
}

TEST(ExitMonitor, StopDropsPendingTimers) {
  auto monitor = ExitMonitor::start();
  ASSERT_TRUE(monitor);
  std::atomic<bool> fired{false};
  (*monitor)->schedule("t", ExitMonitor::Clock::now() + 50ms, [&] { fired = true; });
  (*monitor)->stop();
  std::this_thread::sleep_for(100ms);
  EXPECT_FALSE(fired.load());
}

TEST(TaskRunner, DrainWaitsForRunningTasksAndRefusesNewOnes) {
  TaskRunner tasks;
  std::atomic<int> done{0};
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(tasks.post([&] {
      std::this_thread::sleep_for(30ms);
      ++done;
    }));
  }
  tasks.drain();
  EXPECT_EQ(done.load(), 5);
  EXPECT_FALSE(tasks.post([&] { ++done; }));
}

TEST(ContainerResources, WaitForExitAndShimCommandLine) {
  Child child;
  sys::UniqueFd fd = child.pidfd();
  ASSERT_TRUE(fd);
  EXPECT_FALSE(waitForExit(fd.get(), 30ms));
  ::kill(child.pid, SIGKILL);
  EXPECT_TRUE(waitForExit(fd.get(), 5s));

  std::string id(64, 'a');
  auto argv = [](std::initializer_list<std::string> parts) {
    std::string s;
    for (const auto& p : parts) s += p + '\0';
    return s;
  };
  EXPECT_TRUE(isShimCommandLine(argv({"/usr/bin/berth-shim", "--id", id, "--dir", "/x"}), id));
  EXPECT_TRUE(isShimCommandLine(argv({"berth-shim", "--id=" + id}), id));
  EXPECT_FALSE(isShimCommandLine(argv({"/usr/bin/berth-shim", "--id", "other"}), id));
  EXPECT_FALSE(isShimCommandLine(argv({"/bin/sleep", "--id", id}), id));
  EXPECT_FALSE(isShimCommandLine("", id));
  // Our own pid is not a shim.
  EXPECT_FALSE(openShimPid(::getpid(), id));
}

}  // namespace
}  // namespace berth::agent::engine
