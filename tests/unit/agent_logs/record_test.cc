// Unit tests for the log record header: round trip and rejection of
// anything that is not a header written by encodeHeader.
#include "agent/logs/record.h"

#include <gtest/gtest.h>

#include <cstring>

namespace berth::agent::logs {
namespace {

RecordHeader sample() {
  RecordHeader h;
  h.length = 4711;
  h.timeNs = 1714564800123456789;
  h.stream = Stream::kStderr;
  h.flags = kFlagEndsMidLine;
  return h;
}

TEST(Record, HeaderRoundTripsLittleEndian) {
  unsigned char buf[kHeaderSize];
  encodeHeader(sample(), buf);
  EXPECT_EQ(buf[0], 4711 & 0xff);
  EXPECT_EQ(buf[1], 4711 >> 8);
  EXPECT_EQ(buf[12], 2);
  EXPECT_EQ(buf[14], kMagic);
  RecordHeader out;
  ASSERT_TRUE(decodeHeader(buf, &out));
  EXPECT_EQ(out.length, 4711u);
  EXPECT_EQ(out.timeNs, 1714564800123456789);
  EXPECT_EQ(out.stream, Stream::kStderr);
  EXPECT_TRUE(out.endsMidLine());
}

TEST(Record, ZeroBytesAreNotAHeader) {
  unsigned char buf[kHeaderSize] = {};
  RecordHeader out;
  EXPECT_FALSE(decodeHeader(buf, &out));
}

TEST(Record, EverySingleByteChangeIsRejected) {
  unsigned char good[kHeaderSize];
  encodeHeader(sample(), good);
  for (size_t i = 0; i < kHeaderSize; ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      unsigned char bad[kHeaderSize];
      std::memcpy(bad, good, kHeaderSize);
      bad[i] ^= static_cast<unsigned char>(1 << bit);
      RecordHeader out;
      EXPECT_FALSE(decodeHeader(bad, &out)) << "byte " << i << " bit " << bit;
    }
  }
}

TEST(Record, FieldLimitsAreEnforced) {
  RecordHeader h = sample();
  unsigned char buf[kHeaderSize];
  RecordHeader out;
  h.length = 0;
  encodeHeader(h, buf);
  EXPECT_FALSE(decodeHeader(buf, &out));
  h.length = kMaxPayload + 1;
  encodeHeader(h, buf);
  EXPECT_FALSE(decodeHeader(buf, &out));
  h.length = kMaxPayload;
  encodeHeader(h, buf);
  EXPECT_TRUE(decodeHeader(buf, &out));
  h.stream = static_cast<Stream>(3);
  encodeHeader(h, buf);
  EXPECT_FALSE(decodeHeader(buf, &out));
  h.stream = Stream::kStdout;
  h.flags = 0x80;
  encodeHeader(h, buf);
  EXPECT_FALSE(decodeHeader(buf, &out));
}

TEST(Record, PayloadMustAgreeWithItsFlag) {
  RecordHeader h;
  h.length = 3;
  EXPECT_TRUE(payloadMatches(h, "ab\n"));
  EXPECT_FALSE(payloadMatches(h, "abc"));
  h.flags = kFlagEndsMidLine;
  EXPECT_TRUE(payloadMatches(h, "abc"));
  EXPECT_FALSE(payloadMatches(h, "ab\n"));
  EXPECT_FALSE(payloadMatches(h, "ab"));
}

}  // namespace
}  // namespace berth::agent::logs
