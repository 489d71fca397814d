// Descriptor-relative tree removal: see remove_tree.h.
//
// The walk holds one directory descriptor at a time, plus the identity
// (device, inode, name) of every ancestor. Going down uses openat2 with
// RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_XDEV, so a symlink or a
// mount point is refused by the kernel, not by a racy check. Going up opens
// ".." and checks it is the directory we came from, so a tree of any depth
// is removed with a constant number of descriptors.
#include "storage/rootfs/remove_tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <vector>

#include "runtime/sys/fd.h"
#include "runtime/sys/fs.h"
#include "runtime/sys/syscall.h"

namespace berth::storage::rootfs {
namespace {

struct DirIdentity {
  dev_t dev;
  ino_t ino;
  std::string name;  // in its parent
};

sys::Result<sys::UniqueFd> openChildDir(int parent, const std::string& name,
                                        const std::string& where) {
  struct open_how how {};
  how.flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV;
  int fd;
  do {
    fd = sys::openat2(parent, name.c_str(), &how);
  } while (fd < 0 && errno == EAGAIN);
  if (fd >= 0) return sys::UniqueFd(fd);
  if (errno == EXDEV) {
    return sys::Error(EBUSY, "refusing to remove " + where + ": a filesystem is mounted there");
  }
  return sys::Error::fromErrno("open " + where);
}

sys::Result<struct stat> statFd(int fd, const std::string& where) {
  struct stat st {};
  if (::fstat(fd, &st) < 0) return sys::Error::fromErrno("stat " + where);
  return st;
}

// Unlinks every non-directory in `dir`; returns the name of a subdirectory
// still to be emptied, or nullopt when only directories already removed
// were seen (the caller then rmdirs it).
sys::Result<std::optional<std::string>> unlinkFilesIn(int dir, const std::string& where) {
  int dupFd = ::fcntl(dir, F_DUPFD_CLOEXEC, 0);
  if (dupFd < 0) return sys::Error::fromErrno("dup " + where);
  DIR* stream = ::fdopendir(dupFd);
  if (stream == nullptr) {
    ::close(dupFd);
    return sys::Error::fromErrno("opendir " + where);
  }
  ::rewinddir(stream);  // the duplicate shares the offset of earlier scans
  std::optional<std::string> subdir;
  sys::Result<void> status = sys::ok();
  while (struct dirent* entry = ::readdir(stream)) {
    std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    bool isDir = entry->d_type == DT_DIR;
    if (entry->d_type == DT_UNKNOWN) {
      struct stat st {};
      if (::fstatat(dir, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) isDir = S_ISDIR(st.st_mode);
    }
    if (isDir) {
      subdir = std::string(name);
      break;
    }
    if (::unlinkat(dir, entry->d_name, 0) < 0 && errno != ENOENT) {
      status = sys::Error::fromErrno("unlink " + where + "/" + std::string(name));
      break;
    }
  }
  ::closedir(stream);
  if (!status) return std::move(status).error();
  return subdir;
}

// Opens ".." of `dir` and checks it is `expected`: a directory moved
// while we were inside it must not make us delete somewhere else.
sys::Result<sys::UniqueFd> openParent(int dir, const DirIdentity& expected,
                                      const std::string& where) {
  sys::UniqueFd up(::openat(dir, "..", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!up) return sys::Error::fromErrno("open parent of " + where);
  struct stat st = BERTH_TRY(statFd(up.get(), where + "/.."));
  if (st.st_dev != expected.dev || st.st_ino != expected.ino) {
    return sys::Error(ESTALE, "refusing to remove " + where + ": it was moved during removal");
  }
  return up;
}

}  // namespace

sys::Result<void> removeTree(const std::string& path) {
  std::string clean = sys::cleanPath(path);
  if (clean == "/" || clean == ".") return sys::Error::invalid("refusing to remove " + path);
  size_t slash = clean.rfind('/');
  std::string parentPath =
      slash == std::string::npos ? "." : (slash == 0 ? "/" : clean.substr(0, slash));
  std::string rootName = slash == std::string::npos ? clean : clean.substr(slash + 1);

  sys::UniqueFd parent(::open(parentPath.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!parent) {
    if (errno == ENOENT) return sys::ok();
    return sys::Error::fromErrno("open " + parentPath);
  }
  struct stat rootStat {};
  if (::fstatat(parent.get(), rootName.c_str(), &rootStat, AT_SYMLINK_NOFOLLOW) < 0) {
    if (errno == ENOENT) return sys::ok();
    return sys::Error::fromErrno("stat " + clean);
  }
  if (!S_ISDIR(rootStat.st_mode)) {
    // A symlink is removed, never followed.
    if (::unlinkat(parent.get(), rootName.c_str(), 0) < 0 && errno != ENOENT) {
      return sys::Error::fromErrno("unlink " + clean);
    }
    return sys::ok();
  }

  sys::UniqueFd cur = BERTH_TRY(openChildDir(parent.get(), rootName, clean));
  struct stat st = BERTH_TRY(statFd(cur.get(), clean));
  std::vector<DirIdentity> chain{{st.st_dev, st.st_ino, rootName}};
  std::string where = clean;
  for (int emptyScans = 0;;) {
    auto subdir = BERTH_TRY(unlinkFilesIn(cur.get(), where));
    if (subdir) {
      sys::UniqueFd child = BERTH_TRY(openChildDir(cur.get(), *subdir, where + "/" + *subdir));
      st = BERTH_TRY(statFd(child.get(), where + "/" + *subdir));
      chain.push_back({st.st_dev, st.st_ino, *subdir});
      where += "/" + *subdir;
      cur = std::move(child);
      emptyScans = 0;
      continue;
    }
    if (chain.size() == 1) {
      cur.reset();
      if (::unlinkat(parent.get(), rootName.c_str(), AT_REMOVEDIR) == 0 || errno == ENOENT) {
        return sys::ok();
      }
      if (errno != ENOTEMPTY || ++emptyScans > 3) return sys::Error::fromErrno("rmdir " + clean);
      cur = BERTH_TRY(openChildDir(parent.get(), rootName, clean));
      continue;
    }
    sys::UniqueFd up = BERTH_TRY(openParent(cur.get(), chain[chain.size() - 2], where));
    if (::unlinkat(up.get(), chain.back().name.c_str(), AT_REMOVEDIR) < 0 && errno != ENOENT) {
      // Something appeared in it meanwhile: scan it again, a few times.
      if (errno != ENOTEMPTY || ++emptyScans > 3) return sys::Error::fromErrno("rmdir " + where);
      continue;
    }
    emptyScans = 0;
    where.resize(where.size() - chain.back().name.size() - 1);
    chain.pop_back();
    cur = std::move(up);
  }
}

}  // namespace berth::storage::rootfs
