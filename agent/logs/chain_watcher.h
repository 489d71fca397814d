// ChainWatcher: for a follower (`berth logs -f`), opens every file of a
// log's rotation chain as soon as it appears, in a thread of its own, so a
// reader that falls behind the writer by more than the rotation window
// (maxFiles x maxSizeBytes) still reads every file: a rotated file stays
// readable through the open fd after the writer deletes it. The thread keeps
// doing this while the reader is blocked handing lines to a slow client.
//
// Files are told apart by the count of live files created since the watch
// began: every new <base>.log is one inotify IN_CREATE or IN_MOVED_TO event
// for that name, and the kernel queues those events even when nobody reads
// them yet. A scan of the chain (.log, .log.1, ...) that no new live file
// interrupted sees the newest files in order, so the k-th distinct file it
// meets is live file number (count - k + 1). Files the scan no longer finds
// were rotated away before they could be opened: the reader is told how
// many, so a gap is never silent.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "agent/logs/files.h"
#include "runtime/sys/fd.h"
#include "runtime/sys/result.h"

namespace berth::agent::logs {

class ChainWatcher {
 public:
  // The file that follows the last one handed out.
  struct Next {
    ChainFile file;
    // Files between the previous one and this one that could not be read:
    // deleted by rotation before they were opened, or closed because more
    // than maxHeldFiles were waiting.
    uint64_t lostBefore = 0;
  };

  // Watches `dir` (already open as `dirfd`, which must outlive the watcher),
  // fills `initial` with the chain as it is now, oldest first (the live file
  // last, when there is one), and starts the thread. At most `maxHeldFiles`
  // files wait for the reader; beyond that the oldest is given up (and
  // counted as lost) so a stalled reader cannot pin unbounded disk space.
  static sys::Result<std::unique_ptr<ChainWatcher>> start(const std::string& dir, int dirfd,
                                                          std::string_view base,
                                                          size_t maxHeldFiles,
                                                          std::vector<ChainFile>* initial);
  ~ChainWatcher();
  ChainWatcher(const ChainWatcher&) = delete;
  ChainWatcher& operator=(const ChainWatcher&) = delete;

  // The next file in order once it has appeared (the one before it is then
  // complete: the writer finishes a file before it creates the next), or
  // nothing yet. An error of the watching thread comes back here.
  sys::Result<std::optional<Next>> takeNext();

  // Handles pending events in the caller's thread: afterwards every file
  // created before the call is known (for a reader that saw the writer exit).
  sys::Result<void> sync();

  // Readable after the thread queued a file; the reader polls it with its
  // other fds and calls clearWake() when it wakes.
  int wakeFd() const { return wake_.get(); }
  void clearWake();

 private:
  ChainWatcher(int dirfd, std::string_view base, size_t maxHeldFiles);
  sys::Result<void> initialScan(std::vector<ChainFile>* initial);
  void run();
  // All the following run with mutex_ held.
  sys::Result<bool> update();
  sys::Result<bool> readEvents();
  sys::Result<std::vector<ChainFile>> scanNewest(uint64_t count, bool* metKnown);
  void commit(std::vector<ChainFile> newestFirst, uint64_t lost);
  void remember(const ChainFile& newest);

  int dirfd_;
  std::string base_;
  std::string liveName_;
  size_t maxHeld_;
  sys::UniqueFd inotify_;
  sys::UniqueFd stop_;
  sys::UniqueFd wake_;
  std::thread thread_;

  std::mutex mutex_;
  uint64_t created_ = 0;  // live files created since the initial scan
  uint64_t known_ = 0;    // of those, the ones opened or counted as lost
  bool overflow_ = false;
  bool haveNewest_ = false;  // the newest known file's identity is below
  ino_t newestIno_ = 0;
  dev_t newestDev_ = 0;
  std::deque<Next> queue_;
  uint64_t pendingLost_ = 0;  // lost files with no later file queued yet
  std::optional<sys::Error> error_;
};

}  // namespace berth::agent::logs
