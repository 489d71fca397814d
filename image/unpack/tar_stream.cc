// The layer's tar stream on a reader thread: see tar_stream.h.
#include "image/unpack/tar_stream.h"

#include <openssl/evp.h>

namespace berth::image::unpack {
namespace {

EVP_MD_CTX* mdOf(void* p) {
  return static_cast<EVP_MD_CTX*>(p);
}

}  // namespace

TarStream::TarStream(std::unique_ptr<Decompressor> source, size_t chunkSize, size_t chunks,
                     bool threaded)
    : source_(std::move(source)),
      chunks_(std::max<size_t>(chunks, 2)),
      sha_(EVP_MD_CTX_new()),
      threaded_(threaded) {
  EVP_DigestInit_ex(mdOf(sha_), EVP_sha256(), nullptr);
  for (size_t i = 0; i < chunks_.size(); ++i) {
    chunks_[i].data.resize(chunkSize);
    free_.push_back(i);
  }
  if (threaded_) thread_ = std::thread([this] { produce(); });
}

TarStream::~TarStream() {
  if (thread_.joinable()) {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  EVP_MD_CTX_free(mdOf(sha_));
}

// Fills one chunk completely (or up to the end), so the tar parser sees few,
// large blocks and most small files arrive in one piece.
sys::Result<size_t> TarStream::fillChunk(Chunk& c) {
  c.len = 0;
  while (c.len < c.data.size()) {
    size_t n = BERTH_TRY(source_->read(c.data.data() + c.len, c.data.size() - c.len));
    if (n == 0) break;
    c.len += n;
  }
  EVP_DigestUpdate(mdOf(sha_), c.data.data(), c.len);
  total_ += c.len;
  return c.len;
}

void TarStream::produce() {
  for (;;) {
    size_t idx;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stop_ || !free_.empty(); });
      if (stop_) return;
      idx = free_.front();
      free_.pop_front();
    }
    auto n = fillChunk(chunks_[idx]);
    std::lock_guard lock(mu_);
    if (!n) {
      error_ = std::move(n).error();
      failed_ = true;
    } else {
      filled_.push_back(idx);
      if (*n == 0) ended_ = true;
    }
    cv_.notify_all();
    if (failed_ || ended_) return;
  }
}

sys::Result<std::span<const uint8_t>> TarStream::next() {
  if (!threaded_) {
    if (inlineEnded_) return std::span<const uint8_t>();
    size_t n = BERTH_TRY(fillChunk(chunks_[0]));
    if (n == 0) inlineEnded_ = true;
    return std::span<const uint8_t>(chunks_[0].data.data(), n);
  }
  if (consumerEnded_) return std::span<const uint8_t>();
  std::unique_lock lock(mu_);
  if (held_ >= 0) {
    free_.push_back(static_cast<size_t>(held_));
    held_ = -1;
    cv_.notify_all();
  }
  cv_.wait(lock, [this] { return failed_ || !filled_.empty(); });
  if (filled_.empty()) return error_;
  size_t idx = filled_.front();
  filled_.pop_front();
  if (chunks_[idx].len == 0) {
    consumerEnded_ = true;
    return std::span<const uint8_t>();
  }
  held_ = static_cast<int>(idx);
  return std::span<const uint8_t>(chunks_[idx].data.data(), chunks_[idx].len);
}

sys::Result<std::string> TarStream::finish() {
  for (;;) {
    auto piece = BERTH_TRY(next());
    if (piece.empty()) break;
  }
  if (thread_.joinable()) thread_.join();
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(mdOf(sha_), md, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "sha256:";
  for (unsigned i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

}  // namespace berth::image::unpack
