// Freezing and thawing cgroups: see freezer.h.
#include "runtime/cgroup/freezer.h"

#include <fcntl.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>

#include "runtime/sys/fs.h"

namespace berth::runtime::cgroup::freezer {
namespace {

int64_t nowMs() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sleepMs(int ms) {
  timespec ts{ms / 1000, (ms % 1000) * 1000000L};
  ::nanosleep(&ts, nullptr);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.remove_suffix(1);
  return s;
}

// cgroup.events holds "populated N\nfrozen N\n".
bool eventsSayFrozen(std::string_view events) {
  auto at = events.find("frozen ");
  return at != std::string_view::npos && at + 7 < events.size() && events[at + 7] == '1';
}

}  // namespace

sys::Result<void> freezeV1(const std::string& dir) {
  auto state = sys::joinPath(dir, "freezer.state");
  int64_t deadline = nowMs() + kFreezeTimeoutMs;
  for (int round = 0;; ++round) {
    // A task in an uninterruptible sleep (vfork parent, NFS) can keep the
    // cgroup in FREEZING; asking again retries the tasks that were missed.
    BERTH_TRY_CTX(sys::writeFile(state, "FROZEN"), "freeze");
    auto now = BERTH_TRY_CTX(sys::readFile(state), "freeze");
    if (trim(now) == "FROZEN") return sys::ok();
    if (nowMs() > deadline) break;
    sleepMs(round < 10 ? 1 : 10);
  }
  (void)thawV1(dir);
  return sys::Error(EBUSY, "freeze " + dir + ": still FREEZING after " +
                               std::to_string(kFreezeTimeoutMs) + " ms");
}

sys::Result<void> thawV1(const std::string& dir) {
  return sys::writeFile(sys::joinPath(dir, "freezer.state"), "THAWED").context("thaw");
}

sys::Result<bool> frozenV1(const std::string& dir) {
  auto state = BERTH_TRY(sys::readFile(sys::joinPath(dir, "freezer.state")));
  return trim(state) == "FROZEN";
}

sys::Result<void> freezeV2(const std::string& dir) {
  BERTH_TRY_CTX(sys::writeFile(sys::joinPath(dir, "cgroup.freeze"), "1"), "freeze");
  auto eventsPath = sys::joinPath(dir, "cgroup.events");
  sys::UniqueFd events(::open(eventsPath.c_str(), O_RDONLY | O_CLOEXEC));
  if (!events) return sys::Error::fromErrno("freeze: open " + eventsPath);
  int64_t deadline = nowMs() + kFreezeTimeoutMs;
  for (;;) {
    char buf[256];
    ssize_t n = ::pread(events.get(), buf, sizeof(buf) - 1, 0);
    if (n < 0) return sys::Error::fromErrno("freeze: read " + eventsPath);
    if (eventsSayFrozen(std::string_view(buf, static_cast<size_t>(n)))) return sys::ok();
    int64_t left = deadline - nowMs();
    if (left <= 0) break;
    // The kernel signals a change of cgroup.events with POLLPRI.
    pollfd pfd{events.get(), POLLPRI, 0};
    (void)::poll(&pfd, 1, static_cast<int>(std::min<int64_t>(left, 10)));
  }
  (void)thawV2(dir);
  return sys::Error(
      EBUSY, "freeze " + dir + ": not frozen after " + std::to_string(kFreezeTimeoutMs) + " ms");
}

sys::Result<void> thawV2(const std::string& dir) {
  return sys::writeFile(sys::joinPath(dir, "cgroup.freeze"), "0").context("thaw");
}

sys::Result<bool> frozenV2(const std::string& dir) {
  auto events = BERTH_TRY(sys::readFile(sys::joinPath(dir, "cgroup.events")));
  return eventsSayFrozen(events);
}

}  // namespace berth::runtime::cgroup::freezer
