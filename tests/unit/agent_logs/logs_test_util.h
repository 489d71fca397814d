// Helpers shared by the agent/logs unit tests: a self-removing temporary
// directory and a reader that collects lines into values.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "agent/logs/reader.h"
#include "agent/logs/writer.h"
#include "runtime/sys/fs.h"

namespace berth::agent::logs::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = "/tmp/berth-logs-" + std::to_string(::getpid()) + "-XXXXXX";
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { (void)sys::removeAll(path_); }
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

struct Line {
  int64_t timeNs;
  Stream stream;
  std::string bytes;
  bool partial;
  bool operator==(const Line&) const = default;
};

inline std::vector<Line> readLines(const std::string& dir, const std::string& base,
                                   const ReadOptions& options = {}) {
  std::vector<Line> lines;
  auto result = readLogs(dir, base, options, [&](const LogLine& l) {
    lines.push_back({l.timeNs, l.stream, std::string(l.bytes), l.partial});
    return true;
  });
  EXPECT_TRUE(result.ok()) << result.error().str();
  return lines;
}

// The bytes of one stream as the container wrote them: pieces joined, each
// complete line given back its '\n'.
inline std::string streamBytes(const std::vector<Line>& lines, Stream stream) {
  std::string out;
  for (const Line& l : lines) {
    if (l.stream != stream) continue;
    out += l.bytes;
    if (!l.partial) out += '\n';
  }
  return out;
}

inline LogWriter openWriter(const std::string& dir, const std::string& base,
                            WriterOptions options = {}) {
  auto w = LogWriter::open(dir, base, options);
  EXPECT_TRUE(w.ok()) << w.error().str();
  return std::move(w).value();
}

}  // namespace berth::agent::logs::testing
