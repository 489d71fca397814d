// libFuzzer target for layer unpack: any byte string is fed as a layer blob
// (plain, gzip or zstd by its magic) and unpacked into a fresh temp dir,
// which is then removed. Layers are untrusted input from any registry: the
// unpacker must return a value or an error, never crash, hang, leak or write
// outside the directory (a sentinel beside it is checked on every input).
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "image/unpack/unpack.h"
#include "runtime/sys/fs.h"

namespace {

const std::string& scratch() {
  static const std::string dir = [] {
    // libFuzzer may end with _Exit (no atexit handlers): hack/run-fuzz.sh
    // points TMPDIR at a directory it removes itself.
    const char* tmp = std::getenv("TMPDIR");
    std::string d = std::string(tmp && *tmp ? tmp : "/tmp") + "/berth-unpack-fuzz-" + std::to_string(::getpid());
    (void)berth::sys::mkdirAll(d).ok();
    (void)berth::sys::writeFileAtomic(d + "/sentinel", "sentinel").ok();
    std::atexit([] { (void)berth::sys::removeAll(scratch()).ok(); });
    return d;
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string dest = scratch() + "/layer";
  (void)berth::sys::removeAll(dest).ok();
  if (!berth::sys::mkdirAll(dest).ok()) abort();
  int fd = memfd_create("layer", MFD_CLOEXEC);
  if (fd < 0 || ::write(fd, data, size) != static_cast<ssize_t>(size)) abort();
  ::lseek(fd, 0, SEEK_SET);
  berth::image::unpack::UnpackOptions options;
  options.pipeline = (size & 1) != 0;  // both the threaded and the inline reader
  options.chunkSize = 4096;
  options.userXattrs = true;  // keep the fuzzer's own xattrs out of trusted.*
  auto result = berth::image::unpack::unpackLayer(fd, "", dest, options);
  (void)result.ok();
  ::close(fd);
  auto sentinel = berth::sys::readFile(scratch() + "/sentinel");
  if (!sentinel.ok() || *sentinel != "sentinel") abort();
  // Anything new beside "layer" and "sentinel" was written outside the layer.
  int extra = 0;
  for (const char* name : {"x", "a", "b", "escaped"}) {
    extra += berth::sys::pathExists(scratch() + "/" + name) ? 1 : 0;
  }
  if (extra) abort();
  (void)berth::sys::removeAll(dest).ok();
  return 0;
}
