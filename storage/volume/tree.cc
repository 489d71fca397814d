// Descriptor-relative tree helpers; see tree.h.
#include "storage/volume/tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <functional>
#include <set>

#include "runtime/sys/syscall.h"

namespace berth::storage::volume {
namespace {

// A path that reaches `name` in `dirfd` without following `name` itself:
// the l*xattr calls have no *at variant in glibc 2.36.
std::string procPath(int dirfd, const std::string& name) {
  return "/proc/self/fd/" + std::to_string(dirfd) + "/" + name;
}

bool isSecurityXattr(const std::string& key) { return key.rfind("security.", 0) == 0; }

Xattrs splitNames(const std::string& list) {
  Xattrs out;
  for (size_t pos = 0; pos < list.size();) {
    size_t end = list.find('\0', pos);
    if (end == std::string::npos) end = list.size();
    if (end > pos) out.emplace_back(list.substr(pos, end - pos), std::string());
    pos = end + 1;
  }
  return out;
}

// Runs a size-query-then-fill xattr call, retrying when the value grew between the calls.
sys::Result<std::string> sizedRead(const std::function<ssize_t(char*, size_t)>& call,
                                   const std::string& what) {
  for (int attempt = 0; attempt < 4; ++attempt) {
    ssize_t size = call(nullptr, 0);
    if (size < 0) return sys::Error::fromErrno(what);
    std::string buf(static_cast<size_t>(size), '\0');
    ssize_t got = call(buf.data(), buf.size());
    if (got >= 0) {
      buf.resize(static_cast<size_t>(got));
      return buf;
    }
    if (errno != ERANGE) return sys::Error::fromErrno(what);
  }
  return sys::Error(ERANGE, what + ": value keeps changing");
}

sys::Result<Xattrs> readAll(const std::function<ssize_t(char*, size_t)>& list,
                            const std::function<ssize_t(const char*, char*, size_t)>& get,
                            const std::string& where) {
  auto names = sizedRead(list, "list xattrs of " + where);
  if (!names) {
    // Filesystems without xattr support simply have none.
    if (names.error().code() == ENOTSUP) return Xattrs{};
    return std::move(names).error();
  }
  Xattrs xattrs = splitNames(*names);
  for (auto& xattr : xattrs) {
    const std::string& key = xattr.first;
    auto got = sizedRead([&](char* buf, size_t size) { return get(key.c_str(), buf, size); },
                         "read xattr " + key + " of " + where);
    if (!got) {
      if (got.error().code() == ENODATA) {  // removed meanwhile
        xattr.first.clear();
        continue;
      }
      return std::move(got).error();
    }
    xattr.second = std::move(*got);
  }
  std::erase_if(xattrs, [](const auto& x) { return x.first.empty(); });
  // The kernel lists them in the order they were set: sorted, the same
  // content always exports to the same bytes.
  std::sort(xattrs.begin(), xattrs.end());
  return xattrs;
}

sys::Result<void> writeAll(const Xattrs& xattrs,
                           const std::function<int(const char*, const std::string&)>& set,
                           const std::string& where) {
  for (const auto& [key, value] : xattrs) {
    if (set(key.c_str(), value) == 0) continue;
    if (isSecurityXattr(key) && (errno == EPERM || errno == ENOTSUP || errno == EINVAL ||
                                 errno == EACCES)) {
      continue;
    }
    return sys::Error::fromErrno("set xattr " + key + " on " + where);
  }
  return sys::ok();
}

}  // namespace

sys::Result<sys::UniqueFd> openChildDir(int parent, const std::string& name, const std::string& where) {
  struct open_how how {};
  how.flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV;
  int fd;
  do {
    fd = sys::openat2(parent, name.c_str(), &how);
  } while (fd < 0 && errno == EAGAIN);
  if (fd < 0) return sys::Error::fromErrno("open directory " + where);
  return sys::UniqueFd(fd);
}

sys::Result<std::vector<std::string>> listNames(int dirfd, const std::string& where) {
  int dupFd = ::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dupFd < 0) return sys::Error::fromErrno("open directory " + where);
  DIR* stream = ::fdopendir(dupFd);
  if (stream == nullptr) {
    ::close(dupFd);
    return sys::Error::fromErrno("open directory " + where);
  }
  std::vector<std::string> names;
  errno = 0;
  while (struct dirent* entry = ::readdir(stream)) {
    std::string_view name = entry->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
    errno = 0;
  }
  int readErrno = errno;
  ::closedir(stream);
  if (readErrno != 0) return sys::Error(readErrno, "read directory " + where);
  std::sort(names.begin(), names.end());
  return names;
}

sys::Result<Xattrs> readXattrs(int fd, const std::string& where) {
  return readAll([fd](char* buf, size_t size) { return ::flistxattr(fd, buf, size); },
                 [fd](const char* key, char* buf, size_t size) { return ::fgetxattr(fd, key, buf, size); },
                 where);
}

sys::Result<Xattrs> readXattrsAt(int dirfd, const std::string& name, const std::string& where) {
  std::string path = procPath(dirfd, name);
  return readAll(
      [&](char* buf, size_t size) { return ::llistxattr(path.c_str(), buf, size); },
      [&](const char* key, char* buf, size_t size) { return ::lgetxattr(path.c_str(), key, buf, size); },
      where);
}

sys::Result<void> writeXattrs(int fd, const Xattrs& xattrs, const std::string& where) {
  return writeAll(xattrs,
                  [fd](const char* key, const std::string& value) {
                    return ::fsetxattr(fd, key, value.data(), value.size(), 0);
                  },
                  where);
}

sys::Result<void> writeXattrsAt(int dirfd, const std::string& name, const Xattrs& xattrs,
                                const std::string& where) {
  std::string path = procPath(dirfd, name);
  return writeAll(xattrs,
                  [&](const char* key, const std::string& value) {
                    return ::lsetxattr(path.c_str(), key, value.data(), value.size(), 0);
                  },
                  where);
}

sys::Result<void> applyAttributes(int fd, const struct stat& st, const Xattrs& xattrs,
                                  const std::string& where) {
  if (::fchown(fd, st.st_uid, st.st_gid) < 0) return sys::Error::fromErrno("chown " + where);
  if (::fchmod(fd, st.st_mode & 07777) < 0) return sys::Error::fromErrno("chmod " + where);
  BERTH_TRY(writeXattrs(fd, xattrs, where));
  struct timespec times[2] = {st.st_atim, st.st_mtim};
  if (::futimens(fd, times) < 0) return sys::Error::fromErrno("set times of " + where);
  return sys::ok();
}

namespace {

struct UsageWalk {
  dev_t dev;
  std::set<std::pair<dev_t, ino_t>> seenLinks;
  uint64_t bytes = 0;

  sys::Result<void> walk(int dirfd, const std::string& where) {
    auto names = BERTH_TRY(listNames(dirfd, where));
    for (const auto& name : names) {
      std::string path = where + "/" + name;
      struct stat st {};
      if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT) continue;  // removed while we walk
        return sys::Error::fromErrno("stat " + path);
      }
      if (st.st_dev != dev) continue;  // a mount inside: not the volume's bytes
      if (!S_ISDIR(st.st_mode) && st.st_nlink > 1 && !seenLinks.insert({st.st_dev, st.st_ino}).second) {
        continue;
      }
      bytes += static_cast<uint64_t>(st.st_blocks) * 512;
      if (!S_ISDIR(st.st_mode)) continue;
      auto child = openChildDir(dirfd, name, path);
      if (!child) {
        if (child.error().code() == ENOENT || child.error().code() == EXDEV) continue;
        return std::move(child).error();
      }
      BERTH_TRY(walk(child->get(), path));
    }
    return sys::ok();
  }
};

}  // namespace

sys::Result<uint64_t> treeUsage(int rootfd, const std::string& where) {
  struct stat st {};
  if (::fstat(rootfd, &st) < 0) return sys::Error::fromErrno("stat " + where);
  UsageWalk walk{st.st_dev, {}, static_cast<uint64_t>(st.st_blocks) * 512};
  BERTH_TRY(walk.walk(rootfd, where));
  return walk.bytes;
}

}  // namespace berth::storage::volume
