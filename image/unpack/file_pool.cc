// Worker threads creating regular files: see file_pool.h.
#include "image/unpack/file_pool.h"

namespace berth::image::unpack {

sys::Result<bool> BufferedData::nextBlock(const void** data, size_t* len, int64_t* offset) {
  if (next_ >= job_.extents.size()) return false;
  const auto& [at, size] = job_.extents[next_++];
  *data = job_.data.data() + pos_;
  *len = size;
  *offset = at;
  pos_ += size;
  return true;
}

FilePool::FilePool(size_t threads, size_t maxBytes, size_t maxJobs, Work work)
    : work_(std::move(work)), maxBytes_(maxBytes), maxJobs_(std::max<size_t>(maxJobs, 1)) {
  for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { run(); });
}

FilePool::~FilePool() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    queue_.clear();
  }
  wake_.notify_all();
  for (auto& t : threads_) t.join();
}

sys::Result<void> FilePool::firstError() {
  if (error_) return sys::Error(*error_);
  return sys::ok();
}

sys::Result<void> FilePool::submit(FileJob job) {
  std::unique_lock lock(mu_);
  // One job is always let in, however large, so a file bigger than the
  // budget cannot wait forever.
  done_.wait(lock, [this] {
    return error_ || queue_.empty() ||
           (queue_.size() < maxJobs_ && queuedBytes_ < maxBytes_);
  });
  BERTH_TRY(firstError());
  queuedBytes_ += job.data.size();
  queue_.push_back(std::move(job));
  lock.unlock();
  wake_.notify_one();
  return sys::ok();
}

sys::Result<void> FilePool::drain() {
  std::unique_lock lock(mu_);
  done_.wait(lock, [this] { return queue_.empty() && running_ == 0; });
  return firstError();
}

void FilePool::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (stop_) return;
    FileJob job = std::move(queue_.front());
    queue_.pop_front();
    queuedBytes_ -= job.data.size();
    ++running_;
    // After a failure the remaining jobs are dropped: the unpack is lost.
    bool skip = error_.has_value();
    lock.unlock();
    done_.notify_all();  // room in the queue
    sys::Result<void> result;
    if (!skip) result = work_(job);
    lock.lock();
    --running_;
    if (!result && !error_) error_ = std::move(result).error();
    if (queue_.empty() && running_ == 0) done_.notify_all();
    if (error_) done_.notify_all();
  }
}

}  // namespace berth::image::unpack
