// Receive/write overlap for blob downloads (see blob_pipe.h).
#include "image/registry/blob_pipe.h"

namespace berth::image::registry {

BlobPipe::BlobPipe(store::BlobWriter& writer, bool threaded)
    : writer_(writer), threaded_(threaded) {
  pending_.reserve(kChunkSize);
  if (threaded_) thread_ = std::thread([this] { run(); });
}

BlobPipe::~BlobPipe() {
  if (thread_.joinable()) {
    {
      std::lock_guard lock(mu_);
      closed_ = true;
      queue_.clear();
    }
    changed_.notify_all();
    thread_.join();
  }
}

void BlobPipe::run() {
  for (;;) {
    std::string chunk;
    {
      std::unique_lock lock(mu_);
      changed_.wait(lock, [&] { return !queue_.empty() || closed_; });
      if (queue_.empty()) return;  // closed and drained
      chunk = std::move(queue_.front());
      queue_.pop_front();
    }
    changed_.notify_all();  // room for the receiver
    auto written = writer_.write(chunk.data(), chunk.size());
    if (!written.ok()) {
      std::lock_guard lock(mu_);
      error_ = std::move(written).error();
      closed_ = true;
      queue_.clear();
      changed_.notify_all();
      return;
    }
  }
}

sys::Result<void> BlobPipe::flushChunk() {
  if (pending_.empty()) return sys::ok();
  if (!threaded_) {
    auto written = writer_.write(pending_.data(), pending_.size());
    pending_.clear();
    return written;
  }
  std::string chunk;
  chunk.reserve(kChunkSize);
  chunk.swap(pending_);
  std::unique_lock lock(mu_);
  changed_.wait(lock, [&] { return queue_.size() < kMaxQueued || closed_; });
  if (error_) return *error_;
  if (closed_) return sys::Error::invalid("blob pipe closed");
  queue_.push_back(std::move(chunk));
  lock.unlock();
  changed_.notify_all();
  return sys::ok();
}

sys::Result<void> BlobPipe::push(const char* data, size_t len) {
  pending_.append(data, len);
  if (pending_.size() >= kChunkSize) return flushChunk();
  return sys::ok();
}

sys::Result<void> BlobPipe::finish() {
  BERTH_TRY(flushChunk());
  if (!threaded_) return sys::ok();
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  changed_.notify_all();
  thread_.join();
  if (error_) return *error_;
  return sys::ok();
}

}  // namespace berth::image::registry
