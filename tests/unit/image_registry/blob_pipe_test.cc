// BlobPipe: bytes reach the writer complete and in order, in both modes, and
// a writer failure stops the pipe with the writer's error.
#include "image/registry/blob_pipe.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>

namespace berth::image::registry {
namespace {

class RecordingWriter : public store::BlobWriter {
 public:
  explicit RecordingWriter(size_t failAfter = SIZE_MAX) : failAfter_(failAfter) {}
  sys::Result<void> write(const void* data, size_t len) override {
    if (data_.size() + len > failAfter_) return sys::Error::invalid("disk full (test)");
    data_.append(static_cast<const char*>(data), len);
    ++writes_;
    return sys::ok();
  }
  sys::Result<void> commit() override { return sys::ok(); }
  uint64_t written() const override { return data_.size(); }
  const std::string& data() const { return data_; }
  int writes() const { return writes_; }

 private:
  size_t failAfter_;
  std::string data_;
  std::atomic<int> writes_{0};
};

std::string pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + i / 7) & 0xff);
  return s;
}

void pushInPieces(BlobPipe& pipe, const std::string& data, size_t piece) {
  for (size_t off = 0; off < data.size(); off += piece) {
    ASSERT_TRUE(pipe.push(data.data() + off, std::min(piece, data.size() - off)).ok());
  }
}

TEST(BlobPipe, ThreadedKeepsOrderAndGathersChunks) {
  std::string data = pattern(20 * BlobPipe::kChunkSize + 12345);
  RecordingWriter writer;
  BlobPipe pipe(writer, /*threaded=*/true);
  pushInPieces(pipe, data, 16384);
  ASSERT_TRUE(pipe.finish().ok());
  EXPECT_EQ(writer.data(), data);
  EXPECT_EQ(writer.writes(), 21);  // 20 full chunks and the tail
}

TEST(BlobPipe, InlineModeWritesTheSame) {
  std::string data = pattern(3 * BlobPipe::kChunkSize + 7);
  RecordingWriter writer;
  BlobPipe pipe(writer, /*threaded=*/false);
  pushInPieces(pipe, data, 1000);
  ASSERT_TRUE(pipe.finish().ok());
  EXPECT_EQ(writer.data(), data);
}

TEST(BlobPipe, WriterErrorStopsThePipe) {
  std::string data = pattern(40 * BlobPipe::kChunkSize);
  RecordingWriter writer(5 * BlobPipe::kChunkSize);
  BlobPipe pipe(writer, /*threaded=*/true);
  sys::Result<void> last;
  for (size_t off = 0; off < data.size() && last.ok(); off += 16384) {
    last = pipe.push(data.data() + off, 16384);
  }
  sys::Result<void> finished = pipe.finish();
  // The failure surfaces either from a push (the transfer aborts) or at finish().
  std::string msg = !last.ok() ? last.error().str() : finished.error().str();
  EXPECT_FALSE(last.ok() && finished.ok());
  EXPECT_EQ(msg, "disk full (test)");
  EXPECT_EQ(writer.data().size(), 5 * BlobPipe::kChunkSize);
}

TEST(BlobPipe, AbandonedPipeJoinsItsThread) {
  RecordingWriter writer;
  {
    BlobPipe pipe(writer, /*threaded=*/true);
    std::string data = pattern(3 * BlobPipe::kChunkSize);
    pushInPieces(pipe, data, 65536);
    // No finish(): a failed transfer leaves the pipe like this.
  }
  EXPECT_LE(writer.data().size(), 3 * BlobPipe::kChunkSize);
}

}  // namespace
}  // namespace berth::image::registry
