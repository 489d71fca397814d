// Attach framing: the client -> shim decoder, fed the way a socket delivers
// bytes (any split), and the shim -> client header encoding.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "agent/shim/attach_protocol.h"
#include "agent/shim/launch.h"

namespace berth::agent::shim {
namespace {

struct Recorder : FrameDecoder::Handler {
  std::string stdinBytes;
  int closes = 0;
  std::vector<std::pair<int, int>> sizes;
  void onStdin(std::string_view data) override { stdinBytes.append(data); }
  void onCloseStdin() override { ++closes; }
  void onResize(WindowSize s) override { sizes.emplace_back(s.rows, s.cols); }
};

std::string frame(FrameType type, std::string_view payload) {
  unsigned char h[kFrameHeaderSize];
  encodeFrameHeader(type, static_cast<uint32_t>(payload.size()), h);
  return std::string(reinterpret_cast<char*>(h), sizeof(h)) + std::string(payload);
}

std::string resizeFrame(uint16_t rows, uint16_t cols) {
  unsigned char p[4];
  encodeResize({rows, cols}, p);
  return frame(FrameType::kResize, std::string_view(reinterpret_cast<char*>(p), 4));
}

TEST(AttachProtocol, HeaderIsTypeThenLittleEndianLength) {
  unsigned char h[kFrameHeaderSize];
  encodeFrameHeader(FrameType::kStderr, 0x01020304, h);
  EXPECT_EQ(h[0], 2);
  EXPECT_EQ(h[1], 0x04);
  EXPECT_EQ(h[2], 0x03);
  EXPECT_EQ(h[3], 0x02);
  EXPECT_EQ(h[4], 0x01);
}

TEST(AttachProtocol, DecodesEveryFrameAtEverySplit) {
  std::string stream = frame(FrameType::kStdin, "hello ") + resizeFrame(40, 100) + frame(FrameType::kStdin, "") +
                       frame(FrameType::kStdin, "world\n") + frame(FrameType::kCloseStdin, "");
  // Byte by byte, and every two-piece split.
  for (size_t split = 0; split <= stream.size(); ++split) {
    Recorder r;
    FrameDecoder d;
    ASSERT_TRUE(d.feed(std::string_view(stream).substr(0, split), r));
    ASSERT_TRUE(d.feed(std::string_view(stream).substr(split), r));
    EXPECT_EQ(r.stdinBytes, "hello world\n") << split;
    EXPECT_EQ(r.closes, 1) << split;
    ASSERT_EQ(r.sizes.size(), 1u);
    EXPECT_EQ(r.sizes[0], std::make_pair(40, 100));
  }
  Recorder r;
  FrameDecoder d;
  for (char c : stream) ASSERT_TRUE(d.feed(std::string_view(&c, 1), r));
  EXPECT_EQ(r.stdinBytes, "hello world\n");
}

TEST(AttachProtocol, RejectsMalformedFrames) {
  std::string oversized(kFrameHeaderSize, '\0');
  unsigned char h[kFrameHeaderSize];
  encodeFrameHeader(FrameType::kStdin, kMaxFramePayload + 1, h);
  oversized.assign(reinterpret_cast<char*>(h), sizeof(h));
  const std::vector<std::string> bad = {
      std::string("\x63\0\0\0\0", 5),          // unknown type
      frame(FrameType::kStdout, "x"),          // a shim -> client type
      frame(FrameType::kResize, "abc"),        // wrong resize size
      frame(FrameType::kCloseStdin, "x"),      // close-stdin with payload
      oversized,
  };
  for (const auto& b : bad) {
    Recorder r;
    FrameDecoder d;
    EXPECT_FALSE(d.feed(b, r));
    EXPECT_TRUE(r.stdinBytes.empty());
    // Once broken, it stays broken: no resynchronising on garbage.
    EXPECT_FALSE(d.feed(frame(FrameType::kStdin, "x"), r));
    EXPECT_TRUE(r.stdinBytes.empty());
  }
}

TEST(LaunchReport, RoundTripsStartedAndErrors) {
  auto ok = parseLaunchReport(encodeStartedReport({1234, 1200}));
  ASSERT_TRUE(ok) << ok.error().str();
  EXPECT_EQ(ok->initPid, 1234);
  EXPECT_EQ(ok->shimPid, 1200);

  auto err = parseLaunchReport(encodeErrorReport(sys::Error(ENOENT, "exec /nope\nin container")));
  ASSERT_FALSE(err);
  EXPECT_EQ(err.error().code(), ENOENT);
  EXPECT_EQ(err.error().what(), "exec /nope in container");

  for (const char* bad : {"", "started", "started 1", "started x 2", "started 0 5", "error x y", "hello"}) {
    auto r = parseLaunchReport(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().what().find("malformed"), std::string::npos) << bad;
  }
}

}  // namespace
}  // namespace berth::agent::shim
