// Unit tests for LogWriter and readLogs without following: round trips,
// stream order, long lines, binary data, rotation, --tail, --since and the
// repair of what a crash leaves behind.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "agent/logs/files.h"
#include "agent/logs/scanner.h"
#include "logs_test_util.h"

namespace berth::agent::logs {
namespace {

using testing::Line;
using testing::openWriter;
using testing::readLines;
using testing::streamBytes;
using testing::TempDir;

uint64_t fileSize(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

std::string numbered(int i) {
  return "line " + std::to_string(i);
}

// Writes lines numbered [from, to), one record per line, at time = number.
void writeNumbered(LogWriter& w, int from, int to) {
  for (int i = from; i < to; ++i) {
    ASSERT_TRUE(w.write(Stream::kStdout, numbered(i) + "\n", i).ok());
  }
}

// The numbers of the lines read, which must all be "line <n>".
std::vector<int> numbersOf(const std::vector<Line>& lines) {
  std::vector<int> out;
  for (const Line& l : lines) {
    EXPECT_EQ(l.bytes.rfind("line ", 0), 0u) << l.bytes;
    out.push_back(std::stoi(l.bytes.substr(5)));
  }
  return out;
}

std::vector<int> range(int from, int to) {
  std::vector<int> out;
  for (int i = from; i < to; ++i) out.push_back(i);
  return out;
}

TEST(LogWriter, RoundTripsLinesWithStreamAndTime) {
  TempDir dir;
  LogWriter w = openWriter(dir.path(), "c");
  ASSERT_TRUE(w.write(Stream::kStdout, "hello\nworld\n", 100).ok());
  ASSERT_TRUE(w.write(Stream::kStderr, "oops\n", 200).ok());
  ASSERT_TRUE(w.write(Stream::kStdout, "\n", 300).ok());
  ASSERT_TRUE(w.write(Stream::kStdout, "", 400).ok());  // writes nothing
  std::vector<Line> expected = {{100, Stream::kStdout, "hello", false},
                                {100, Stream::kStdout, "world", false},
                                {200, Stream::kStderr, "oops", false},
                                {300, Stream::kStdout, "", false}};
  EXPECT_EQ(readLines(dir.path(), "c"), expected);
  EXPECT_EQ(fileSize(dir.file("c.log")), 3 * kHeaderSize + 18);
}

TEST(LogWriter, KeepsTheOrderOfInterleavedStreams) {
  TempDir dir;
  LogWriter w = openWriter(dir.path(), "c");
  for (int i = 0; i < 1000; ++i) {
    Stream s = (i * 7 % 3 == 0) ? Stream::kStderr : Stream::kStdout;
    ASSERT_TRUE(w.write(s, numbered(i) + "\n", i).ok());
  }
  std::vector<Line> lines = readLines(dir.path(), "c");
  ASSERT_EQ(numbersOf(lines), range(0, 1000));
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(lines[i].stream, (i * 7 % 3 == 0) ? Stream::kStderr : Stream::kStdout);
  }
}

TEST(LogWriter, PiecesOfALineArePartial) {
  TempDir dir;
  LogWriter w = openWriter(dir.path(), "c");
  ASSERT_TRUE(w.write(Stream::kStdout, "Name? ", 1).ok());
  ASSERT_TRUE(w.write(Stream::kStderr, "warn\n", 2).ok());
  ASSERT_TRUE(w.write(Stream::kStdout, "Bob\nnext", 3).ok());
  std::vector<Line> expected = {{1, Stream::kStdout, "Name? ", true},
                                {2, Stream::kStderr, "warn", false},
                                {3, Stream::kStdout, "Bob", false},
                                {3, Stream::kStdout, "next", true}};
  EXPECT_EQ(readLines(dir.path(), "c"), expected);
}

TEST(LogWriter, SplitsReadsLongerThanARecord) {
  TempDir dir;
  LogWriter w = openWriter(dir.path(), "c");
  std::string longLine(3 * kMaxPayload + 123, 'x');
  for (size_t i = 0; i < longLine.size(); i += 4096) longLine[i] = static_cast<char>('a' + i % 26);
  ASSERT_TRUE(w.write(Stream::kStdout, longLine + "\n", 5).ok());
  std::vector<Line> lines = readLines(dir.path(), "c");
  ASSERT_EQ(lines.size(), 4u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(lines[i].partial);
    EXPECT_EQ(lines[i].bytes.size(), kMaxPayload);
  }
  EXPECT_FALSE(lines[3].partial);
  EXPECT_EQ(streamBytes(lines, Stream::kStdout), longLine + "\n");
  // Four records, one write.
  EXPECT_EQ(fileSize(dir.file("c.log")), 4 * kHeaderSize + longLine.size() + 1);
}

TEST(LogWriter, BinaryDataSurvivesByteForByte) {
  TempDir dir;
  LogWriter w = openWriter(dir.path(), "c");
  std::string data;
  for (int round = 0; round < 50; ++round) {
    for (int b = 0; b < 256; ++b) data += static_cast<char>((b * 131 + round) & 0xff);
  }
  for (size_t i = 0; i < data.size(); i += 777) {
    ASSERT_TRUE(w.write(Stream::kStderr, std::string_view(data).substr(i, 777), 1).ok());
  }
  EXPECT_EQ(streamBytes(readLines(dir.path(), "c"), Stream::kStderr), data);
}

TEST(LogWriter, RotatesAtExactRecordBoundaries) {
  TempDir dir;
  // "line NNNN\n" = 10 bytes: 26-byte records, 10 per file exactly.
  WriterOptions opts;
  opts.maxSizeBytes = 10 * (kHeaderSize + 10);
  opts.maxFiles = 4;
  LogWriter w = openWriter(dir.path(), "c", opts);
  writeNumbered(w, 1000, 1095);  // 9.5 files' worth
  for (unsigned i = 0; i < 4; ++i) {
    std::string name = logFileName("c", i);
    uint64_t size = fileSize(dir.file(name));
    EXPECT_EQ(size, i == 0 ? 5 * 26u : 10 * 26u) << name;
  }
  EXPECT_FALSE(sys::pathExists(dir.file("c.log.4")));
  EXPECT_FALSE(sys::pathExists(dir.file("c.log.new")));
  // The newest 35 lines are kept, in order, none torn.
  EXPECT_EQ(numbersOf(readLines(dir.path(), "c")), range(1060, 1095));
}

TEST(LogWriter, ARecordBiggerThanTheLimitGetsAFileOfItsOwn) {
  TempDir dir;
  WriterOptions opts;
  opts.maxSizeBytes = 100;
  opts.maxFiles = 3;
  LogWriter w = openWriter(dir.path(), "c", opts);
  std::string big(1000, 'b');
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(w.write(Stream::kStdout, big + std::to_string(i) + "\n", i).ok());
  }
  for (unsigned i = 0; i < 3; ++i) {
    EXPECT_EQ(fileSize(dir.file(logFileName("c", i))), kHeaderSize + 1002) << i;
  }
  std::vector<Line> lines = readLines(dir.path(), "c");
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].bytes, big + "2");
  EXPECT_EQ(lines[2].bytes, big + "4");
}

TEST(LogWriter, OneFileMeansTheLiveFileOnly) {
  TempDir dir;
  WriterOptions opts;
  opts.maxSizeBytes = 5 * 26;
  opts.maxFiles = 1;
  LogWriter w = openWriter(dir.path(), "c", opts);
  writeNumbered(w, 1000, 1012);
  EXPECT_FALSE(sys::pathExists(dir.file("c.log.1")));
  EXPECT_EQ(numbersOf(readLines(dir.path(), "c")), range(1010, 1012));
}

TEST(LogWriter, PumpsAPipeUntilItsEnd) {
  TempDir dir;
  LogWriter w = openWriter(dir.path(), "c");
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  ASSERT_EQ(::write(p[1], "out\nmore", 8), 8);
  auto pumped = w.pump(p[0], Stream::kStderr);
  ASSERT_TRUE(pumped.ok()) << pumped.error().str();
  EXPECT_EQ(pumped->bytes, 8u);
  EXPECT_FALSE(pumped->eof);
  // A non-blocking pipe with nothing in it is not the end.
  ASSERT_EQ(::fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
  pumped = w.pump(p[0], Stream::kStderr);
  ASSERT_TRUE(pumped.ok());
  EXPECT_EQ(pumped->bytes, 0u);
  EXPECT_FALSE(pumped->eof);
  ::close(p[1]);
  pumped = w.pump(p[0], Stream::kStderr);
  ::close(p[0]);
  ASSERT_TRUE(pumped.ok());
  EXPECT_TRUE(pumped->eof);
  std::vector<Line> lines = readLines(dir.path(), "c");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], (Line{lines[0].timeNs, Stream::kStderr, "out", false}));
  EXPECT_EQ(lines[1].bytes, "more");
  EXPECT_NEAR(static_cast<double>(lines[0].timeNs), static_cast<double>(LogWriter::nowNs()), 60e9);
}

TEST(LogWriter, RejectsBadNamesAndSettings) {
  TempDir dir;
  EXPECT_FALSE(LogWriter::open(dir.path(), "a/b").ok());
  EXPECT_FALSE(LogWriter::open(dir.path(), "").ok());
  WriterOptions none;
  none.maxFiles = 0;
  EXPECT_FALSE(LogWriter::open(dir.path(), "c", none).ok());
  auto missing = LogWriter::open(dir.path() + "/nope", "c");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ENOENT);
  EXPECT_NE(missing.error().str().find("/nope"), std::string::npos);
}

TEST(LogWriter, ContinuesAnExistingLog) {
  TempDir dir;
  {
    LogWriter w = openWriter(dir.path(), "c");
    writeNumbered(w, 1000, 1010);
  }
  LogWriter w = openWriter(dir.path(), "c");
  EXPECT_EQ(w.size(), 10 * 26u);
  writeNumbered(w, 1010, 1020);
  EXPECT_EQ(numbersOf(readLines(dir.path(), "c")), range(1000, 1020));
}

TEST(LogReader, MissingLogIsEmptyButMissingDirectoryIsAnError) {
  TempDir dir;
  EXPECT_TRUE(readLines(dir.path(), "c").empty());
  auto result = readLogs(dir.path() + "/nope", "c", {}, [](const LogLine&) { return true; });
  EXPECT_FALSE(result.ok());
}

TEST(LogReader, SinkCanStopEarly) {
  TempDir dir;
  LogWriter w = openWriter(dir.path(), "c");
  writeNumbered(w, 1000, 1100);
  int seen = 0;
  auto r = readLogs(dir.path(), "c", {}, [&](const LogLine&) { return ++seen < 7; });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(seen, 7);
}

class TailTest : public ::testing::Test {
 protected:
  // 95 lines, one record each, over 4 files of 10 records: 35 are kept
  // (1060..1094), the live file holding the last 5.
  void SetUp() override {
    WriterOptions opts;
    opts.maxSizeBytes = 10 * (kHeaderSize + 10);
    opts.maxFiles = 4;
    LogWriter w = openWriter(dir_.path(), "c", opts);
    writeNumbered(w, 1000, 1095);
  }
  std::vector<int> tail(uint64_t n, int64_t since = 0) {
    ReadOptions o;
    o.tailLines = n;
    o.sinceNs = since;
    return numbersOf(readLines(dir_.path(), "c", o));
  }
  TempDir dir_;
};

TEST_F(TailTest, LastLinesAcrossRotatedFiles) {
  EXPECT_EQ(tail(0), std::vector<int>{});
  EXPECT_EQ(tail(1), range(1094, 1095));
  EXPECT_EQ(tail(5), range(1090, 1095));   // exactly the live file
  EXPECT_EQ(tail(6), range(1089, 1095));   // one from .log.1
  EXPECT_EQ(tail(15), range(1080, 1095));  // .log.1 and .log.2 boundary
  EXPECT_EQ(tail(34), range(1061, 1095));
  EXPECT_EQ(tail(35), range(1060, 1095));
  EXPECT_EQ(tail(1000), range(1060, 1095));
}

TEST_F(TailTest, TailAppliesToLinesSinceTheTime) {
  EXPECT_EQ(tail(10, 1090), range(1090, 1095));
  EXPECT_EQ(tail(3, 1070), range(1092, 1095));
  ReadOptions o;
  o.sinceNs = 1077;
  EXPECT_EQ(numbersOf(readLines(dir_.path(), "c", o)), range(1077, 1095));
  o.sinceNs = 5000;
  EXPECT_TRUE(readLines(dir_.path(), "c", o).empty());
}

TEST(LogReader, TailStartsInsideRecordsAndCountsAnUnfinishedLine) {
  TempDir dir;
  LogWriter w = openWriter(dir.path(), "c");
  ASSERT_TRUE(w.write(Stream::kStdout, "a\nb\nc\n", 1).ok());
  ASSERT_TRUE(w.write(Stream::kStderr, "d\ne", 2).ok());
  ReadOptions o;
  o.tailLines = 2;
  std::vector<Line> expected = {{2, Stream::kStderr, "d", false}, {2, Stream::kStderr, "e", true}};
  EXPECT_EQ(readLines(dir.path(), "c", o), expected);
  o.tailLines = 3;
  EXPECT_EQ(readLines(dir.path(), "c", o).front(), (Line{1, Stream::kStdout, "c", false}));
  o.tailLines = 5;
  EXPECT_EQ(readLines(dir.path(), "c", o).size(), 5u);
  o.tailLines = 6;
  EXPECT_EQ(readLines(dir.path(), "c", o).size(), 5u);
}

// Appends raw bytes to a file, as a crash may have left them.
void appendRaw(const std::string& path, std::string_view bytes) {
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  ::close(fd);
}

std::string encodedRecord(std::string_view payload, int64_t time) {
  RecordHeader h;
  h.length = static_cast<uint32_t>(payload.size());
  h.timeNs = time;
  h.flags = payload.back() == '\n' ? 0 : kFlagEndsMidLine;
  unsigned char buf[kHeaderSize];
  encodeHeader(h, buf);
  return std::string(reinterpret_cast<char*>(buf), kHeaderSize) + std::string(payload);
}

TEST(LogReader, SkipsATornLastRecordAndTheWriterCutsItOff) {
  TempDir dir;
  {
    LogWriter w = openWriter(dir.path(), "c");
    writeNumbered(w, 1000, 1010);
  }
  uint64_t good = fileSize(dir.file("c.log"));
  for (size_t cut : {size_t{3}, kHeaderSize, kHeaderSize + 4}) {
    ::truncate(dir.file("c.log").c_str(), static_cast<off_t>(good));
    appendRaw(dir.file("c.log"), encodedRecord("line 2000\n", 2000).substr(0, cut));
    EXPECT_EQ(numbersOf(readLines(dir.path(), "c")), range(1000, 1010)) << cut;
  }
  // A power cut may also leave zeros (the size grew, the data did not land).
  ::truncate(dir.file("c.log").c_str(), static_cast<off_t>(good + 100));
  EXPECT_EQ(numbersOf(readLines(dir.path(), "c")), range(1000, 1010));
  // Reopening repairs the file: new records follow the good ones.
  LogWriter w = openWriter(dir.path(), "c");
  writeNumbered(w, 1010, 1012);
  EXPECT_EQ(numbersOf(readLines(dir.path(), "c")), range(1000, 1012));
}

TEST(LogReader, StopsAFileAtCorruptionAndTheWriterStartsAFreshFile) {
  TempDir dir;
  {
    LogWriter w = openWriter(dir.path(), "c");
    writeNumbered(w, 1000, 1003);
  }
  appendRaw(dir.file("c.log"), "garbage that is not a record");
  appendRaw(dir.file("c.log"), encodedRecord("line 1003\n", 1003));
  EXPECT_EQ(numbersOf(readLines(dir.path(), "c")), range(1000, 1003));
  LogWriter w = openWriter(dir.path(), "c");
  EXPECT_EQ(w.size(), 0u);
  writeNumbered(w, 1004, 1006);
  EXPECT_EQ(numbersOf(readLines(dir.path(), "c")),
            (std::vector<int>{1000, 1001, 1002, 1004, 1005}));
}

TEST(LogWriter, FinishesARotationCutShortByACrash) {
  TempDir dir;
  WriterOptions opts;
  opts.maxFiles = 3;
  {
    LogWriter w = openWriter(dir.path(), "c", opts);
    writeNumbered(w, 1000, 1005);
  }
  // The crash came after .log was linked as .log.1, before the new .log.
  ASSERT_EQ(::link(dir.file("c.log").c_str(), dir.file("c.log.1").c_str()), 0);
  appendRaw(dir.file("c.log.new"), "");
  // Readers see each record once.
  EXPECT_EQ(numbersOf(readLines(dir.path(), "c")), range(1000, 1005));
  LogWriter w = openWriter(dir.path(), "c", opts);
  EXPECT_EQ(w.size(), 0u);
  EXPECT_FALSE(sys::pathExists(dir.file("c.log.new")));
  writeNumbered(w, 1005, 1007);
  EXPECT_EQ(numbersOf(readLines(dir.path(), "c")), range(1000, 1007));
}

}  // namespace
}  // namespace berth::agent::logs
