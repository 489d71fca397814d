// The uncompressed tar stream of a layer, produced on a reader thread.
//
// Inflating and writing files are the two halves of unpack's time, and they
// need different resources (CPU for inflate and sha256, system calls for the
// files), so a reader thread inflates into a small ring of buffers while the
// caller's thread parses the tar and writes the tree. The DiffID (sha256 of
// the uncompressed tar, OpenSSL: it uses the CPU's SHA instructions) is
// computed on the reader thread, over every byte, including the padding after
// the end-of-archive marker that the tar parser never asks for.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "image/unpack/decompress.h"
#include "runtime/sys/result.h"

namespace berth::image::unpack {

class TarStream {
 public:
  // `threaded` false inflates on the caller's thread (used by the fuzzer).
  TarStream(std::unique_ptr<Decompressor> source, size_t chunkSize, size_t chunks, bool threaded);
  ~TarStream();
  TarStream(const TarStream&) = delete;
  TarStream& operator=(const TarStream&) = delete;

  // The next piece of the stream; empty at its end. Valid until the next call.
  sys::Result<std::span<const uint8_t>> next();

  // Reads and hashes what is left, then returns "sha256:<hex>".
  sys::Result<std::string> finish();

  uint64_t uncompressedBytes() const { return total_; }
  uint64_t compressedBytes() const { return source_->compressedBytes(); }
  Compression compression() const { return source_->compression(); }

 private:
  struct Chunk {
    std::vector<uint8_t> data;
    size_t len = 0;
  };
  sys::Result<size_t> fillChunk(Chunk& c);
  void produce();

  std::unique_ptr<Decompressor> source_;
  std::vector<Chunk> chunks_;
  void* sha_;  // EVP_MD_CTX*
  uint64_t total_ = 0;
  bool threaded_;

  // Threaded mode: indexes of free and filled chunks, guarded by mu_.
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<size_t> free_;
  std::deque<size_t> filled_;
  bool ended_ = false;  // the producer has pushed its last chunk
  bool stop_ = false;   // the consumer is gone
  sys::Error error_;
  bool failed_ = false;
  int held_ = -1;  // the chunk the consumer currently reads
  std::thread thread_;
  bool inlineEnded_ = false;
  bool consumerEnded_ = false;
};

}  // namespace berth::image::unpack
