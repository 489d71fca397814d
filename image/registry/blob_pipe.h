// BlobPipe: hands a blob's bytes from the thread that receives them to a
// thread that hashes and writes them (the store's verifying BlobWriter), so
// receiving the next bytes overlaps with hashing and writing the previous
// ones. On this class of machine a loopback registry sends a 44 MB layer in
// ~20 ms while sha256 plus write(2) into the page cache take ~60 ms; done in
// line, the receiver stalls for all of it.
//
// Bytes are gathered into 1 MiB chunks (curl delivers 16 KiB pieces) and at
// most kMaxQueued chunks wait, which bounds the memory per blob. A write
// error stops the pipe: the next push() returns it, so the transfer aborts.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "image/store/content_store.h"
#include "runtime/sys/result.h"

namespace berth::image::registry {

class BlobPipe {
 public:
  static constexpr size_t kChunkSize = 1 << 20;
  static constexpr size_t kMaxQueued = 8;

  // `threaded` false writes in the caller's thread (small blobs: a thread
  // costs more than it saves).
  BlobPipe(store::BlobWriter& writer, bool threaded);
  ~BlobPipe();  // stops and joins the writer thread if finish() was not called
  BlobPipe(const BlobPipe&) = delete;
  BlobPipe& operator=(const BlobPipe&) = delete;

  sys::Result<void> push(const char* data, size_t len);
  // Flushes what is pending, waits for the writer thread, returns its first
  // error. Does not commit.
  sys::Result<void> finish();

 private:
  sys::Result<void> flushChunk();
  void run();

  store::BlobWriter& writer_;
  std::string pending_;
  bool threaded_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<std::string> queue_;
  bool closed_ = false;
  std::optional<sys::Error> error_;
  std::thread thread_;
};

}  // namespace berth::image::registry
