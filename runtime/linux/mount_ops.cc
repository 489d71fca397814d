// Mount system calls confined to the rootfs; see mount_ops.h.
#include "runtime/linux/mount_ops.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <string_view>
#include <vector>

#include "runtime/sys/fs.h"

namespace berth::runtime::linux {
namespace {

// The kernel's own limit (MAXSYMLINKS): a loop fails the same way it would in open(2).
constexpr int kMaxSymlinks = 40;

// Pushes the components of `path` so that the first one is at the back.
void pushComponents(std::vector<std::string>& stack, std::string_view path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    size_t j = i;
    while (j < path.size() && path[j] != '/') ++j;
    if (j > i) parts.emplace_back(path.substr(i, j - i));
    i = j;
  }
  stack.insert(stack.end(), parts.rbegin(), parts.rend());
}

std::string parentOf(const std::string& path) {
  auto slash = path.rfind('/');
  return (slash == std::string::npos || slash == 0) ? "/" : path.substr(0, slash);
}

sys::Result<std::string> readLinkAt(int dirfd, const std::string& name, const std::string& shown) {
  std::string buf(4096, '\0');
  ssize_t n = ::readlinkat(dirfd, name.c_str(), buf.data(), buf.size());
  if (n < 0) return sys::Error::fromErrno("readlink " + shown);
  buf.resize(static_cast<size_t>(n));
  return buf;
}

// Creates the missing component `name` in `dir`: a directory, or for the last
// component of a kFile target an empty file. EEXIST means someone raced us; the
// caller looks again.
int createComponent(int dir, const std::string& name, bool asFile) {
  if (!asFile) return ::mkdirat(dir, name.c_str(), 0755);
  int fd = ::openat(dir, name.c_str(), O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC, 0644);
  if (fd >= 0) ::close(fd);
  return fd < 0 ? -1 : 0;
}

// Walks `path` one component at a time inside rootfd, the way the kernel would
// with rootfd as "/" (a symlink's target restarts at the root, ".." stops there),
// creating what is missing. Returns the resolved path, free of symlinks.
sys::Result<std::string> resolveCreating(int rootfd, const std::string& path, Leaf leaf, bool refuseSymlinkLeaf) {
  std::vector<std::string> todo;
  pushComponents(todo, path);
  std::string resolved = "/";
  int budget = kMaxSymlinks;
  while (!todo.empty()) {
    std::string name = std::move(todo.back());
    todo.pop_back();
    if (name == ".") continue;
    if (name == "..") {
      resolved = parentOf(resolved);
      continue;
    }
    bool last = todo.empty();
    std::string next = sys::joinPath(resolved, name);
    sys::UniqueFd dir = BERTH_TRY(sys::openInRoot(rootfd, resolved, O_PATH | O_DIRECTORY));
    struct stat st;
    if (::fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
      if (!S_ISLNK(st.st_mode)) {
        resolved = std::move(next);
        continue;
      }
      if (last && refuseSymlinkLeaf) return sys::Error::invalid("mount destination " + path + " is a symlink");
      if (--budget < 0) return sys::Error(ELOOP, "resolve " + path + " inside root");
      std::string target = BERTH_TRY(readLinkAt(dir.get(), name, next));
      if (!target.empty() && target[0] == '/') resolved = "/";
      pushComponents(todo, target);
      continue;
    }
    if (errno != ENOENT) return sys::Error::fromErrno("stat " + next + " inside root");
    bool asFile = last && leaf == Leaf::kFile;
    if (createComponent(dir.get(), name, asFile) < 0) {
      if (errno != EEXIST) return sys::Error::fromErrno((asFile ? "create " : "mkdir ") + next + " inside root");
      if (--budget < 0) return sys::Error(ELOOP, "resolve " + path + " inside root");
      todo.push_back(std::move(name));
      continue;
    }
    resolved = std::move(next);
  }
  return resolved;
}

}  // namespace

std::string fdPath(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

sys::Result<sys::UniqueFd> makeMountpointInRoot(int rootfd, const std::string& path, Leaf leaf,
                                                bool refuseSymlinkLeaf) {
  std::string resolved = BERTH_TRY(resolveCreating(rootfd, path, leaf, refuseSymlinkLeaf));
  int flags = O_PATH | (leaf == Leaf::kDirectory ? O_DIRECTORY : 0);
  return sys::openInRoot(rootfd, resolved, flags);
}

sys::Result<sys::UniqueFd> makeParentInRoot(int rootfd, const std::string& path, std::string* name) {
  std::string clean = sys::cleanPath("/" + path);
  auto slash = clean.rfind('/');
  *name = clean.substr(slash + 1);
  if (name->empty()) return sys::Error::invalid("no file name in " + path);
  return makeMountpointInRoot(rootfd, slash == 0 ? "/" : clean.substr(0, slash), Leaf::kDirectory);
}

sys::Result<std::string> fdRealPath(int fd) { return readLinkAt(AT_FDCWD, fdPath(fd), fdPath(fd)); }

sys::Result<void> mountOnFd(const std::string& source, int targetFd, const char* type, unsigned long flags,
                            const std::string& data, const std::string& what) {
  std::string target = fdPath(targetFd);
  if (::mount(source.empty() ? nullptr : source.c_str(), target.c_str(), type, flags,
              data.empty() ? nullptr : data.c_str()) < 0) {
    return sys::Error::fromErrno(what);
  }
  return sys::ok();
}

sys::Result<void> remountBind(int mountFd, const MountOptions& options, const std::string& what) {
  struct statfs st;
  if (::fstatfs(mountFd, &st) < 0) return sys::Error::fromErrno("statfs " + what);
  unsigned long flags = bindRemountFlags(options, statfsToMountFlags(static_cast<unsigned long>(st.f_flags)));
  std::string target = fdPath(mountFd);
  if (::mount(nullptr, target.c_str(), nullptr, flags, nullptr) < 0) {
    return sys::Error::fromErrno("remount " + what);
  }
  return sys::ok();
}

sys::Result<void> applyPropagation(int mountFd, const MountOptions& options, const std::string& what) {
  std::string target = fdPath(mountFd);
  for (unsigned long flags : options.propagation) {
    if (::mount(nullptr, target.c_str(), nullptr, flags, nullptr) < 0) {
      return sys::Error::fromErrno("set propagation of " + what);
    }
  }
  return sys::ok();
}

sys::Result<void> applyRecursiveAttrs(int mountFd, const MountOptions& options, const std::string& what) {
  if (!options.hasRecursiveAttrs()) return sys::ok();
  struct mount_attr attr {};
  attr.attr_set = options.recursiveSet;
  attr.attr_clr = options.recursiveClear;
  if (::mount_setattr(mountFd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0) {
    return sys::Error::fromErrno("set recursive attributes of " + what);
  }
  return sys::ok();
}

}  // namespace berth::runtime::linux
