// Fuzz target: arbitrary bytes as a container log (agent/logs). The reader
// must not crash, hang or hand out more bytes than the file holds, with or
// without --tail/--since, over one file or split into a rotated pair; the
// writer's crash repair must accept whatever it finds and leave a log the
// reader reads again.
//
// Input: byte 0 selects the options (tail count, since, split); the rest is
// the file content ("<base>.log", or "<base>.log.1" + "<base>.log" split at
// a point derived from byte 0).
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "agent/logs/reader.h"
#include "agent/logs/writer.h"
#include "runtime/sys/fs.h"

namespace {

using namespace berth::agent::logs;

// A directory of its own per process, removed after every input: libFuzzer
// ends without running exit handlers, so nothing is left behind.
const std::string& scratchDir() {
  static const std::string dir =
      std::string(::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp") + "/berth-logs-fuzz-" +
      std::to_string(::getpid());
  return dir;
}

void put(const std::string& name, std::string_view bytes) {
  std::string path = scratchDir() + "/" + name;
  if (bytes.empty()) {
    ::unlink(path.c_str());
    return;
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0 || ::write(fd, bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size()))
    std::abort();
  ::close(fd);
}

// Reads the log with `options`; the bytes handed out never exceed the input.
void readAll(const ReadOptions& options, size_t inputSize) {
  size_t out = 0;
  auto r = readLogs(scratchDir(), "f", options, [&](const LogLine& l) {
    out += l.bytes.size() + (l.partial ? 0 : 1);
    if (l.stream != Stream::kStdout && l.stream != Stream::kStderr) std::abort();
    return true;
  });
  if (!r.ok() || out > inputSize) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  uint8_t mode = data[0];
  std::string_view content(reinterpret_cast<const char*>(data + 1), size - 1);
  if (::mkdir(scratchDir().c_str(), 0700) != 0 && errno != EEXIST) std::abort();
  size_t split = (mode & 0x80) ? content.size() * (mode & 0x0f) / 16 : 0;
  put("f.log.1", content.substr(0, split));
  put("f.log", content.substr(split));
  put("f.log.new", "");

  ReadOptions options;
  readAll(options, content.size());
  options.tailLines = (mode >> 4) & 0x07;
  readAll(options, content.size());
  options.tailLines.reset();
  options.sinceNs = static_cast<int64_t>(mode & 0x0f) << 56;
  readAll(options, content.size());

  // The writer's repair (truncating a torn tail, rotating a corrupt file
  // away) must cope, and what it leaves must read back.
  WriterOptions wopts;
  wopts.maxFiles = 3;
  {
    auto writer = LogWriter::open(scratchDir(), "f", wopts);
    if (!writer.ok()) std::abort();
    if (!writer->write(Stream::kStderr, "fuzz\n", 1).ok()) std::abort();
  }
  readAll(ReadOptions{}, content.size() + 5);
  if (!berth::sys::removeAll(scratchDir()).ok()) std::abort();
  return 0;
}
