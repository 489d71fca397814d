// The health checks' thread; see health_monitor.h.
#include "agent/engine/health_monitor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "runtime/sys/fs.h"
#include "runtime/sys/child_process.h"
#include "runtime/sys/syscall.h"

namespace berth::agent::engine {
namespace {

// The runtime child's fds: 0 /dev/null, 1 and 2 the output pipe, 3 the pid pipe.
constexpr const char* kPidPipePath = "/proc/self/fd/3";

void setNonBlocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

std::string formatMs(uint64_t ms) {
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

}  // namespace

struct HealthMonitor::Probe {
  // The runtime, our child: killed and reaped when the probe goes, after
  // the destructor below has killed the check in the container.
  sys::ChildProcess runtime;
  sys::UniqueFd output;   // stdout and stderr of the check; closed at EOF
  sys::UniqueFd pidPipe;  // the runtime's --pid-file; closed at EOF
  std::string pidText;
  sys::UniqueFd target;  // the check's process in the container, once known
  std::string out;
  Clock::time_point deadline;
  bool timedOut = false;
  int status = 0;  // waitpid's, once reaped

  ~Probe() { kill(); }

  // The process in the container first: killing only the runtime would
  // leave it running there, orphaned.
  void kill() const {
    if (target) sys::pidfdSendSignal(target.get(), SIGKILL);
    runtime.signal(SIGKILL);
  }

  void readOutput() {
    char buf[4096];
    while (output) {
      ssize_t n = ::read(output.get(), buf, sizeof buf);
      if (n > 0) {
        // Read on past the limit, or a chatty check would block on a full pipe.
        size_t room = kMaxHealthOutput - std::min(out.size(), kMaxHealthOutput);
        out.append(buf, std::min(room, static_cast<size_t>(n)));
      } else if (n == 0 || errno != EINTR) {
        if (n == 0) output.reset();
        return;
      }
    }
  }

  // The runtime writes the pid in one write of a few bytes (atomic on a pipe).
  void readPid() {
    char buf[32];
    while (pidPipe) {
      ssize_t n = ::read(pidPipe.get(), buf, sizeof buf);
      if (n > 0) {
        pidText.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n == 0) pidPipe.reset();
      break;
    }
    if (!target && !pidText.empty()) {
      target.reset(sys::pidfdOpen(static_cast<pid_t>(std::strtol(pidText.c_str(), nullptr, 10))));
    }
  }

  // True once the runtime exited and was reaped.
  bool tryReap() {
    if (!runtime.running()) return true;
    auto got = runtime.tryWait();
    if (got && !*got) return false;
    status = got ? **got : W_EXITCODE(127, 0);  // reaped by someone else: unknown
    return true;
  }
};

namespace {

sys::Result<std::unique_ptr<HealthMonitor::Probe>> spawnProbe(const std::vector<std::string>& argv) {
  auto [outRead, outWrite] = BERTH_TRY(sys::makePipe());
  auto [pidRead, pidWrite] = BERTH_TRY(sys::makePipe());
  sys::ChildStdio stdio;  // stdin stays /dev/null
  stdio.out = outWrite.get();
  stdio.err = outWrite.get();
  stdio.extra = {pidWrite.get()};
  auto probe = std::make_unique<HealthMonitor::Probe>();
  // Its parent death signal binds it to this, the monitor thread: a check
  // never outlives the daemon's monitor.
  probe->runtime = BERTH_TRY(sys::ChildProcess::spawn(argv, stdio));
  setNonBlocking(outRead.get());
  setNonBlocking(pidRead.get());
  probe->output = std::move(outRead);
  probe->pidPipe = std::move(pidRead);
  return probe;
}

}  // namespace

sys::Result<std::unique_ptr<HealthMonitor>> HealthMonitor::start(Options options) {
  sys::UniqueFd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake) return sys::Error::fromErrno("eventfd for the health monitor");
  std::unique_ptr<HealthMonitor> monitor(new HealthMonitor(std::move(options), std::move(wake)));
  monitor->thread_ = std::thread([m = monitor.get()] { m->run(); });
  return monitor;
}

HealthMonitor::HealthMonitor(Options options, sys::UniqueFd wake)
    : options_(std::move(options)), wake_(std::move(wake)) {}

HealthMonitor::~HealthMonitor() { stop(); }

void HealthMonitor::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mu_);
  tracked_.clear();  // each running probe is killed and reaped
  orphans_.clear();
}

void HealthMonitor::wake() {
  uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof one);
}

void HealthMonitor::track(const std::string& id, const pb::HealthCheck& check,
                          Clock::time_point startedAt) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    if (auto it = tracked_.find(id); it != tracked_.end() && it->second.probe) {
      it->second.probe->kill();
      orphans_.push_back(std::move(it->second.probe));
    }
    Clock::time_point regular = startedAt + std::chrono::milliseconds(check.interval_ms());
    Tracked t{check, HealthState(check.retries()), startedAt, regular, regular, nextLife_++,
              false, false, nullptr};
    t.nextProbe = std::min(regular, startedAt + kStartingProbeInterval);
    tracked_.insert_or_assign(id, std::move(t));
  }
  wake();
}

void HealthMonitor::untrack(const std::string& id) {
  {
    std::lock_guard lock(mu_);
    auto it = tracked_.find(id);
    if (it == tracked_.end()) return;
    if (it->second.probe) {
      it->second.probe->kill();
      orphans_.push_back(std::move(it->second.probe));
    }
    tracked_.erase(it);
  }
  wake();
}

std::optional<HealthReport> HealthMonitor::report(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = tracked_.find(id);
  if (it == tracked_.end()) return std::nullopt;
  const HealthState& s = it->second.state;
  return HealthReport{s.status(), s.failingStreak(), s.lastOutput()};
}

void HealthMonitor::run() {
  std::vector<pollfd> fds;
  while (true) {
    startDueProbes();
    int timeoutMs;
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      fds.assign(1, pollfd{wake_.get(), POLLIN, 0});
      // The fds stay valid while we poll unlocked: only this thread
      // destroys a probe (untrack and track move it to orphans_).
      for (const auto& [id, t] : tracked_) {
        if (!t.probe) continue;
        for (int fd : {t.probe->output.get(), t.probe->pidPipe.get(), t.probe->runtime.pidfd()}) {
          if (fd >= 0) fds.push_back(pollfd{fd, POLLIN, 0});
        }
      }
      for (const auto& probe : orphans_) fds.push_back(pollfd{probe->runtime.pidfd(), POLLIN, 0});
      timeoutMs = pollTimeoutMs(Clock::now());
    }
    if (::poll(fds.data(), fds.size(), timeoutMs) < 0 && errno != EINTR) {
      std::fprintf(stderr, "berthd: health monitor: poll: %s\n", std::strerror(errno));
      ::usleep(100 * 1000);
    }
    uint64_t count;
    (void)!::read(wake_.get(), &count, sizeof count);
    std::lock_guard lock(mu_);
    if (stopping_) return;
    serviceProbes(Clock::now());
    reapOrphans();
  }
}

int HealthMonitor::pollTimeoutMs(Clock::time_point now) const {
  std::optional<Clock::time_point> next;
  for (const auto& [id, t] : tracked_) {
    Clock::time_point when;
    if (t.probe) {
      if (t.probe->timedOut) continue;  // waits for its exit, which wakes the poll
      when = t.probe->deadline;
    } else if (!t.spawning) {
      when = t.nextProbe;
    } else {
      continue;
    }
    if (!next || when < *next) next = when;
  }
  if (!next) return -1;
  if (*next <= now) return 0;
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(*next - now).count();
  return static_cast<int>(std::min<int64_t>(ms, 60 * 60 * 1000));
}

void HealthMonitor::startDueProbes() {
  struct Due {
    std::string id;
    uint64_t life;
    std::vector<std::string> argv;
  };
  std::vector<Due> due;
  {
    std::lock_guard lock(mu_);
    Clock::time_point now = Clock::now();
    for (auto& [id, t] : tracked_) {
      if (t.probe || t.spawning || now < t.nextProbe) continue;
      t.spawning = true;
      t.early = now < t.nextRegular;
      std::vector<std::string> argv = {options_.runtimeBinary, "--root", options_.stateRoot,
                                       "exec", "--pid-file", kPidPipePath, id};
      for (std::string& arg : healthProbeArgs(t.check)) argv.push_back(std::move(arg));
      due.push_back(Due{id, t.life, std::move(argv)});
    }
  }
  // Outside the mutex: a clone of a large daemon takes a moment.
  for (Due& d : due) {
    auto probe = spawnProbe(d.argv);
    std::lock_guard lock(mu_);
    Clock::time_point now = Clock::now();
    auto it = tracked_.find(d.id);
    if (it == tracked_.end() || it->second.life != d.life) {
      if (probe) {
        (*probe)->kill();
        orphans_.push_back(std::move(*probe));
      }
      continue;
    }
    Tracked& t = it->second;
    t.spawning = false;
    if (!probe) {
      recordResult(t, ProbeResult{false, probe.error().str()}, now);
      continue;
    }
    (*probe)->deadline = now + std::chrono::milliseconds(t.check.timeout_ms());
    t.probe = std::move(*probe);
  }
}

void HealthMonitor::serviceProbes(Clock::time_point now) {
  for (auto& [id, t] : tracked_) {
    if (!t.probe) continue;
    Probe& p = *t.probe;
    p.readOutput();
    p.readPid();
    if (p.tryReap()) {
      p.readOutput();  // what it wrote just before it exited
      finishProbe(t, now);
    } else if (!p.timedOut && now >= p.deadline) {
      p.readPid();
      p.kill();
      p.timedOut = true;
    }
  }
}

void HealthMonitor::finishProbe(Tracked& t, Clock::time_point now) {
  Probe& p = *t.probe;
  ProbeResult result;
  if (p.timedOut) {
    result.output = "Health check exceeded timeout (" + formatMs(t.check.timeout_ms()) + ")";
  } else {
    result.passed = WIFEXITED(p.status) && WEXITSTATUS(p.status) == 0;
    result.output = std::move(p.out);
  }
  recordResult(t, std::move(result), now);
  t.probe.reset();
}

void HealthMonitor::recordResult(Tracked& t, ProbeResult result, Clock::time_point now) {
  bool early = t.early;
  t.early = false;
  if (!early || result.passed) {
    bool inStart = now < t.startedAt + std::chrono::milliseconds(t.check.start_period_ms());
    t.state.record(std::move(result), inStart);
  }
  if (!early || t.state.status() != HealthStatus::kStarting) {
    t.nextRegular = now + std::chrono::milliseconds(t.check.interval_ms());
  }
  t.nextProbe = t.nextRegular;
  if (t.state.status() == HealthStatus::kStarting) {
    t.nextProbe = std::min(t.nextRegular, now + kStartingProbeInterval);
  }
}

void HealthMonitor::reapOrphans() {
  std::erase_if(orphans_, [](const std::unique_ptr<Probe>& p) { return p->tryReap(); });
}

}  // namespace berth::agent::engine
