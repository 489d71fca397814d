// Unit tests for rotation at line boundaries: the writer never splits a line
// across files below its slack, a longer line is split with its rest marked,
// and readers never hand out the fragment of a line whose beginning is gone
// (from current writers, and from files of older writers that rotated
// mid-line).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
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
using testing::TempDir;

struct FileRecords {
  std::vector<RecordHeader> headers;
  std::string bytes;  // the payloads joined
};

FileRecords recordsOf(const std::string& path) {
  FileRecords out;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  EXPECT_GE(fd, 0) << path;
  RecordScanner s(fd);
  RecordHeader h;
  std::string_view payload;
  while (s.next(&h, &payload).value() == RecordScanner::Status::kRecord) {
    out.headers.push_back(h);
    out.bytes += payload;
  }
  ::close(fd);
  return out;
}

// Lines of 20 .. 300 bytes with their number in front.
std::string someLines(int count) {
  std::string out;
  for (int i = 0; i < count; ++i) {
    std::string line = "line " + std::to_string(i) + " ";
    line.append(static_cast<size_t>(15 + (i * 7919) % 285), static_cast<char>('a' + i % 26));
    out += line + "\n";
  }
  return out;
}

TEST(LogRotation, NeverSplitsALineShorterThanTheSlack) {
  TempDir dir;
  WriterOptions opts;
  opts.maxSizeBytes = 4096;
  opts.maxFiles = 1000;
  LogWriter w = openWriter(dir.path(), "c", opts);
  std::string all = someLines(2000);
  // Chunks that cut lines anywhere, as reads of a pipe do.
  for (size_t off = 0, i = 0; off < all.size(); ++i) {
    size_t n = std::min(all.size() - off, size_t{97} + (i * 131) % 1500);
    ASSERT_TRUE(w.write(Stream::kStdout, std::string_view(all).substr(off, n), 1).ok());
    off += n;
  }
  unsigned files = 0;
  std::string joined;
  for (unsigned i = 999; i >= 1; --i) {
    std::string path = dir.file(logFileName("c", i));
    if (!sys::pathExists(path)) continue;
    ++files;
    FileRecords f = recordsOf(path);
    ASSERT_FALSE(f.headers.empty()) << path;
    // Each rotated file holds whole lines: it starts at a line and ends with '\n'.
    EXPECT_FALSE(f.headers.front().continuesLine()) << path;
    EXPECT_TRUE(f.headers.front().marksContinuation()) << path;
    EXPECT_EQ(f.bytes.back(), '\n') << path;
    // Past the limit only by the end of a line it was in the middle of.
    EXPECT_LE(std::filesystem::file_size(path), opts.maxSizeBytes + 300) << path;
    joined += f.bytes;
  }
  joined += recordsOf(dir.file("c.log")).bytes;
  EXPECT_GT(files, 50u);
  EXPECT_TRUE(joined == all) << "the files do not hold the output in order";
  EXPECT_EQ(testing::streamBytes(readLines(dir.path(), "c"), Stream::kStdout), all);
}

TEST(LogRotation, ALineInPiecesIsFinishedInItsFileWithinTheSlack) {
  TempDir dir;
  WriterOptions opts;
  opts.maxSizeBytes = 1000;
  opts.maxFiles = 10;
  opts.lineSlackBytes = 500;
  LogWriter w = openWriter(dir.path(), "c", opts);
  ASSERT_TRUE(w.write(Stream::kStdout, std::string(900, 'a') + "\n", 1).ok());
  // A line written in pieces that crosses the limit: no '\n' to cut at.
  ASSERT_TRUE(w.write(Stream::kStdout, std::string(60, 'b'), 2).ok());
  ASSERT_TRUE(w.write(Stream::kStdout, std::string(60, 'b'), 3).ok());
  ASSERT_TRUE(w.write(Stream::kStdout, "bb\nnext\n", 4).ok());
  FileRecords first = recordsOf(dir.file("c.log.1"));
  EXPECT_EQ(first.bytes, std::string(900, 'a') + "\n" + std::string(120, 'b') + "bb\n");
  FileRecords live = recordsOf(dir.file("c.log"));
  EXPECT_EQ(live.bytes, "next\n");
  EXPECT_FALSE(live.headers.front().continuesLine());
}

TEST(LogRotation, ALineLongerThanTheSlackIsSplitAndItsOrphanRestIsNotALine) {
  TempDir dir;
  WriterOptions opts;
  opts.maxSizeBytes = 1000;
  opts.maxFiles = 2;
  opts.lineSlackBytes = 500;
  LogWriter w = openWriter(dir.path(), "c", opts);
  ASSERT_TRUE(w.write(Stream::kStdout, "first\n", 1).ok());
  std::string longLine(3000, 'L');
  for (size_t i = 0; i < longLine.size(); i += 100) {
    ASSERT_TRUE(w.write(Stream::kStdout, std::string_view(longLine).substr(i, 100), 2).ok());
  }
  ASSERT_TRUE(w.write(Stream::kStdout, "\nwhole\n", 3).ok());
  // The live file begins with the rest of the long line, flagged.
  FileRecords live = recordsOf(dir.file("c.log"));
  ASSERT_FALSE(live.headers.empty());
  EXPECT_TRUE(live.headers.front().continuesLine());
  // Its beginning was rotated away (2 files kept): the fragment is dropped.
  std::vector<Line> lines = readLines(dir.path(), "c");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].bytes, "whole");
  EXPECT_FALSE(lines[0].partial);
}

TEST(LogRotation, TheRestOfASplitLineJoinsItsBeginningWhenBothAreKept) {
  TempDir dir;
  WriterOptions opts;
  opts.maxSizeBytes = 1000;
  opts.maxFiles = 10;
  opts.lineSlackBytes = 500;
  LogWriter w = openWriter(dir.path(), "c", opts);
  std::string longLine(3000, 'L');
  for (size_t i = 0; i < longLine.size(); i += 100) {
    ASSERT_TRUE(w.write(Stream::kStdout, std::string_view(longLine).substr(i, 100), 2).ok());
  }
  ASSERT_TRUE(w.write(Stream::kStdout, "\nwhole\n", 3).ok());
  EXPECT_TRUE(sys::pathExists(dir.file("c.log.1")));
  std::string out = testing::streamBytes(readLines(dir.path(), "c"), Stream::kStdout);
  EXPECT_TRUE(out == longLine + "\nwhole\n");
}

// --- files of older writers: no continuation flags, rotated mid-line.

void appendRaw(const std::string& path, std::string_view bytes) {
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  ::close(fd);
}

// A record as writers before continuation flags wrote it.
std::string oldRecord(std::string_view payload, int64_t time, Stream stream = Stream::kStdout) {
  RecordHeader h;
  h.length = static_cast<uint32_t>(payload.size());
  h.timeNs = time;
  h.stream = stream;
  h.flags = payload.back() == '\n' ? 0 : kFlagEndsMidLine;
  unsigned char buf[kHeaderSize];
  encodeHeader(h, buf);
  return std::string(reinterpret_cast<char*>(buf), kHeaderSize) + std::string(payload);
}

std::vector<std::string> texts(const std::vector<Line>& lines) {
  std::vector<std::string> out;
  for (const Line& l : lines) out.push_back(l.bytes + (l.partial ? "<partial>" : ""));
  return out;
}

TEST(LogRotation, AnOldRotatedFileStartingMidLineDoesNotPrintTheFragment) {
  TempDir dir;
  // .log.4 is the oldest left; the older writer rotated in the middle of
  // "...gment" (and of a stderr line), whose beginning went with .log.5.
  appendRaw(dir.file("c.log.4"), oldRecord("gment", 1));
  appendRaw(dir.file("c.log.4"), oldRecord(" still the fragment\nwhole 1\n", 1));
  appendRaw(dir.file("c.log.4"), oldRecord("err rest\nerr whole\n", 1, Stream::kStderr));
  appendRaw(dir.file("c.log.4"), oldRecord("whole 2\nhal", 2));
  appendRaw(dir.file("c.log.3"), oldRecord("f\nwhole 3\n", 3));
  appendRaw(dir.file("c.log"), oldRecord("whole 4\n", 4));
  EXPECT_EQ(texts(readLines(dir.path(), "c")),
            (std::vector<std::string>{"whole 1", "err whole", "whole 2", "hal<partial>", "f",
                                      "whole 3", "whole 4"}));
  // --tail reaching back to the start of the log drops it too.
  ReadOptions o;
  o.tailLines = 100;
  EXPECT_EQ(readLines(dir.path(), "c", o).front().bytes, "whole 1");
}

TEST(LogRotation, AnOldLiveFileThatWasNeverRotatedKeepsItsFirstLine) {
  TempDir dir;
  appendRaw(dir.file("c.log"), oldRecord("first\nsecond\n", 1));
  EXPECT_EQ(texts(readLines(dir.path(), "c")), (std::vector<std::string>{"first", "second"}));
}

TEST(LogRotation, ANewWriterContinuingAnOldFileMarksItsRecords) {
  TempDir dir;
  appendRaw(dir.file("c.log"), oldRecord("prompt: ", 1));
  LogWriter w = openWriter(dir.path(), "c");
  ASSERT_TRUE(w.write(Stream::kStdout, "answer\n", 2).ok());
  FileRecords f = recordsOf(dir.file("c.log"));
  ASSERT_EQ(f.headers.size(), 2u);
  EXPECT_TRUE(f.headers[1].marksContinuation());
  EXPECT_TRUE(f.headers[1].continuesLine());
  EXPECT_EQ(texts(readLines(dir.path(), "c")), (std::vector<std::string>{"prompt: <partial>", "answer"}));
}

}  // namespace
}  // namespace berth::agent::logs
