// logs_bench: measures the container log path of berth (agent/logs). Built
// and run by hack/bench/logs.sh; no CMake target: the script compiles it
// together with the agent/logs sources (c++ -O2), gtest-free.
//
// Usage:
//   logs_bench write DIR [--bytes N] [--max-size N] [--max-files N] [--pipe-size N]
//       Reads stdin (a pipe: `yes | logs_bench write DIR`) with
//       LogWriter::pump, as berth-shim does with a container's stdout, into
//       DIR/bench.log (rotating), until EOF or N bytes (rounded up to a read). --pipe-size enlarges
//       the pipe (F_SETPIPE_SZ) like the shim may.
//   logs_bench read DIR
//       Reads the whole log back line by line (readLogs).
// Prints one line: "<mode> <bytes> bytes <seconds> s <MB/s> MB/s <lines> lines".
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "agent/logs/reader.h"
#include "agent/logs/writer.h"

namespace {

using berth::agent::logs::LogLine;
using berth::agent::logs::LogWriter;
using berth::agent::logs::Stream;
using berth::agent::logs::WriterOptions;

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "logs_bench: %s\n", message.c_str());
  std::exit(1);
}

uint64_t number(const char* text) {
  char* end = nullptr;
  unsigned long long v = std::strtoull(text, &end, 10);
  if (end == text) die(std::string("bad number ") + text);
  switch (*end) {
    case 'k':
    case 'K':
      v <<= 10;
      break;
    case 'm':
    case 'M':
      v <<= 20;
      break;
    case 'g':
    case 'G':
      v <<= 30;
      break;
    case '\0':
      break;
    default:
      die(std::string("bad number ") + text);
  }
  return v;
}

void report(const char* mode, uint64_t bytes, uint64_t lines,
            std::chrono::steady_clock::time_point start) {
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%s %llu bytes %.3f s %.1f MB/s %llu lines\n", mode,
              static_cast<unsigned long long>(bytes), secs, static_cast<double>(bytes) / 1e6 / secs,
              static_cast<unsigned long long>(lines));
}

int writeMode(const std::string& dir, int argc, char** argv) {
  uint64_t limit = UINT64_MAX;
  WriterOptions opts;
  for (int i = 0; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    uint64_t v = number(argv[i + 1]);
    if (flag == "--bytes")
      limit = v;
    else if (flag == "--max-size")
      opts.maxSizeBytes = v;
    else if (flag == "--max-files")
      opts.maxFiles = static_cast<unsigned>(v);
    else if (flag == "--pipe-size")
      (void)::fcntl(0, F_SETPIPE_SZ, static_cast<int>(v));
    else
      die("unknown flag " + flag);
  }
  auto writer = LogWriter::open(dir, "bench", opts);
  if (!writer) die(writer.error().str());
  auto start = std::chrono::steady_clock::now();
  uint64_t total = 0;
  while (total < limit) {
    auto pumped = writer->pump(0, Stream::kStdout);
    if (!pumped) die(pumped.error().str());
    if (pumped->eof) break;
    total += pumped->bytes;
  }
  report("write", total, 0, start);
  return 0;
}

int readMode(const std::string& dir) {
  auto start = std::chrono::steady_clock::now();
  uint64_t bytes = 0, lines = 0;
  auto r = berth::agent::logs::readLogs(dir, "bench", {}, [&](const LogLine& l) {
    bytes += l.bytes.size() + (l.partial ? 0 : 1);
    lines += l.partial ? 0 : 1;
    return true;
  });
  if (!r) die(r.error().str());
  report("read", bytes, lines, start);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) die("usage: logs_bench write|read DIR [flags]");
  std::string mode = argv[1], dir = argv[2];
  if (mode == "write") return writeMode(dir, argc - 3, argv + 3);
  if (mode == "read") return readMode(dir);
  die("unknown mode " + mode);
}
