// Decompressors for layer blobs: see decompress.h.
#include "image/unpack/decompress.h"

#include <isa-l/igzip_lib.h>
#include <unistd.h>
#include <zstd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

namespace berth::image::unpack {
namespace {

// The compressed input, read from the blob in large chunks.
class Input {
 public:
  Input(int fd, size_t chunk) : fd_(fd), buf_(chunk) {}

  const uint8_t* data() const { return buf_.data() + pos_; }
  size_t size() const { return len_ - pos_; }
  bool eof() const { return eof_; }
  void consume(size_t n) { pos_ += n; }
  uint64_t total() const { return total_; }

  // Reads until at least `want` bytes are buffered or the blob ends.
  sys::Result<void> fill(size_t want = 1) {
    if (pos_ > 0 && pos_ == len_) pos_ = len_ = 0;
    while (size() < want && !eof_) {
      if (pos_ > 0) {
        std::memmove(buf_.data(), data(), size());
        len_ -= pos_;
        pos_ = 0;
      }
      ssize_t n = ::read(fd_, buf_.data() + len_, buf_.size() - len_);
      if (n < 0) {
        if (errno == EINTR) continue;
        return sys::Error::fromErrno("read layer blob");
      }
      if (n == 0) eof_ = true;
      len_ += static_cast<size_t>(n);
      total_ += static_cast<uint64_t>(n);
    }
    return sys::ok();
  }

 private:
  int fd_;
  std::vector<uint8_t> buf_;
  size_t pos_ = 0;
  size_t len_ = 0;
  uint64_t total_ = 0;
  bool eof_ = false;
};

class PlainReader final : public Decompressor {
 public:
  explicit PlainReader(Input in) : in_(std::move(in)) {}
  sys::Result<size_t> read(uint8_t* out, size_t cap) override {
    if (in_.size() == 0) BERTH_TRY(in_.fill());
    size_t n = std::min(cap, in_.size());
    std::memcpy(out, in_.data(), n);
    in_.consume(n);
    return n;
  }
  Compression compression() const override { return Compression::kNone; }
  uint64_t compressedBytes() const override { return in_.total(); }

 private:
  Input in_;
};

std::string isalError(int code) {
  switch (code) {
    case ISAL_INVALID_BLOCK:
      return "invalid deflate block";
    case ISAL_INVALID_SYMBOL:
      return "invalid deflate symbol";
    case ISAL_INVALID_LOOKBACK:
      return "invalid deflate distance";
    case ISAL_INVALID_WRAPPER:
      return "invalid gzip header";
    case ISAL_UNSUPPORTED_METHOD:
      return "gzip method is not deflate";
    case ISAL_INCORRECT_CHECKSUM:
      return "gzip checksum mismatch";
    default:
      return "inflate error " + std::to_string(code);
  }
}

// gzip through isa-l. A blob may hold several gzip members back to back
// (pigz, concatenated layers); RFC 1952 says they form one stream. Zero
// bytes after the last member are tolerated, as gzip(1) does.
class GzipReader final : public Decompressor {
 public:
  explicit GzipReader(Input in) : in_(std::move(in)), state_(std::make_unique<inflate_state>()) {
    startMember();
  }

  sys::Result<size_t> read(uint8_t* out, size_t cap) override {
    size_t produced = 0;
    while (produced < cap && !done_) {
      if (state_->block_state == ISAL_BLOCK_FINISH) {
        BERTH_TRY(nextMember());
        continue;
      }
      if (in_.size() == 0) {
        BERTH_TRY(in_.fill());
        if (in_.size() == 0) return sys::Error::invalid("gzip layer is truncated");
      }
      state_->next_in = const_cast<uint8_t*>(in_.data());
      state_->avail_in = static_cast<uint32_t>(std::min<size_t>(in_.size(), UINT32_MAX));
      state_->next_out = out + produced;
      state_->avail_out = static_cast<uint32_t>(std::min<size_t>(cap - produced, UINT32_MAX));
      uint32_t before = state_->avail_in;
      int rc = isal_inflate(state_.get());
      in_.consume(before - state_->avail_in);
      produced = static_cast<size_t>(state_->next_out - out);
      if (rc < 0) return sys::Error::invalid("gunzip layer: " + isalError(rc));
    }
    return produced;
  }
  Compression compression() const override { return Compression::kGzip; }
  uint64_t compressedBytes() const override { return in_.total(); }

 private:
  void startMember() {
    isal_inflate_init(state_.get());
    state_->crc_flag = ISAL_GZIP;
  }

  sys::Result<void> nextMember() {
    BERTH_TRY(in_.fill(2));
    if (in_.size() == 0) {
      done_ = true;
      return sys::ok();
    }
    if (in_.size() >= 2 && in_.data()[0] == 0x1f && in_.data()[1] == 0x8b) {
      startMember();
      return sys::ok();
    }
    // Trailing zeros (tape-style padding) end the stream; anything else is garbage.
    while (in_.size() > 0) {
      for (size_t i = 0; i < in_.size(); ++i) {
        if (in_.data()[i] != 0) return sys::Error::invalid("gzip layer has trailing garbage");
      }
      in_.consume(in_.size());
      BERTH_TRY(in_.fill());
    }
    done_ = true;
    return sys::ok();
  }

  Input in_;
  std::unique_ptr<inflate_state> state_;  // ~40 KiB: keep it off the stack
  bool done_ = false;
};

class ZstdReader final : public Decompressor {
 public:
  explicit ZstdReader(Input in) : in_(std::move(in)), ctx_(ZSTD_createDCtx()) {}
  ~ZstdReader() override { ZSTD_freeDCtx(ctx_); }

  sys::Result<size_t> read(uint8_t* out, size_t cap) override {
    if (ctx_ == nullptr) return sys::Error(ENOMEM, "create zstd context");
    ZSTD_outBuffer ob{out, cap, 0};
    while (ob.pos < cap) {
      if (in_.size() == 0) {
        BERTH_TRY(in_.fill());
        if (in_.size() == 0) {
          if (frameOpen_) return sys::Error::invalid("zstd layer is truncated");
          break;
        }
      }
      ZSTD_inBuffer ib{in_.data(), in_.size(), 0};
      size_t rc = ZSTD_decompressStream(ctx_, &ob, &ib);
      in_.consume(ib.pos);
      if (ZSTD_isError(rc)) {
        return sys::Error::invalid(std::string("unzstd layer: ") + ZSTD_getErrorName(rc));
      }
      frameOpen_ = rc != 0;
    }
    return ob.pos;
  }
  Compression compression() const override { return Compression::kZstd; }
  uint64_t compressedBytes() const override { return in_.total(); }

 private:
  Input in_;
  ZSTD_DCtx* ctx_;
  bool frameOpen_ = false;
};

}  // namespace

std::string_view compressionName(Compression c) {
  switch (c) {
    case Compression::kGzip:
      return "gzip";
    case Compression::kZstd:
      return "zstd";
    case Compression::kNone:
      break;
  }
  return "none";
}

Compression detectCompression(const uint8_t* head, size_t len) {
  if (len >= 2 && head[0] == 0x1f && head[1] == 0x8b) return Compression::kGzip;
  if (len >= 4 && head[0] == 0x28 && head[1] == 0xb5 && head[2] == 0x2f && head[3] == 0xfd) {
    return Compression::kZstd;
  }
  return Compression::kNone;
}

sys::Result<void> checkLayerMediaType(std::string_view mediaType) {
  static constexpr std::string_view kKnown[] = {
      "application/vnd.oci.image.layer.v1.tar",
      "application/vnd.oci.image.layer.v1.tar+gzip",
      "application/vnd.oci.image.layer.v1.tar+zstd",
      "application/vnd.oci.image.layer.nondistributable.v1.tar",
      "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
      "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
      "application/vnd.docker.image.rootfs.diff.tar",
      "application/vnd.docker.image.rootfs.diff.tar.gzip",
      "application/vnd.docker.image.rootfs.diff.tar.zstd",
      "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
  };
  if (mediaType.empty()) return sys::ok();
  for (auto known : kKnown) {
    if (mediaType == known) return sys::ok();
  }
  return sys::Error::invalid("unsupported layer media type " + std::string(mediaType));
}

sys::Result<std::unique_ptr<Decompressor>> Decompressor::open(int fd, size_t inputChunk) {
  Input in(fd, std::max<size_t>(inputChunk, 4096));
  BERTH_TRY(in.fill(4));
  switch (detectCompression(in.data(), in.size())) {
    case Compression::kGzip:
      return std::unique_ptr<Decompressor>(new GzipReader(std::move(in)));
    case Compression::kZstd:
      return std::unique_ptr<Decompressor>(new ZstdReader(std::move(in)));
    case Compression::kNone:
      break;
  }
  return std::unique_ptr<Decompressor>(new PlainReader(std::move(in)));
}

}  // namespace berth::image::unpack
