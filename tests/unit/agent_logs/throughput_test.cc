// A bounded throughput test: 200 MB of generated output (lines of varied
// length, cut into 64 KiB pipe-sized reads) through LogWriter and back
// through readLogs, compared byte for byte. It prints the MB/s of each side
// (informational: hack/bench/logs.sh is the benchmark).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "logs_test_util.h"

namespace berth::agent::logs {
namespace {

using testing::openWriter;
using testing::TempDir;

// A deterministic stream of text lines, 0..299 bytes each.
class LineSource {
 public:
  // Appends at least `bytes` bytes (whole lines) to `out`.
  void fill(std::string& out, size_t bytes) {
    size_t target = out.size() + bytes;
    while (out.size() < target) {
      size_t len = next() % 300;
      for (size_t i = 0; i < len; ++i) out += static_cast<char>(' ' + (next() >> 7) % 95);
      out += '\n';
    }
  }

 private:
  uint64_t next() {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 7;
    state_ ^= state_ << 17;
    return state_;
  }
  uint64_t state_ = 0x9E3779B97F4A7C15ull;
};

double mbPerSecond(uint64_t bytes, std::chrono::steady_clock::duration d) {
  return static_cast<double>(bytes) / 1e6 / std::chrono::duration<double>(d).count();
}

TEST(LogThroughput, TwoHundredMegabytesRoundTripExactly) {
  constexpr uint64_t kTotal = 200ull * 1000 * 1000;
  constexpr size_t kRead = 64 * 1024;
  TempDir dir;
  WriterOptions opts;
  opts.maxSizeBytes = 64 * 1024 * 1024;  // 5 files hold it all, 3 rotations
  LogWriter w = openWriter(dir.path(), "c", opts);

  LineSource source;
  std::string pending;
  uint64_t written = 0;
  auto start = std::chrono::steady_clock::now();
  while (written < kTotal) {
    if (pending.size() < kRead) source.fill(pending, 4 * kRead);
    std::string_view chunk(pending.data(), kRead);
    ASSERT_TRUE(w.write(Stream::kStdout, chunk).ok());
    written += kRead;
    pending.erase(0, kRead);
  }
  auto wrote = std::chrono::steady_clock::now();

  LineSource check;
  std::string expected;
  size_t at = 0;
  uint64_t read = 0;
  bool same = true;
  auto r = readLogs(dir.path(), "c", {}, [&](const LogLine& l) {
    size_t need = l.bytes.size() + (l.partial ? 0 : 1);
    if (expected.size() - at < need) {
      expected.erase(0, at);
      at = 0;
      check.fill(expected, 4 * kRead);
    }
    same = expected.compare(at, l.bytes.size(), l.bytes) == 0 &&
           (l.partial || expected[at + l.bytes.size()] == '\n');
    at += need;
    read += need;
    return same;
  });
  auto done = std::chrono::steady_clock::now();
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_TRUE(same) << "mismatch at byte " << read;
  EXPECT_EQ(read, written);
  std::printf("writer %.0f MB/s, reader %.0f MB/s (200 MB)\n", mbPerSecond(written, wrote - start),
              mbPerSecond(read, done - wrote));
}

}  // namespace
}  // namespace berth::agent::logs
