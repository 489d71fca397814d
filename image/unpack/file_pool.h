// A small pool of threads that create regular files for the TreeWriter.
//
// Creating an inode is most of an unpack's system time (ext4 allocates it
// under the parent's block group; without a journal it also skips every
// recently freed inode, one buffer lookup each), and it is work the kernel
// can do for several files at once. The archive must still be read in
// order, so the TreeWriter reads each small file's data into a FileJob on
// its own thread and hands the job here; the workers create, fill and close
// the files while the next entries are parsed.
//
// The pool only runs jobs; deciding which entries may run out of order is
// the TreeWriter's business (see tree_writer.cc: a job only ever creates a
// name no other pending or future operation touches before a drain()).
// Queued bytes are bounded, so a layer of many files never buffers more than
// `maxBytes` of their content.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "image/unpack/tree_writer.h"
#include "runtime/sys/fd.h"
#include "runtime/sys/result.h"

namespace berth::image::unpack {

// One regular file to create: everything a worker needs, owned by the job.
struct FileJob {
  // The parent directory, kept open for as long as the job needs it even if
  // the TreeWriter's cache drops it meanwhile.
  std::shared_ptr<const sys::UniqueFd> parent;
  std::string name;  // a single path component below `parent`
  Entry entry;       // header fields (entry.path is used in errors)
  // The file's content: extents of (offset in the file, length) laid out
  // back to back in `data` (more than one only for sparse files).
  std::string data;
  std::vector<std::pair<int64_t, size_t>> extents;
};

// Replays a job's buffered content as the DataSource the writer expects.
class BufferedData final : public DataSource {
 public:
  explicit BufferedData(const FileJob& job) : job_(job) {}
  sys::Result<bool> nextBlock(const void** data, size_t* len, int64_t* offset) override;

 private:
  const FileJob& job_;
  size_t next_ = 0;
  size_t pos_ = 0;
};

class FilePool {
 public:
  using Work = std::function<sys::Result<void>(const FileJob&)>;

  // `work` runs on the pool's threads, several jobs at once.
  FilePool(size_t threads, size_t maxBytes, size_t maxJobs, Work work);
  // Discards queued jobs, waits for the running ones.
  ~FilePool();
  FilePool(const FilePool&) = delete;
  FilePool& operator=(const FilePool&) = delete;

  // Queues a job, waiting while the queue is full. Returns the first error
  // any job has had (the job is then dropped): the unpack is failing.
  sys::Result<void> submit(FileJob job);

  // Waits until every submitted job has finished; returns the first error.
  sys::Result<void> drain();

 private:
  void run();
  sys::Result<void> firstError();  // with mu_ held

  Work work_;
  size_t maxBytes_;
  size_t maxJobs_;
  std::mutex mu_;
  std::condition_variable wake_;  // workers: a job or stop
  std::condition_variable done_;  // producer: space in the queue, or all done
  std::deque<FileJob> queue_;
  size_t queuedBytes_ = 0;
  size_t running_ = 0;
  bool stop_ = false;
  std::optional<sys::Error> error_;
  std::vector<std::thread> threads_;
};

}  // namespace berth::image::unpack
