// Descriptor-relative tree copy; see copy_tree.h.
#include "storage/volume/copy_tree.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <vector>

#include "runtime/sys/fd.h"
#include "storage/volume/tree.h"

namespace berth::storage::volume {
namespace {

sys::Result<void> copyBytes(int from, int to, off_t size, const std::string& where) {
  off_t done = 0;
  bool kernelCopy = true;
  std::vector<char> buf;
  while (done < size) {
    if (kernelCopy) {
      ssize_t n = ::copy_file_range(from, nullptr, to, nullptr, static_cast<size_t>(size - done), 0);
      if (n > 0) {
        done += n;
        continue;
      }
      if (n == 0) break;  // the file shrank while we copy
      // Across filesystems (overlay to ext4 on older kernels) or unsupported: plain copy.
      if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP) {
        return sys::Error::fromErrno("copy " + where);
      }
      kernelCopy = false;
      buf.resize(1 << 16);
    }
    ssize_t n = ::read(from, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys::Error::fromErrno("read " + where);
    if (n == 0) break;
    for (ssize_t off = 0; off < n;) {
      ssize_t w = ::write(to, buf.data() + off, static_cast<size_t>(n - off));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return sys::Error::fromErrno("write copy of " + where);
      off += w;
    }
    done += n;
  }
  return sys::ok();
}

sys::Result<void> copyFile(int srcDir, int dstDir, const std::string& name, const struct stat& st,
                           const std::string& where) {
  sys::UniqueFd from(::openat(srcDir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!from) return sys::Error::fromErrno("open " + where);
  sys::UniqueFd to(::openat(dstDir, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!to) return sys::Error::fromErrno("create copy of " + where);
  BERTH_TRY(copyBytes(from.get(), to.get(), st.st_size, where));
  Xattrs xattrs = BERTH_TRY(readXattrs(from.get(), where));
  return applyAttributes(to.get(), st, xattrs, "copy of " + where);
}

// Symlinks and special files: created as they are, attributes set without
// following (a symlink's mode cannot be set and needs not).
sys::Result<void> copySpecial(int srcDir, int dstDir, const std::string& name, const struct stat& st,
                              const std::string& where) {
  if (S_ISLNK(st.st_mode)) {
    std::vector<char> target(PATH_MAX + 1);
    ssize_t n = ::readlinkat(srcDir, name.c_str(), target.data(), target.size() - 1);
    if (n < 0) return sys::Error::fromErrno("readlink " + where);
    target[static_cast<size_t>(n)] = '\0';
    if (::symlinkat(target.data(), dstDir, name.c_str()) < 0) {
      return sys::Error::fromErrno("create symlink copy of " + where);
    }
  } else if (::mknodat(dstDir, name.c_str(), st.st_mode & (S_IFMT | 0700), st.st_rdev) < 0) {
    return sys::Error::fromErrno("create copy of " + where);
  }
  if (::fchownat(dstDir, name.c_str(), st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0) {
    return sys::Error::fromErrno("chown copy of " + where);
  }
  if (!S_ISLNK(st.st_mode) && ::fchmodat(dstDir, name.c_str(), st.st_mode & 07777, 0) < 0) {
    return sys::Error::fromErrno("chmod copy of " + where);
  }
  Xattrs xattrs = BERTH_TRY(readXattrsAt(srcDir, name, where));
  BERTH_TRY(writeXattrsAt(dstDir, name, xattrs, "copy of " + where));
  struct timespec times[2] = {st.st_atim, st.st_mtim};
  if (::utimensat(dstDir, name.c_str(), times, AT_SYMLINK_NOFOLLOW) < 0) {
    return sys::Error::fromErrno("set times of copy of " + where);
  }
  return sys::ok();
}

sys::Result<void> copyDir(int srcDir, int dstDir, const std::string& name, const struct stat& st,
                          const std::string& where) {
  auto from = openChildDir(srcDir, name, where);
  if (!from && from.error().code() == EXDEV) return sys::ok();  // a mount in the image: not image content
  if (!from) return std::move(from).error();
  if (::mkdirat(dstDir, name.c_str(), 0700) < 0) return sys::Error::fromErrno("create copy of " + where);
  sys::UniqueFd to = BERTH_TRY(openChildDir(dstDir, name, "copy of " + where));
  BERTH_TRY(copyTree(from->get(), to.get(), where));
  Xattrs xattrs = BERTH_TRY(readXattrs(from->get(), where));
  // After the contents: writing them changed the directory's mtime.
  return applyAttributes(to.get(), st, xattrs, "copy of " + where);
}

}  // namespace

sys::Result<void> copyTree(int srcDir, int dstDir, const std::string& where) {
  auto names = BERTH_TRY(listNames(srcDir, where));
  for (const auto& name : names) {
    std::string path = where + "/" + name;
    struct stat st {};
    if (::fstatat(srcDir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
      return sys::Error::fromErrno("stat " + path);
    }
    if (S_ISDIR(st.st_mode)) {
      BERTH_TRY(copyDir(srcDir, dstDir, name, st, path));
    } else if (S_ISREG(st.st_mode)) {
      BERTH_TRY(copyFile(srcDir, dstDir, name, st, path));
    } else {
      BERTH_TRY(copySpecial(srcDir, dstDir, name, st, path));
    }
  }
  return sys::ok();
}

}  // namespace berth::storage::volume
