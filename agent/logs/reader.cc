// readLogs: the chain of log files read oldest to newest, with --tail,
// --since and --follow. Following waits on inotify for the log directory
// to see appends; a ChainWatcher hands it the files rotation creates.
#include "agent/logs/reader.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "agent/logs/chain_watcher.h"
#include "agent/logs/files.h"
#include "agent/logs/writer.h"
#include "agent/logs/scanner.h"
#include "runtime/sys/fd.h"

namespace berth::agent::logs {

namespace {

using Status = RecordScanner::Status;

constexpr int kDirCheckMs = 1000;

// Where reading starts: a record of a file of the chain, and how many bytes
// of its payload to skip (a tail may start inside a record).
struct Position {
  size_t file = 0;
  uint64_t offset = 0;
  size_t skip = 0;
};

size_t countNewlines(std::string_view s) {
  size_t n = 0;
  for (const char* p = s.data(); const void* hit = std::memchr(p, '\n', s.data() + s.size() - p);) {
    ++n;
    p = static_cast<const char*>(hit) + 1;
  }
  return n;
}

bool readable(int fd) {
  if (fd < 0) return false;
  struct pollfd p {
    fd, POLLIN, 0
  };
  return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR)) != 0;
}

// Per stream: whether the next record may begin with the rest of a line
// whose beginning this reader never saw.
enum class Orphan : uint8_t {
  kNo,        // the reader saw the line's beginning (or starts at a line)
  kCheck,     // unknown yet: the record's flags decide
  kDropping,  // inside such a fragment: dropped up to its '\n'
};

class Reader {
 public:
  Reader(const ReadOptions& options, const LineSink& sink) : options_(options), sink_(sink) {}

  sys::Result<void> run(const std::string& dir, std::string_view base);

 private:
  struct FileCount {
    uint64_t newlines = 0;
    bool any = false;  // a record at or after --since
    bool lastEndsMidLine = false;
  };

  sys::Result<Position> tailStart(uint64_t lines);
  sys::Result<Position> endOfLog();
  sys::Result<FileCount> countLines(size_t file);
  sys::Result<Position> afterNewline(size_t file, uint64_t target);
  sys::Result<Position> sinceStart();
  sys::Result<void> drainFile();
  sys::Result<void> drainAll();
  sys::Result<bool> nextFile();
  sys::Result<void> follow();
  sys::Result<void> waitForChange();
  void startFile(size_t index, uint64_t offset);
  std::string_view dropOrphan(const RecordHeader& h, std::string_view payload);
  void checkOrphans(bool oldFormatMayContinue);
  void reportGap(uint64_t files);

  const ReadOptions& options_;
  const LineSink& sink_;
  sys::UniqueFd dirfd_;
  sys::UniqueFd inotify_;
  std::string base_;
  std::vector<ChainFile> chain_;
  size_t current_ = 0;
  std::unique_ptr<RecordScanner> scanner_;
  std::unique_ptr<ChainWatcher> watcher_;
  size_t skip_ = 0;  // bytes to skip of the next record's payload
  Orphan orphan_[2] = {Orphan::kNo, Orphan::kNo};
  // Records of older writers (no continuation flags) checked for an orphan
  // are assumed to continue a line: their file came out of a rotation.
  bool oldFormatMayContinue_ = false;
  std::string gapText_;
  bool stopped_ = false;
  bool dirGone_ = false;
};

sys::Result<void> Reader::run(const std::string& dir, std::string_view base) {
  base_ = std::string(base);
  dirfd_.reset(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dirfd_) return sys::Error::fromErrno("open log directory " + dir);
  if (options_.follow) {
    // Watch before the first read: a change after it then always wakes us.
    inotify_.reset(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
    if (!inotify_) return sys::Error::fromErrno("inotify_init1");
    uint32_t mask =
        IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CLOSE_WRITE;
    if (::inotify_add_watch(inotify_.get(), dir.c_str(), mask) < 0) {
      return sys::Error::fromErrno("watch log directory " + dir);
    }
    watcher_ = BERTH_TRY(
        ChainWatcher::start(dir, dirfd_.get(), base_, options_.maxHeldFiles, &chain_));
  } else {
    chain_ = BERTH_TRY(openChain(dirfd_.get(), base_));
  }
  Position start;
  if (options_.tailLines) {
    start = BERTH_TRY(tailStart(*options_.tailLines));
  } else if (options_.sinceNs > 0) {
    start = BERTH_TRY(sinceStart());
  }
  if (!chain_.empty()) {
    startFile(start.file, start.offset);
    skip_ = start.skip;
    // Reading from the start of a file whose predecessor is not read: its
    // first record may be the rest of a line rotated away. For files of
    // older writers that is only assumed of the oldest file, when it was
    // rotated (a first file, .log, starts at a line).
    if (start.offset == 0 && start.skip == 0) {
      checkOrphans(start.file == 0 && chain_[0].index > 0);
    }
  }
  BERTH_TRY(drainAll());
  if (!options_.follow || stopped_) return sys::ok();
  return follow();
}

void Reader::startFile(size_t index, uint64_t offset) {
  current_ = index;
  scanner_ = std::make_unique<RecordScanner>(chain_[index].fd.get(), offset);
  skip_ = 0;
}

// The first file that may hold records at or after --since: a file is
// skipped when the next one already starts before that time.
sys::Result<Position> Reader::sinceStart() {
  Position start;
  for (size_t i = 0; i + 1 < chain_.size(); ++i) {
    RecordScanner next(chain_[i + 1].fd.get());
    RecordHeader h;
    std::string_view payload;
    if (BERTH_TRY(next.next(&h, &payload)) != Status::kRecord || h.timeNs >= options_.sinceNs)
      break;
    start.file = i + 1;
  }
  return start;
}

// Finds where the last `lines` lines begin: after the K-th '\n' from the end
// (K = lines + 1 when the log ends with '\n', whose line is counted by it),
// walking the files from the newest. Each file needed is read twice: once
// to count its newlines, once (only the one holding the start) to find it.
// Records before --since do not count.
sys::Result<Position> Reader::tailStart(uint64_t lines) {
  if (lines == 0) return endOfLog();
  bool endKnown = false;
  uint64_t remaining = 0;
  for (size_t f = chain_.size(); f-- > 0;) {
    FileCount c = BERTH_TRY(countLines(f));
    if (!c.any) continue;
    if (!endKnown) {
      endKnown = true;
      remaining = c.lastEndsMidLine ? lines : lines + 1;
    }
    if (c.newlines >= remaining) return afterNewline(f, c.newlines - remaining + 1);
    remaining -= c.newlines;
  }
  return Position{};
}

sys::Result<Position> Reader::endOfLog() {
  if (chain_.empty()) return Position{};
  RecordScanner s(chain_.back().fd.get());
  RecordHeader h;
  std::string_view payload;
  while (BERTH_TRY(s.next(&h, &payload)) == Status::kRecord) {
  }
  return Position{chain_.size() - 1, s.offset(), 0};
}

sys::Result<Reader::FileCount> Reader::countLines(size_t file) {
  RecordScanner s(chain_[file].fd.get());
  RecordHeader h;
  std::string_view payload;
  FileCount c;
  while (BERTH_TRY(s.next(&h, &payload)) == Status::kRecord) {
    if (h.timeNs < options_.sinceNs) continue;
    c.newlines += countNewlines(payload);
    c.any = true;
    c.lastEndsMidLine = h.endsMidLine();
  }
  return c;
}

// The position just after newline number `target` (1-based, counting
// records at or after --since) of a file.
sys::Result<Position> Reader::afterNewline(size_t file, uint64_t target) {
  RecordScanner s(chain_[file].fd.get());
  RecordHeader h;
  std::string_view payload;
  uint64_t seen = 0;
  for (;;) {
    uint64_t offset = s.offset();
    if (BERTH_TRY(s.next(&h, &payload)) != Status::kRecord) break;
    if (h.timeNs < options_.sinceNs) continue;
    uint64_t n = countNewlines(payload);
    if (seen + n < target) {
      seen += n;
      continue;
    }
    const char* p = payload.data();
    for (; seen < target; ++seen) {
      p = static_cast<const char*>(std::memchr(p, '\n', payload.data() + payload.size() - p)) + 1;
    }
    size_t skip = static_cast<size_t>(p - payload.data());
    if (skip == payload.size()) return Position{file, s.offset(), 0};
    return Position{file, offset, skip};
  }
  return Position{file, 0, 0};  // the file changed under us: its beginning
}

void Reader::checkOrphans(bool oldFormatMayContinue) {
  orphan_[0] = orphan_[1] = Orphan::kCheck;
  oldFormatMayContinue_ = oldFormatMayContinue;
}

// The part of a record's payload that is not the rest of a line whose
// beginning this reader never saw.
std::string_view Reader::dropOrphan(const RecordHeader& h, std::string_view payload) {
  Orphan& state = orphan_[h.stream == Stream::kStderr ? 1 : 0];
  if (state == Orphan::kNo) return payload;
  if (state == Orphan::kCheck) {
    bool continues = h.marksContinuation() ? h.continuesLine() : oldFormatMayContinue_;
    state = continues ? Orphan::kDropping : Orphan::kNo;
    if (!continues) return payload;
  }
  const void* nl = std::memchr(payload.data(), '\n', payload.size());
  if (nl == nullptr) return {};  // the fragment goes on in the next record
  state = Orphan::kNo;
  payload.remove_prefix(static_cast<size_t>(static_cast<const char*>(nl) - payload.data()) + 1);
  return payload;
}

// Hands out the records of the current file up to its end (or its torn tail).
sys::Result<void> Reader::drainFile() {
  RecordHeader h;
  std::string_view payload;
  while (!stopped_) {
    Status status = BERTH_TRY(scanner_->next(&h, &payload));
    if (status != Status::kRecord) return sys::ok();
    if (skip_ > 0) {
      payload.remove_prefix(std::min(skip_, payload.size()));
      skip_ = 0;
    }
    if (h.timeNs < options_.sinceNs || payload.empty()) continue;
    payload = dropOrphan(h, payload);
    if (payload.empty()) continue;
    if (!splitLines(h, payload, sink_)) stopped_ = true;
  }
  return sys::ok();
}

void Reader::reportGap(uint64_t files) {
  gapText_ = gapMessage(files);
  LogLine line;
  line.timeNs = LogWriter::nowNs();
  line.stream = Stream::kStderr;
  line.bytes = gapText_;
  line.gap = true;
  if (!sink_(line)) stopped_ = true;
}

// Moves a follower to the file after the current one once the watcher has
// it: the writer finished ours before it created that one, so one more
// drain of ours first gets all of it. False when there is none yet.
sys::Result<bool> Reader::nextFile() {
  auto next = BERTH_TRY(watcher_->takeNext());
  if (!next) return false;
  if (!chain_.empty()) BERTH_TRY(drainFile());
  if (stopped_) return false;
  if (next->lostBefore > 0) {
    reportGap(next->lostBefore);
    if (stopped_) return false;
  }
  if (!next->file.fd) return !chain_.empty();  // only the gap: ours is still the newest known
  chain_.clear();  // closes the files read: their space goes back to the disk
  chain_.push_back(std::move(next->file));
  startFile(0, 0);
  if (next->lostBefore > 0) checkOrphans(true);
  return true;
}

// Reads to the end of the chain, then (following) on into the files the
// watcher found since.
sys::Result<void> Reader::drainAll() {
  while (!stopped_) {
    if (!chain_.empty()) BERTH_TRY(drainFile());
    if (stopped_) break;
    if (!chain_.empty() && current_ + 1 < chain_.size()) {
      startFile(current_ + 1, 0);  // what follows a torn tail is skipped
      continue;
    }
    if (!watcher_ || !BERTH_TRY(nextFile())) break;
  }
  return sys::ok();
}

// Waits until the directory changes, the caller cancels or the writer
// exits. A removed directory sends no event while we hold it open (the
// inode outlives the rmdir), so the wait also wakes every second to look.
sys::Result<void> Reader::waitForChange() {
  struct pollfd fds[4] = {{inotify_.get(), POLLIN, 0},
                          {options_.cancelFd, POLLIN, 0},
                          {options_.exitedFd, POLLIN, 0},
                          {watcher_->wakeFd(), POLLIN, 0}};
  int n = ::poll(fds, 4, kDirCheckMs);  // negative fds are ignored by poll
  if (n < 0 && errno != EINTR) return sys::Error::fromErrno("wait for log changes");
  if (n > 0 && fds[1].revents != 0) stopped_ = true;
  if (n > 0 && fds[3].revents != 0) watcher_->clearWake();
  if (n > 0 && fds[0].revents != 0) {
    // The events only say "something changed": drop them.
    char buf[4096];
    while (::read(inotify_.get(), buf, sizeof buf) > 0) {
    }
  }
  struct stat st {};
  if (::fstat(dirfd_.get(), &st) != 0) return sys::Error::fromErrno("stat log directory");
  if (st.st_nlink == 0) dirGone_ = true;
  return sys::ok();
}

sys::Result<void> Reader::follow() {
  while (!stopped_) {
    // Look at the exit signal before the drain: the writer wrote its last
    // record before exiting, so the drain after seeing the exit gets it.
    bool exited = dirGone_ || readable(options_.exitedFd);
    // Every file the writer created is then known before the last drain.
    if (exited) BERTH_TRY(watcher_->sync());
    BERTH_TRY(drainAll());
    if (exited || stopped_) break;
    if (options_.onIdle) options_.onIdle();
    BERTH_TRY(waitForChange());
  }
  return sys::ok();
}

}  // namespace

std::string gapMessage(uint64_t files) {
  std::string n = std::to_string(files);
  return files == 1 ? "1 rotated log file was deleted before it could be read: lines are missing here"
                    : n + " rotated log files were deleted before they could be read: lines are missing here";
}

bool splitLines(const RecordHeader& header, std::string_view payload, const LineSink& sink) {
  LogLine line;
  line.timeNs = header.timeNs;
  line.stream = header.stream;
  while (!payload.empty()) {
    const void* nl = std::memchr(payload.data(), '\n', payload.size());
    if (nl == nullptr) {
      line.bytes = payload;
      line.partial = true;
      return sink(line);
    }
    size_t n = static_cast<size_t>(static_cast<const char*>(nl) - payload.data());
    line.bytes = payload.substr(0, n);
    line.partial = false;
    if (!sink(line)) return false;
    payload.remove_prefix(n + 1);
  }
  return true;
}

sys::Result<void> readLogs(const std::string& dir, std::string_view baseName,
                           const ReadOptions& options, const LineSink& sink) {
  Reader reader(options, sink);
  return std::move(reader.run(dir, baseName))
      .context("read log " + std::string(baseName) + " in " + dir);
}

}  // namespace berth::agent::logs
