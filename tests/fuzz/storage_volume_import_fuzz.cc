// libFuzzer target for volume import: any byte string is fed to
// VolumeStore::importTar as the tar of a fresh volume, which is then
// removed. Imported tars are untrusted (a backup from anywhere): the import
// must return a value or an error, never crash, hang or write outside the
// volume (a sentinel and the names hostile seeds aim at are checked on
// every input).
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "runtime/sys/fs.h"
#include "storage/volume/volume.h"

namespace {

const std::string& scratch() {
  static const std::string dir = [] {
    // libFuzzer may end with _Exit (no atexit handlers): hack/run-fuzz.sh
    // points TMPDIR at a directory it removes itself.
    const char* tmp = std::getenv("TMPDIR");
    std::string d = std::string(tmp && *tmp ? tmp : "/tmp") + "/berth-volume-fuzz-" + std::to_string(::getpid());
    (void)berth::sys::mkdirAll(d + "/root").ok();
    (void)berth::sys::writeFileAtomic(d + "/sentinel", "sentinel").ok();
    std::atexit([] { (void)berth::sys::removeAll(scratch()).ok(); });
    return d;
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static auto store = berth::storage::volume::VolumeStore::open(scratch() + "/root");
  if (!store.ok()) abort();
  int fd = memfd_create("tar", MFD_CLOEXEC);
  if (fd < 0 || ::write(fd, data, size) != static_cast<ssize_t>(size)) abort();
  ::lseek(fd, 0, SEEK_SET);
  auto result = store->importTar("v", fd);
  (void)result.ok();
  ::close(fd);
  auto sentinel = berth::sys::readFile(scratch() + "/sentinel");
  if (!sentinel.ok() || *sentinel != "sentinel") abort();
  // Anything beside "root" and "sentinel" was written outside the volume.
  for (const char* name : {"x", "a", "b", "escaped", "etc"}) {
    if (berth::sys::pathExists(scratch() + "/" + name)) abort();
    if (berth::sys::pathExists(scratch() + "/root/" + name)) abort();
    if (berth::sys::pathExists(scratch() + "/root/volumes/" + name)) abort();
  }
  // A failed import leaves no volume behind; a good one is removed for the next input.
  auto seen = store->inspect("v");
  if (!seen.ok()) abort();
  if (!result.ok() && seen->has_value()) abort();
  if (seen->has_value() && !store->remove("v").ok()) abort();
  return 0;
}
