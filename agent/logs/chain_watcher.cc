// ChainWatcher: the follower's thread that opens rotated files before they
// are deleted (see chain_watcher.h).
#include "agent/logs/chain_watcher.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace berth::agent::logs {

namespace {

// Scans that a new live file interrupted are retried this often; a writer
// that rotates faster than a few opens take cannot keep them all from
// succeeding, and the last try is used anyway.
constexpr int kScanAttempts = 20;
// Past the files sought, a scan looks at this many more names: a rename in
// flight leaves a hole of one name.
constexpr unsigned kScanSlack = 2;
// As files.cc: higher numbers are not files of a chain.
constexpr uint64_t kMaxChainIndex = 100000;

void signalEventFd(int fd) {
  uint64_t one = 1;
  // Cannot fail short of counter overflow; the reader resets it.
  [[maybe_unused]] ssize_t n = ::write(fd, &one, sizeof one);
}

}  // namespace

ChainWatcher::ChainWatcher(int dirfd, std::string_view base, size_t maxHeldFiles)
    : dirfd_(dirfd),
      base_(base),
      liveName_(logFileName(base, 0)),
      maxHeld_(std::max<size_t>(maxHeldFiles, 1)) {}

sys::Result<std::unique_ptr<ChainWatcher>> ChainWatcher::start(const std::string& dir, int dirfd,
                                                               std::string_view base,
                                                               size_t maxHeldFiles,
                                                               std::vector<ChainFile>* initial) {
  std::unique_ptr<ChainWatcher> w(new ChainWatcher(dirfd, base, maxHeldFiles));
  w->inotify_.reset(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!w->inotify_) return sys::Error::fromErrno("inotify_init1");
  if (::inotify_add_watch(w->inotify_.get(), dir.c_str(), IN_CREATE | IN_MOVED_TO) < 0) {
    return sys::Error::fromErrno("watch log directory " + dir + " for rotations");
  }
  w->stop_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  w->wake_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!w->stop_ || !w->wake_) return sys::Error::fromErrno("eventfd for the log watcher");
  BERTH_TRY(w->initialScan(initial));
  ChainWatcher* self = w.get();
  w->thread_ = std::thread([self] { self->run(); });
  return w;
}

ChainWatcher::~ChainWatcher() {
  if (thread_.joinable()) {
    signalEventFd(stop_.get());
    thread_.join();
  }
}

// The chain as it is, taken again if a live file was created meanwhile, so
// that its order is right and the count of creations starts after it.
sys::Result<void> ChainWatcher::initialScan(std::vector<ChainFile>* initial) {
  std::lock_guard lock(mutex_);
  for (int attempt = 0;; ++attempt) {
    (void)BERTH_TRY(readEvents());
    created_ = 0;
    *initial = BERTH_TRY(openChain(dirfd_, base_));
    (void)BERTH_TRY(readEvents());
    if (created_ == 0 || attempt + 1 >= kScanAttempts) break;
  }
  created_ = known_ = 0;
  overflow_ = false;
  if (!initial->empty() && initial->back().index == 0) remember(initial->back());
  return sys::ok();
}

void ChainWatcher::run() {
  struct pollfd fds[2] = {{inotify_.get(), POLLIN, 0}, {stop_.get(), POLLIN, 0}};
  for (;;) {
    int n = ::poll(fds, 2, -1);
    if (n < 0 && errno == EINTR) continue;
    std::lock_guard lock(mutex_);
    if (n < 0) error_ = sys::Error::fromErrno("wait for log rotations");
    if (n < 0 || fds[1].revents != 0) break;
    auto changed = update();
    if (!changed) {
      error_ = std::move(changed).error();
      break;
    }
    if (*changed) signalEventFd(wake_.get());
  }
  signalEventFd(wake_.get());  // a reader waiting for files learns of the error
}

// Counts the live files created since the last call; true if any.
sys::Result<bool> ChainWatcher::readEvents() {
  alignas(struct inotify_event) char buf[16 * 1024];
  uint64_t before = created_;
  for (;;) {
    ssize_t n = ::read(inotify_.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    if (n < 0) return sys::Error::fromErrno("read log rotation events");
    for (ssize_t off = 0; off < n;) {
      const auto* ev = reinterpret_cast<const struct inotify_event*>(buf + off);
      off += static_cast<ssize_t>(sizeof(struct inotify_event) + ev->len);
      if ((ev->mask & IN_Q_OVERFLOW) != 0) overflow_ = true;
      if (ev->len > 0 && (ev->mask & (IN_CREATE | IN_MOVED_TO)) != 0 &&
          std::strcmp(ev->name, liveName_.c_str()) == 0) {
        ++created_;
      }
    }
  }
  return created_ != before;
}

// Opens the `count` newest distinct files, newest first (after an overflow:
// down to the newest file already known, *metKnown). Names only move to higher
// numbers while a rotation is in flight, so walking up from .log meets each
// file in order, maybe twice (dropped by inode), never out of order.
sys::Result<std::vector<ChainFile>> ChainWatcher::scanNewest(uint64_t count, bool* metKnown) {
  std::vector<ChainFile> found;
  *metKnown = false;
  unsigned misses = 0;
  for (uint64_t index = 0; found.size() < count && index <= kMaxChainIndex; ++index) {
    std::string name = logFileName(base_, static_cast<unsigned>(index));
    sys::UniqueFd fd(::openat(dirfd_, name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd) {
      if (errno != ENOENT) return sys::Error::fromErrno("open log file " + name);
      if (++misses > kScanSlack) break;  // past the end of the chain
      continue;
    }
    misses = 0;
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return sys::Error::fromErrno("stat log file " + name);
    // Only after an overflow: otherwise the count says where to stop, and an
    // inode number of a file long deleted may have been reused.
    if (overflow_ && haveNewest_ && st.st_ino == newestIno_ && st.st_dev == newestDev_) {
      *metKnown = true;
      break;
    }
    bool seen = std::any_of(found.begin(), found.end(),
                            [&](const ChainFile& f) { return f.sameFile(st); });
    if (!seen) {
      found.push_back(ChainFile{std::move(fd), st.st_ino, st.st_dev, static_cast<unsigned>(index)});
    }
  }
  return found;
}

// Opens the files created since the last update and queues them in order.
sys::Result<bool> ChainWatcher::update() {
  (void)BERTH_TRY(readEvents());
  if (created_ == known_ && !overflow_) return false;
  for (int attempt = 0;; ++attempt) {
    uint64_t target = created_;
    bool overflowed = overflow_;
    // After an overflow the count is unknown: look as far as the chain goes.
    uint64_t wanted = overflowed ? 100000 : target - known_;
    bool metKnown = false;
    std::vector<ChainFile> found = BERTH_TRY(scanNewest(wanted, &metKnown));
    (void)BERTH_TRY(readEvents());
    if (created_ != target && attempt + 1 < kScanAttempts) continue;
    uint64_t lost = 0;
    if (overflowed) {
      // Without the count, a gap shows as the newest known file being gone.
      lost = metKnown || !haveNewest_ ? 0 : 1;
      overflow_ = false;
      created_ = known_ + found.size() + lost;
      target = created_;
    } else if (!metKnown) {
      lost = target - known_ - std::min<uint64_t>(found.size(), target - known_);
    }
    commit(std::move(found), lost);
    known_ = target;
    return true;
  }
}

void ChainWatcher::remember(const ChainFile& newest) {
  haveNewest_ = true;
  newestIno_ = newest.ino;
  newestDev_ = newest.dev;
}

void ChainWatcher::commit(std::vector<ChainFile> newestFirst, uint64_t lost) {
  if (!newestFirst.empty()) remember(newestFirst.front());
  pendingLost_ += lost;
  for (auto it = newestFirst.rbegin(); it != newestFirst.rend(); ++it) {
    queue_.push_back(Next{std::move(*it), std::exchange(pendingLost_, 0)});
  }
  // A stalled reader must not pin every rotated file: give up the oldest.
  while (queue_.size() > maxHeld_) {
    pendingLost_ = queue_.front().lostBefore + 1;
    queue_.pop_front();
    queue_.front().lostBefore += std::exchange(pendingLost_, 0);
  }
}

sys::Result<std::optional<ChainWatcher::Next>> ChainWatcher::takeNext() {
  std::lock_guard lock(mutex_);
  if (error_) return sys::Error(*error_).context("follow log rotations");
  if (queue_.empty()) {
    if (pendingLost_ == 0) return std::optional<Next>();
    // Lost files and nothing after them yet: say so now, not never.
    Next gap;
    gap.lostBefore = std::exchange(pendingLost_, 0);
    return std::optional<Next>(std::move(gap));
  }
  Next next = std::move(queue_.front());
  queue_.pop_front();
  return std::optional<Next>(std::move(next));
}

sys::Result<void> ChainWatcher::sync() {
  std::lock_guard lock(mutex_);
  if (error_) return sys::Error(*error_).context("follow log rotations");
  (void)BERTH_TRY(update());
  return sys::ok();
}

void ChainWatcher::clearWake() {
  uint64_t count = 0;
  [[maybe_unused]] ssize_t n = ::read(wake_.get(), &count, sizeof count);
}

}  // namespace berth::agent::logs
