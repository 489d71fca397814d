// Sealed self re-execution; see sealed_exe.h.
#include "runtime/sys/sealed_exe.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/sys/fd.h"

extern char** environ;

namespace berth::sys {
namespace {

int gArgc = 0;
char** gArgv = nullptr;

constexpr int kSeals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;

}  // namespace

void rememberCommandLine(int argc, char** argv) {
  gArgc = argc;
  gArgv = argv;
}

bool runningFromSealedCopy() {
  UniqueFd self(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
  if (!self) return false;
  int seals = ::fcntl(self.get(), F_GET_SEALS);
  return seals >= 0 && (seals & kSeals) == kSeals;
}

Result<void> reexecFromSealedCopy() {
  if (!gArgv) return Error::invalid("re-exec: command line not recorded");
  if (runningFromSealedCopy()) return ok();
  UniqueFd self(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
  if (!self) return Error::fromErrno("open /proc/self/exe");
  struct stat st;
  if (::fstat(self.get(), &st) < 0) return Error::fromErrno("stat /proc/self/exe");
  UniqueFd copy(::memfd_create("berth-runtime", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!copy) return Error::fromErrno("memfd_create");
  off_t offset = 0;
  while (offset < st.st_size) {
    ssize_t n = ::sendfile(copy.get(), self.get(), &offset, static_cast<size_t>(st.st_size - offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Error::fromErrno("copy runtime binary to memfd");
  }
  if (::fcntl(copy.get(), F_ADD_SEALS, kSeals) < 0) return Error::fromErrno("seal runtime binary copy");
  ::fexecve(copy.get(), gArgv, environ);
  return Error::fromErrno("re-exec from sealed copy");
}

}  // namespace berth::sys
