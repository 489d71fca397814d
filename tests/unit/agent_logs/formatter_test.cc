// Unit tests for LineFormatter (what `berth logs` prints) and the RFC 3339
// timestamps of --timestamps.
#include "agent/logs/formatter.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace berth::agent::logs {
namespace {

TEST(Rfc3339Nano, FormatsLikeGo) {
  EXPECT_EQ(formatRfc3339Nano(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(formatRfc3339Nano(1714564800123456789), "2024-05-01T12:00:00.123456789Z");
  EXPECT_EQ(formatRfc3339Nano(1714564800500000000), "2024-05-01T12:00:00.5Z");
  EXPECT_EQ(formatRfc3339Nano(1714564800000000100), "2024-05-01T12:00:00.0000001Z");
  EXPECT_EQ(formatRfc3339Nano(-1), "1969-12-31T23:59:59.999999999Z");
}

// Collects output as (stream, bytes) pieces, merging consecutive ones.
struct Capture {
  std::vector<std::pair<Stream, std::string>> out;
  LineFormatter::Output output() {
    return [this](Stream s, std::string_view b) -> sys::Result<void> {
      if (!out.empty() && out.back().first == s) {
        out.back().second += b;
      } else {
        out.emplace_back(s, std::string(b));
      }
      return sys::ok();
    };
  }
};

LogLine line(Stream s, std::string_view bytes, bool partial = false, int64_t t = 0) {
  return LogLine{t, s, bytes, partial};
}

TEST(LineFormatter, PlainSendsEachStreamToItsOwnOutput) {
  Capture c;
  LineFormatter f(c.output());
  ASSERT_TRUE(f.add(line(Stream::kStdout, "a")).ok());
  ASSERT_TRUE(f.add(line(Stream::kStdout, "b")).ok());
  ASSERT_TRUE(f.add(line(Stream::kStderr, "e")).ok());
  ASSERT_TRUE(f.add(line(Stream::kStdout, "")).ok());
  ASSERT_TRUE(f.flush().ok());
  std::vector<std::pair<Stream, std::string>> want = {
      {Stream::kStdout, "a\nb\n"}, {Stream::kStderr, "e\n"}, {Stream::kStdout, "\n"}};
  EXPECT_EQ(c.out, want);
}

TEST(LineFormatter, JoinsPiecesSoOtherLinesDoNotCutThem) {
  Capture c;
  LineFormatter f(c.output(), {.timestamps = true});
  const int64_t t1 = 1714564800000000001, t2 = 1714564801000000000;
  ASSERT_TRUE(f.add(line(Stream::kStdout, "hel", true, t1)).ok());
  ASSERT_TRUE(f.add(line(Stream::kStderr, "err", false, t2)).ok());
  ASSERT_TRUE(f.add(line(Stream::kStdout, "lo", false, t2)).ok());
  ASSERT_TRUE(f.flush().ok());
  std::vector<std::pair<Stream, std::string>> want = {
      {Stream::kStderr, "2024-05-01T12:00:01Z err\n"},
      {Stream::kStdout, "2024-05-01T12:00:00.000000001Z hello\n"}};
  EXPECT_EQ(c.out, want);
}

TEST(LineFormatter, FlushPrintsAnUnfinishedLineOnceWithItsPrefix) {
  Capture c;
  LineFormatter f(c.output(), {.timestamps = true});
  ASSERT_TRUE(f.add(line(Stream::kStdout, "Name? ", true, 0)).ok());
  ASSERT_TRUE(f.flush().ok());
  ASSERT_TRUE(f.add(line(Stream::kStdout, "Bob", false, 5)).ok());
  ASSERT_TRUE(f.add(line(Stream::kStdout, "end", true, 6)).ok());
  ASSERT_TRUE(f.flush().ok());
  ASSERT_EQ(c.out.size(), 1u);
  EXPECT_EQ(c.out[0].second, "1970-01-01T00:00:00Z Name? Bob\n1970-01-01T00:00:00.000000006Z end");
}

TEST(LineFormatter, AVeryLongLineIsNotHeldForever) {
  Capture c;
  LineFormatter f(c.output(), {.timestamps = false, .maxHeldLine = 10});
  ASSERT_TRUE(f.add(line(Stream::kStdout, "0123456789abc", true)).ok());
  ASSERT_TRUE(f.add(line(Stream::kStderr, "e")).ok());
  ASSERT_TRUE(f.add(line(Stream::kStdout, "def")).ok());
  ASSERT_TRUE(f.flush().ok());
  std::vector<std::pair<Stream, std::string>> want = {
      {Stream::kStdout, "0123456789abc"}, {Stream::kStderr, "e\n"}, {Stream::kStdout, "def\n"}};
  EXPECT_EQ(c.out, want);
}

TEST(LineFormatter, OutputErrorsComeBack) {
  LineFormatter f([](Stream, std::string_view) -> sys::Result<void> {
    return sys::Error(EPIPE, "write log to stdout");
  });
  ASSERT_TRUE(f.add(line(Stream::kStdout, "x")).ok());
  auto r = f.flush();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), EPIPE);
}

TEST(LineFormatter, FdOutputWritesToTheGivenDescriptors) {
  int out[2], err[2];
  ASSERT_EQ(::pipe(out), 0);
  ASSERT_EQ(::pipe(err), 0);
  LineFormatter f(LineFormatter::fdOutput(out[1], err[1]));
  ASSERT_TRUE(f.add(line(Stream::kStdout, "o")).ok());
  ASSERT_TRUE(f.add(line(Stream::kStderr, "e")).ok());
  ASSERT_TRUE(f.flush().ok());
  char buf[16];
  EXPECT_EQ(::read(out[0], buf, sizeof buf), 2);
  EXPECT_EQ(std::string(buf, 2), "o\n");
  EXPECT_EQ(::read(err[0], buf, sizeof buf), 2);
  EXPECT_EQ(std::string(buf, 2), "e\n");
  for (int fd : {out[0], out[1], err[0], err[1]}) ::close(fd);
}

}  // namespace
}  // namespace berth::agent::logs
