// Unit tests for following a log (-f): a writer in another process appends
// and rotates while the follower reads; cancellation; the exit signal; a
// follower that falls behind rotation.
#include <gtest/gtest.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "logs_test_util.h"
#include "runtime/sys/fd.h"
#include "runtime/sys/syscall.h"

namespace berth::agent::logs {
namespace {

using testing::openWriter;
using testing::TempDir;

// A gap notice among the numbers FollowThread collects.
constexpr int kGap = -1;

// "line <n>" -> n
int numberOf(const LogLine& l) {
  EXPECT_FALSE(l.partial);
  EXPECT_EQ(l.bytes.substr(0, 5), "line ");
  return std::stoi(std::string(l.bytes.substr(5)));
}

void signal(int eventFd) {
  uint64_t one = 1;
  ASSERT_EQ(::write(eventFd, &one, sizeof one), static_cast<ssize_t>(sizeof one));
}

// Writes lines [from, to) in chunks of 1..5 lines, as a container would.
sys::Result<void> writeChunks(LogWriter& w, int from, int to) {
  std::string chunk;
  for (int i = from; i < to;) {
    chunk.clear();
    for (int n = 1 + i % 5; n > 0 && i < to; --n, ++i) chunk += "line " + std::to_string(i) + "\n";
    BERTH_TRY(w.write(i % 7 == 0 ? Stream::kStderr : Stream::kStdout, chunk));
  }
  return sys::ok();
}

TEST(LogFollow, SeesEveryRecordOfAWriterThatRotatesConcurrently) {
  TempDir dir;
  constexpr int kLines = 100000;
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // ~1.7 MB in ~27 files of 64 KiB: enough files are kept that the
    // follower cannot lose any even when it is descheduled for a while.
    WriterOptions opts;
    opts.maxSizeBytes = 64 * 1024;
    opts.maxFiles = 60;
    auto w = LogWriter::open(dir.path(), "c", opts);
    ::_exit(w.ok() && writeChunks(*w, 0, kLines).ok() ? 0 : 1);
  }
  sys::UniqueFd pidfd(sys::pidfdOpen(child));
  ASSERT_TRUE(pidfd.valid());
  ReadOptions o;
  o.follow = true;
  o.exitedFd = pidfd.get();
  int expected = 0, bad = 0;
  auto start = std::chrono::steady_clock::now();
  auto r = readLogs(dir.path(), "c", o, [&](const LogLine& l) {
    if (numberOf(l) != expected && ++bad < 5)
      ADD_FAILURE() << "got " << l.bytes << " want " << expected;
    expected = numberOf(l) + 1;
    return true;
  });
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(status, 0);
  EXPECT_EQ(bad, 0);
  EXPECT_EQ(expected, kLines);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
  EXPECT_TRUE(sys::pathExists(dir.file("c.log.20")));  // it did rotate
}

class FollowThread {
 public:
  FollowThread(std::string dir, ReadOptions o, std::function<void(const LogLine&)> onLine = nullptr)
      : dir_(std::move(dir)), options_(std::move(o)), onLine_(std::move(onLine)) {
    thread_ = std::thread([this] {
      result_ = readLogs(dir_, "c", options_, [this](const LogLine& l) {
        if (onLine_) onLine_(l);
        std::lock_guard lock(mu_);
        numbers_.push_back(l.gap ? kGap : numberOf(l));
        cv_.notify_all();
        return true;
      });
    });
  }
  ~FollowThread() {
    if (thread_.joinable()) thread_.join();
  }
  // Waits until `count` lines arrived (false after 10 s).
  bool waitFor(size_t count) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return numbers_.size() >= count; });
  }
  std::vector<int> join() {
    thread_.join();
    EXPECT_TRUE(result_.ok()) << result_.error().str();
    return numbers_;
  }

 private:
  std::string dir_;
  ReadOptions options_;
  std::function<void(const LogLine&)> onLine_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<int> numbers_;
  sys::Result<void> result_ = sys::ok();
};

std::vector<int> range(int from, int to) {
  std::vector<int> out;
  for (int i = from; i < to; ++i) out.push_back(i);
  return out;
}

TEST(LogFollow, WaitsForTheLogToAppearAndEndsWhenTheWriterExited) {
  TempDir dir;
  sys::UniqueFd exited(::eventfd(0, EFD_CLOEXEC));
  ReadOptions o;
  o.follow = true;
  o.exitedFd = exited.get();
  FollowThread follower(dir.path(), o);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  LogWriter w = openWriter(dir.path(), "c");
  ASSERT_TRUE(writeChunks(w, 0, 10).ok());
  ASSERT_TRUE(follower.waitFor(10));
  ASSERT_TRUE(writeChunks(w, 10, 20).ok());
  // Lines written before the exit signal are all delivered.
  signal(exited.get());
  EXPECT_EQ(follower.join(), range(0, 20));
}

TEST(LogFollow, CancelStopsAWaitingFollower) {
  TempDir dir;
  LogWriter w = openWriter(dir.path(), "c");
  ASSERT_TRUE(writeChunks(w, 0, 3).ok());
  sys::UniqueFd cancel(::eventfd(0, EFD_CLOEXEC));
  ReadOptions o;
  o.follow = true;
  o.cancelFd = cancel.get();
  std::atomic<int> idle{0};
  o.onIdle = [&] { ++idle; };
  FollowThread follower(dir.path(), o);
  ASSERT_TRUE(follower.waitFor(3));
  signal(cancel.get());
  EXPECT_EQ(follower.join(), range(0, 3));
  EXPECT_GE(idle.load(), 1);
}

TEST(LogFollow, EndsWhenTheLogDirectoryIsRemoved) {
  TempDir parent;
  std::string dir = parent.file("container");
  ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0);
  {
    LogWriter w = openWriter(dir, "c");
    ASSERT_TRUE(writeChunks(w, 0, 4).ok());
  }
  ReadOptions o;
  o.follow = true;
  FollowThread follower(dir, o);
  ASSERT_TRUE(follower.waitFor(4));
  ASSERT_TRUE(sys::removeAll(dir).ok());
  EXPECT_EQ(follower.join(), range(0, 4));
}

TEST(LogFollow, TailThenFollow) {
  TempDir dir;
  WriterOptions wo;
  wo.maxSizeBytes = 200;
  LogWriter w = openWriter(dir.path(), "c", wo);
  ASSERT_TRUE(writeChunks(w, 0, 10).ok());
  sys::UniqueFd exited(::eventfd(0, EFD_CLOEXEC));
  ReadOptions o;
  o.follow = true;
  o.tailLines = 2;
  o.exitedFd = exited.get();
  FollowThread follower(dir.path(), o);
  ASSERT_TRUE(follower.waitFor(2));
  ASSERT_TRUE(writeChunks(w, 10, 40).ok());  // rotates several times
  ASSERT_TRUE(follower.waitFor(32));
  signal(exited.get());
  EXPECT_EQ(follower.join(), range(8, 40));
}

// A follower blocked in its first line while the writer rotates `lines`
// through files of `fileSize` bytes, `maxFiles` kept, pausing `pauseUs`
// after each chunk. Returns what the follower got once unblocked.
std::vector<int> followBlocked(const std::string& dir, int lines, uint64_t fileSize,
                               unsigned maxFiles, int pauseUs, size_t maxHeldFiles = 128) {
  WriterOptions wo;
  wo.maxSizeBytes = fileSize;
  wo.maxFiles = maxFiles;
  LogWriter w = openWriter(dir, "c", wo);
  EXPECT_TRUE(writeChunks(w, 0, 5).ok());
  sys::UniqueFd exited(::eventfd(0, EFD_CLOEXEC));
  ReadOptions o;
  o.follow = true;
  o.exitedFd = exited.get();
  o.maxHeldFiles = maxHeldFiles;
  std::mutex gate;
  gate.lock();
  std::atomic<bool> blocked{false};
  FollowThread follower(dir, o, [&, first = true](const LogLine&) mutable {
    if (!std::exchange(first, false)) return;
    blocked = true;
    std::lock_guard wait(gate);
  });
  for (int i = 0; i < 1000 && !blocked; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(blocked);
  for (int i = 5; i < lines; i += 50) {
    EXPECT_TRUE(writeChunks(w, i, std::min(i + 50, lines)).ok());
    if (pauseUs > 0) std::this_thread::sleep_for(std::chrono::microseconds(pauseUs));
  }
  signal(exited.get());
  gate.unlock();
  return follower.join();
}

// In order, without duplicates; a jump in the numbers only right after a
// gap notice. Returns the count of gap notices.
int expectOrderedOrGap(const std::vector<int>& got, int lines) {
  int gaps = 0, expected = 0;
  bool afterGap = false;
  for (size_t i = 0; i < got.size(); ++i) {
    if (got[i] == kGap) {
      ++gaps;
      afterGap = true;
      continue;
    }
    if (afterGap) {
      EXPECT_GT(got[i], expected - 1) << "at " << i;
    } else {
      EXPECT_EQ(got[i], expected) << "at " << i << ": lines lost without a gap notice";
    }
    if (got[i] != expected && !afterGap) return gaps;
    expected = got[i] + 1;
    afterGap = false;
  }
  EXPECT_EQ(expected, lines);
  return gaps;
}

TEST(LogFollow, ASlowFollowerStillSeesEveryLineAcrossThreeWindowsOfRotation) {
  TempDir dir;
  // ~32 KiB of lines through files of 2 KiB, 2 kept: 8 windows. The
  // follower is blocked all along; the watcher holds the rotated files.
  constexpr int kLines = 3000;
  std::vector<int> got = followBlocked(dir.path(), kLines, 2048, 2, 2000);
  EXPECT_EQ(expectOrderedOrGap(got, kLines), 0);
  EXPECT_EQ(got, range(0, kLines));
}

TEST(LogFollow, AFollowerThatFellBehindAWriterAsFastAsItCanSeesEveryLineOrAGap) {
  TempDir dir;
  // No pause: the writer may rotate files away before the watcher opens
  // them; whatever is missed is reported.
  constexpr int kLines = 20000;
  std::vector<int> got = followBlocked(dir.path(), kLines, 1024, 2, 0);
  expectOrderedOrGap(got, kLines);
}

TEST(LogFollow, FilesBeyondTheHeldLimitAreReportedAsAGap) {
  TempDir dir;
  constexpr int kLines = 3000;
  std::vector<int> got = followBlocked(dir.path(), kLines, 2048, 2, 2000, 1);
  EXPECT_GE(expectOrderedOrGap(got, kLines), 1);
  EXPECT_EQ(got.back(), kLines - 1);
}

}  // namespace
}  // namespace berth::agent::logs
