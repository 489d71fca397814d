// Filesystem helpers: see fs.h.
#include "runtime/sys/fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "runtime/sys/syscall.h"

namespace berth::sys {
namespace {

Result<std::string> readAll(int fd, const std::string& path) {
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::fromErrno("read " + path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

std::vector<std::string_view> splitComponents(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    size_t j = i;
    while (j < path.size() && path[j] != '/') ++j;
    if (j > i) parts.push_back(path.substr(i, j - i));
    i = j;
  }
  return parts;
}

}  // namespace

Result<std::string> readFile(const std::string& path) { return readFileAt(AT_FDCWD, path); }

Result<std::string> readFileAt(int dirfd, const std::string& path) {
  UniqueFd fd(::openat(dirfd, path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return Error::fromErrno("open " + path);
  return readAll(fd.get(), path);
}

namespace {

Result<void> replaceFile(const std::string& path, std::string_view data, mode_t mode, bool durable) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
    if (!fd) return Error::fromErrno("create " + tmp);
    auto written = writeAll(fd.get(), data, tmp);
    if (written && durable && ::fsync(fd.get()) < 0) written = Error::fromErrno("fsync " + tmp);
    if (!written) {
      ::unlink(tmp.c_str());
      return written;
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) < 0) {
    auto err = Error::fromErrno("rename " + tmp + " to " + path);
    ::unlink(tmp.c_str());
    return err;
  }
  if (!durable) return ok();
  std::string dir = ".";
  if (auto slash = path.rfind('/'); slash != std::string::npos) dir = slash == 0 ? "/" : path.substr(0, slash);
  UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dfd) return Error::fromErrno("open " + dir);
  if (::fsync(dfd.get()) < 0) return Error::fromErrno("fsync " + dir);
  return ok();
}

}  // namespace

Result<void> writeFileAtomic(const std::string& path, std::string_view data, mode_t mode) {
  return replaceFile(path, data, mode, true);
}

Result<void> writeFileReplace(const std::string& path, std::string_view data, mode_t mode) {
  return replaceFile(path, data, mode, false);
}

Result<void> writeFile(const std::string& path, std::string_view data) {
  return writeFileAt(AT_FDCWD, path, data);
}

Result<void> writeFileAt(int dirfd, const std::string& path, std::string_view data) {
  UniqueFd fd(::openat(dirfd, path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) return Error::fromErrno("open " + path);
  // Kernel knobs (cgroup files, uid_map) must receive the value in one write.
  ssize_t n;
  do {
    n = ::write(fd.get(), data.data(), data.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) return Error::fromErrno("write " + path);
  if (static_cast<size_t>(n) != data.size()) return Error(EIO, "short write to " + path);
  return ok();
}

Result<void> mkdirAll(const std::string& path, mode_t mode) {
  if (path.empty()) return Error::invalid("mkdir: empty path");
  std::string cur = path[0] == '/' ? "" : ".";
  for (auto part : splitComponents(path)) {
    cur += '/';
    cur += part;
    if (::mkdir(cur.c_str(), mode) == 0) continue;
    if (errno != EEXIST) return Error::fromErrno("mkdir " + cur);
    struct stat st;
    if (::stat(cur.c_str(), &st) < 0) return Error::fromErrno("stat " + cur);
    if (!S_ISDIR(st.st_mode)) return Error(ENOTDIR, "mkdir " + cur);
  }
  return ok();
}

Result<void> removeAll(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) < 0) {
    if (errno == ENOENT) return ok();
    return Error::fromErrno("stat " + path);
  }
  auto unlinkOne = [](const char* p, const struct stat*, int flag, struct FTW*) -> int {
    int rc = (flag == FTW_DP) ? ::rmdir(p) : ::unlink(p);
    return (rc < 0 && errno != ENOENT) ? -1 : 0;
  };
  if (::nftw(path.c_str(), unlinkOne, 32, FTW_DEPTH | FTW_PHYS) < 0) {
    return Error::fromErrno("remove " + path);
  }
  return ok();
}

bool pathExists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

Result<UniqueFd> openInRoot(int rootfd, const std::string& path, int flags, mode_t mode) {
  struct open_how how {};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  std::string rel = path;
  while (!rel.empty() && rel[0] == '/') rel.erase(0, 1);
  if (rel.empty()) rel = ".";
  int fd;
  do {
    fd = openat2(rootfd, rel.c_str(), &how);
  } while (fd < 0 && errno == EAGAIN);
  if (fd < 0) return Error::fromErrno("open " + path + " inside root");
  return UniqueFd(fd);
}

Result<UniqueFd> mkdirAllInRoot(int rootfd, const std::string& path, mode_t mode) {
  UniqueFd cur = BERTH_TRY(openInRoot(rootfd, "/", O_PATH | O_DIRECTORY));
  std::string prefix;
  for (auto part : splitComponents(path)) {
    prefix += '/';
    prefix += part;
    auto next = openInRoot(rootfd, prefix, O_PATH | O_DIRECTORY);
    if (!next && next.error().code() == ENOENT) {
      // `part` is a single name, so mkdirat cannot follow a symlink here.
      std::string name(part);
      if (::mkdirat(cur.get(), name.c_str(), mode) < 0 && errno != EEXIST) {
        return Error::fromErrno("mkdir " + prefix);
      }
      next = openInRoot(rootfd, prefix, O_PATH | O_DIRECTORY);
    }
    if (!next) return std::move(next).error();
    cur = std::move(next).value();
  }
  return cur;
}

std::string cleanPath(std::string_view path) {
  bool absolute = !path.empty() && path[0] == '/';
  std::vector<std::string_view> out;
  for (auto part : splitComponents(path)) {
    if (part == ".") continue;
    if (part == "..") {
      if (!out.empty() && out.back() != "..") {
        out.pop_back();
      } else if (!absolute) {
        out.push_back(part);
      }
      continue;
    }
    out.push_back(part);
  }
  std::string result = absolute ? "/" : "";
  for (size_t i = 0; i < out.size(); ++i) {
    if (i) result += '/';
    result += out[i];
  }
  if (result.empty()) result = ".";
  return result;
}

std::string unescapeMountinfoField(std::string_view field) {
  auto octal = [](char c) { return c >= '0' && c <= '7'; };
  std::string out;
  out.reserve(field.size());
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size() && octal(field[i + 1]) && octal(field[i + 2]) &&
        octal(field[i + 3])) {
      out += static_cast<char>((field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8 + (field[i + 3] - '0'));
      i += 3;
    } else {
      out += field[i];
    }
  }
  return out;
}

std::string joinPath(std::string_view a, std::string_view b) {
  std::string out(a);
  while (!out.empty() && out.back() == '/') out.pop_back();
  while (!b.empty() && b.front() == '/') b.remove_prefix(1);
  out += '/';
  out += b;
  return out;
}

Result<bool> isMountRoot(const std::string& path) {
  struct statx stx {};
  if (::statx(AT_FDCWD, path.c_str(), AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_TYPE, &stx) <
      0) {
    if (errno == ENOENT) return false;
    return Error::fromErrno("stat " + path);
  }
  if (!(stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT)) {
    return Error(ENOTSUP, "stat " + path + ": kernel does not report mount roots");
  }
  return (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
}

Result<void> writeAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::fromErrno("write " + path);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return ok();
}

Result<std::pair<UniqueFd, UniqueFd>> makePipe(int flags) {
  int fds[2];
  if (::pipe2(fds, flags) != 0) return Error::fromErrno("create a pipe");
  return std::pair{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

}  // namespace berth::sys
