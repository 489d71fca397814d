// Re-execution from a write-protected view of our own binary; see sealed_exe.h.
#include "runtime/sys/sealed_exe.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <string>
#include <string_view>

#include "runtime/sys/fd.h"
#include "runtime/sys/fs.h"

extern char** environ;

namespace berth::sys {
namespace {

int gArgc = 0;
char** gArgv = nullptr;
// Once seen, true until the next execve: the binary a process runs from
// cannot change under it.
bool gProtected = false;

constexpr int kSeals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;

bool isSealedMemfd(int fd) {
  int seals = ::fcntl(fd, F_GET_SEALS);
  return seals >= 0 && (seals & kSeals) == kSeals;
}

// True when mount `id` is listed in our mount namespace's mountinfo.
bool mountAttached(uint64_t id) {
  auto text = readFile("/proc/self/mountinfo");
  if (!text) return true;  // cannot tell: assume the worst
  std::string prefix = std::to_string(id) + " ";
  std::string_view all(*text);
  for (size_t pos = 0; pos < all.size();) {
    if (all.compare(pos, prefix.size(), prefix) == 0) return true;
    size_t end = all.find('\n', pos);
    if (end == std::string_view::npos) break;
    pos = end + 1;
  }
  return false;
}

// The file lives on a read-only mount that no mount namespace holds: only
// such a mount cannot be made writable again (remount and mount_setattr
// both need it in the caller's namespace, or attached to an anonymous one).
bool onDissolvedReadOnlyMount(int fd) {
  struct statfs fs {};
  if (::fstatfs(fd, &fs) < 0 || (fs.f_flags & ST_RDONLY) == 0) return false;
  struct statx stx {};
  if (::statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &stx) < 0 || (stx.stx_mask & STATX_MNT_ID) == 0) {
    return false;
  }
  return !mountAttached(stx.stx_mnt_id);
}


// Way 2: a sealed memfd copy.
Result<UniqueFd> sealedMemfdCopyOfSelf() {
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
  return copy;
}

}  // namespace

// Way 1 (see the header): once this returns, the mount is attached nowhere.
Result<UniqueFd> openWriteProtectedExecutable(const std::string& path) {
  UniqueFd tree(::open_tree(AT_FDCWD, path.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
  if (!tree) return Error::fromErrno("clone a mount of " + path);
  struct mount_attr attr {};
  attr.attr_set = MOUNT_ATTR_RDONLY;
  if (::mount_setattr(tree.get(), "", AT_EMPTY_PATH, &attr, sizeof attr) < 0) {
    return Error::fromErrno("make the mount of " + path + " read-only");
  }
  // A second open of the same file holds the mount; closing the tree fd
  // then dissolves its anonymous namespace, leaving the mount detached.
  std::string reopen = "/proc/self/fd/" + std::to_string(tree.get());
  UniqueFd exe(::open(reopen.c_str(), O_PATH | O_CLOEXEC));
  if (!exe) return Error::fromErrno("reopen the read-only mount of " + path);
  return exe;
}

void rememberCommandLine(int argc, char** argv) {
  gArgc = argc;
  gArgv = argv;
}

bool runningFromSealedCopy() {
  if (gProtected) return true;
  UniqueFd self(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
  if (!self) return false;
  gProtected = isSealedMemfd(self.get()) || onDissolvedReadOnlyMount(self.get());
  return gProtected;
}

Result<void> reexecFromSealedCopy() {
  if (!gArgv) return Error::invalid("re-exec: command line not recorded");
  if (runningFromSealedCopy()) return ok();
  auto exe = openWriteProtectedExecutable("/proc/self/exe");
  if (!exe) exe = sealedMemfdCopyOfSelf();
  if (!exe) return std::move(exe).error();
  ::execveat(exe->get(), "", gArgv, environ, AT_EMPTY_PATH);
  return Error::fromErrno("re-exec from a write-protected view of the runtime binary");
}

}  // namespace berth::sys
