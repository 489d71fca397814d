// The shim watcher and restart timers; see exit_monitor.h.
#include "agent/engine/exit_monitor.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

namespace berth::agent::engine {
namespace {

// epoll data of the wake eventfd; watch tokens start at 1.
constexpr uint64_t kWakeToken = 0;
constexpr int kMaxEvents = 32;

}  // namespace

sys::Result<std::unique_ptr<ExitMonitor>> ExitMonitor::start() {
  sys::UniqueFd epoll(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll) return sys::Error::fromErrno("epoll_create1 for the exit monitor");
  sys::UniqueFd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake) return sys::Error::fromErrno("eventfd for the exit monitor");
  struct epoll_event ev {};
  ev.events = EPOLLIN;
  ev.data.u64 = kWakeToken;
  if (::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, wake.get(), &ev) < 0) {
    return sys::Error::fromErrno("add the exit monitor's eventfd to epoll");
  }
  std::unique_ptr<ExitMonitor> monitor(new ExitMonitor(std::move(epoll), std::move(wake)));
  monitor->thread_ = std::thread([m = monitor.get()] { m->run(); });
  return monitor;
}

ExitMonitor::ExitMonitor(sys::UniqueFd epoll, sys::UniqueFd wake)
    : epoll_(std::move(epoll)), wake_(std::move(wake)) {}

ExitMonitor::~ExitMonitor() {
  stop();
}

void ExitMonitor::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mu_);
  watches_.clear();
  tokens_.clear();
  timers_.clear();
}

void ExitMonitor::wake() {
  uint64_t one = 1;
  // EAGAIN (counter saturated) still leaves the eventfd readable.
  (void)!::write(wake_.get(), &one, sizeof one);
}

void ExitMonitor::dropWatchLocked(std::map<uint64_t, Watch>::iterator it) {
  // Explicitly: closing our fd is not enough when a dup of the pidfd lives
  // on elsewhere (the engine's, a log stream's): epoll tracks the open file,
  // and would keep reporting a watch we no longer have.
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, it->second.pidfd.get(), nullptr);
  tokens_.erase(it->second.key);
  watches_.erase(it);
}

sys::Result<void> ExitMonitor::watch(const std::string& key, sys::UniqueFd pidfd, Callback onExit) {
  std::lock_guard lock(mu_);
  if (auto old = tokens_.find(key); old != tokens_.end())
    dropWatchLocked(watches_.find(old->second));
  uint64_t token = nextToken_++;
  struct epoll_event ev {};
  // One-shot: a process exits once.
  ev.events = EPOLLIN | EPOLLONESHOT;
  ev.data.u64 = token;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, pidfd.get(), &ev) < 0) {
    return sys::Error::fromErrno("watch the shim of " + key);
  }
  watches_[token] = Watch{key, std::move(pidfd), std::move(onExit)};
  tokens_[key] = token;
  return sys::ok();
}

void ExitMonitor::unwatch(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = tokens_.find(key);
  if (it != tokens_.end()) dropWatchLocked(watches_.find(it->second));
}

void ExitMonitor::schedule(const std::string& key, Clock::time_point when, Callback fire) {
  {
    std::lock_guard lock(mu_);
    timers_[key] = Timer{when, std::move(fire)};
  }
  wake();
}

bool ExitMonitor::cancel(const std::string& key) {
  std::lock_guard lock(mu_);
  return timers_.erase(key) > 0;
}

bool ExitMonitor::scheduled(const std::string& key) const {
  std::lock_guard lock(mu_);
  return timers_.count(key) > 0;
}

int ExitMonitor::timeoutMs() {
  std::lock_guard lock(mu_);
  if (timers_.empty()) return -1;
  auto earliest =
      std::min_element(timers_.begin(), timers_.end(), [](const auto& a, const auto& b) {
        return a.second.when < b.second.when;
      })->second.when;
  auto left = std::chrono::ceil<std::chrono::milliseconds>(earliest - Clock::now()).count();
  return static_cast<int>(std::clamp<int64_t>(left, 0, 60000));
}

void ExitMonitor::fireDueTimers() {
  std::vector<Callback> due;
  {
    std::lock_guard lock(mu_);
    auto now = Clock::now();
    for (auto it = timers_.begin(); it != timers_.end();) {
      if (it->second.when <= now) {
        due.push_back(std::move(it->second.fire));
        it = timers_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& fire : due) fire();
}

void ExitMonitor::handleReadable(uint64_t token) {
  Callback onExit;
  {
    std::lock_guard lock(mu_);
    auto it = watches_.find(token);
    // Unwatched (or replaced) since epoll_wait returned.
    if (it == watches_.end()) return;
    onExit = std::move(it->second.onExit);
    dropWatchLocked(it);
  }
  onExit();
}

void ExitMonitor::run() {
  struct epoll_event events[kMaxEvents];
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
    }
    int n = ::epoll_wait(epoll_.get(), events, kMaxEvents, timeoutMs());
    if (n < 0 && errno != EINTR) return;
    for (int i = 0; i < n; ++i) {
      if (events[i].data.u64 == kWakeToken) {
        uint64_t count;
        (void)!::read(wake_.get(), &count, sizeof count);
        continue;
      }
      handleReadable(events[i].data.u64);
    }
    fireDueTimers();
  }
}

bool TaskRunner::post(std::function<void()> task) {
  std::lock_guard lock(mu_);
  if (draining_) return false;
  reapFinished();
  uint64_t id = nextId_++;
  threads_[id] = std::thread([this, id, task = std::move(task)] {
    task();
    std::lock_guard done(mu_);
    finished_.push_back(id);
    idle_.notify_all();
  });
  return true;
}

void TaskRunner::reapFinished() {
  for (uint64_t id : finished_) {
    auto it = threads_.find(id);
    if (it == threads_.end()) continue;
    it->second.join();
    threads_.erase(it);
  }
  finished_.clear();
}

void TaskRunner::drain() {
  std::unique_lock lock(mu_);
  draining_ = true;
  idle_.wait(lock, [&] { return finished_.size() == threads_.size(); });
  reapFinished();
}

}  // namespace berth::agent::engine
