// Writing archive entries under a layer root: see tree_writer.h.
#include "image/unpack/tree_writer.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "image/unpack/file_pool.h"
#include "runtime/sys/fs.h"
#include "runtime/sys/syscall.h"

namespace berth::image::unpack {
namespace {

// Enough for the directories a depth-first archive is filling at once.
constexpr size_t kMaxCachedDirs = 64;
constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
constexpr int kCreateFlags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
// What the pool may hold before the reading thread waits for it.
constexpr size_t kMaxQueuedBytes = 16 << 20;
constexpr size_t kMaxQueuedJobs = 1024;

std::string quoted(const std::string& path) {
  return "\"" + path + "\"";
}

// The process umask without changing it (umask(2) would race other threads).
mode_t currentUmask() {
  auto status = sys::readFile("/proc/self/status");
  if (status) {
    auto pos = status->find("Umask:");
    if (pos != std::string::npos) {
      return static_cast<mode_t>(std::strtoul(status->c_str() + pos + 6, nullptr, 8));
    }
  }
  return 022;
}

// A parent path resolved below the root, never through a symlink or a mount.
int openBeneath(int root, const std::string& dir) {
  struct open_how how {};
  how.flags = kDirFlags;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
  int fd;
  do {
    fd = sys::openat2(root, dir.c_str(), &how);
  } while (fd < 0 && errno == EAGAIN);
  return fd;
}

sys::Error parentError(int err, const std::string& dir) {
  // openat2 reports a symlink in the path as ELOOP (RESOLVE_NO_SYMLINKS) or,
  // when it is the last component, ENOTDIR (O_DIRECTORY|O_NOFOLLOW).
  if (err == ELOOP || err == ENOTDIR) {
    return sys::Error(err, "parent " + quoted(dir) +
                               " is a symlink or not a directory; writing through a symlink"
                               " is refused");
  }
  if (err == EXDEV) return sys::Error(err, "parent " + quoted(dir) + " crosses a mount");
  return sys::Error(err, "open parent " + quoted(dir));
}

sys::Result<void> pwriteAll(int fd, const void* data, size_t len, int64_t offset) {
  auto* p = static_cast<const char*>(data);
  while (len > 0) {
    ssize_t n = ::pwrite(fd, p, len, offset);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys::Error::fromErrno("write");
    }
    p += n;
    len -= static_cast<size_t>(n);
    offset += n;
  }
  return sys::ok();
}

// True when the directory holds nothing but "." and "..".
bool isEmptyDir(int dirFd) {
  int fd = ::openat(dirFd, ".", kDirFlags);
  if (fd < 0) return false;
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    ::close(fd);
    return false;
  }
  bool empty = true;
  while (struct dirent* d = ::readdir(dir)) {
    if (std::strcmp(d->d_name, ".") != 0 && std::strcmp(d->d_name, "..") != 0) {
      empty = false;
      break;
    }
  }
  ::closedir(dir);
  return empty;
}

// Removes `prefix` and every path below it from a set of paths: those are
// the range ["prefix/", "prefix0"), as '0' follows '/'. A range, not a
// scan, so a layer replacing directories over and over stays linear.
void erasePrefix(std::set<std::string>& paths, const std::string& prefix) {
  paths.erase(prefix);
  paths.erase(paths.lower_bound(prefix + "/"), paths.lower_bound(prefix + "0"));
}

// rm -rf of `name` below `parent`, without following symlinks.
sys::Result<void> removeTreeAt(int parent, const char* name) {
  int fd = ::openat(parent, name, kDirFlags);
  if (fd < 0) return sys::Error::fromErrno(std::string("open ") + name + " to remove it");
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    ::close(fd);
    return sys::Error::fromErrno(std::string("read directory ") + name);
  }
  sys::Result<void> result;
  while (struct dirent* d = ::readdir(dir)) {
    if (std::strcmp(d->d_name, ".") == 0 || std::strcmp(d->d_name, "..") == 0) continue;
    if (::unlinkat(fd, d->d_name, 0) == 0) continue;
    if (errno != EISDIR && errno != EPERM) {
      result = sys::Error::fromErrno(std::string("remove ") + d->d_name);
      break;
    }
    result = removeTreeAt(fd, d->d_name);
    if (!result) break;
  }
  ::closedir(dir);
  if (!result) return result;
  if (::unlinkat(parent, name, AT_REMOVEDIR) < 0) {
    return sys::Error::fromErrno(std::string("remove directory ") + name);
  }
  return sys::ok();
}

// xattrs a layer may not set: overlayfs reads these from lower layers
// (redirect, metacopy, opaque), so a layer carrying them could make the
// mounted tree differ from the archive. Opaque directories come only from
// ".wh..wh..opq" entries.
bool forbiddenXattr(const std::string& name) {
  return name.rfind("trusted.overlay.", 0) == 0 || name.rfind("user.overlay.", 0) == 0;
}

}  // namespace

TreeWriter::TreeWriter(sys::UniqueFd root, WriterOptions options)
    : root_(std::make_shared<const sys::UniqueFd>(std::move(root))),
      options_(options),
      euid_(::geteuid()),
      egid_(::getegid()),
      umask_(currentUmask()) {}

sys::Result<std::unique_ptr<TreeWriter>> TreeWriter::open(const std::string& destDir,
                                                          WriterOptions options) {
  sys::UniqueFd root(::open(destDir.c_str(), kDirFlags));
  if (!root) return sys::Error::fromErrno("open layer directory " + destDir);
  struct stat st {};
  if (::fstat(root.get(), &st) < 0) return sys::Error::fromErrno("stat " + destDir);
  std::unique_ptr<TreeWriter> w(new TreeWriter(std::move(root), options));
  // Under a setgid directory new files take its group, not ours.
  w->rootSetgid_ = (st.st_mode & S_ISGID) != 0;
  if (options.threads > 0 && isEmptyDir(w->root_->get())) {
    TreeWriter* self = w.get();
    w->pool_ = std::make_unique<FilePool>(
        options.threads, kMaxQueuedBytes, kMaxQueuedJobs,
        [self](const FileJob& job) { return self->createQueuedFile(job); });
  }
  return w;
}

TreeWriter::~TreeWriter() = default;

sys::Result<void> TreeWriter::drain() {
  if (!pool_) return sys::ok();
  pending_.clear();
  return pool_->drain();
}

sys::Result<void> TreeWriter::drainIfPending(const std::string& full) {
  if (pending_.count(full) == 0) return sys::ok();
  return drain();
}

// A parent path through a name a worker has yet to create (a file used as
// a directory: an error, but it must be the same error as in order).
sys::Result<void> TreeWriter::drainIfPendingParent(const std::string& dir) {
  if (pending_.empty()) return sys::ok();
  for (size_t end = dir.find('/');; end = dir.find('/', end + 1)) {
    if (pending_.count(dir.substr(0, end)) != 0) return drain();
    if (end == std::string::npos) return sys::ok();
  }
}

bool TreeWriter::needChown(const Entry& e) const {
  return options_.chown && (rootSetgid_ || e.uid != euid_ || e.gid != egid_);
}

// Files are created with the entry's permission bits; the umask may have
// removed some, and special bits must be set after chown (which clears them).
bool TreeWriter::needChmod(mode_t mode) const {
  return (mode & 07000) != 0 || (mode & 0777 & umask_) != 0;
}

sys::Result<void> TreeWriter::apply(const Entry& e, DataSource& data) {
  // Evict between entries only: fds handed out during one entry stay valid.
  if (dirs_.size() > kMaxCachedDirs) dirs_.clear();
  auto path = parseEntryPath(e.path);
  if (!path) return std::move(path).error().context("entry " + quoted(e.path));
  return applyAt(e, *path, data).context("entry " + quoted(e.path));
}

sys::Result<void> TreeWriter::applyAt(const Entry& e, const EntryPath& p, DataSource& data) {
  if (p.isRoot()) {
    if (e.type != EntryType::kDir) return sys::Error::invalid("the layer root must be a directory");
    BERTH_TRY(setOwnerAndXattrs(root_->get(), e));
    deferDir("", e);
    return sys::ok();
  }
  auto whiteout = BERTH_TRY(classifyWhiteout(p.name));
  switch (whiteout.kind) {
    case WhiteoutKind::kOpaque:
      return makeOpaque(p.dir);
    case WhiteoutKind::kFile:
      return makeWhiteout(p, whiteout.target);
    case WhiteoutKind::kIgnored:
      return sys::ok();
    case WhiteoutKind::kNone:
      break;
  }
  // A later entry of a name a worker may still be creating: in order.
  BERTH_TRY(drainIfPending(p.full()));
  if (e.type == EntryType::kHardlink) return makeHardlink(p, e);
  if (e.type == EntryType::kFile) return writeFile(p, e, data);
  int parent = BERTH_TRY(dirFd(p.dir));
  switch (e.type) {
    case EntryType::kDir:
      return makeDir(parent, p, e);
    case EntryType::kSymlink:
      return makeSymlink(parent, p, e);
    default:
      return makeNode(parent, p, e);
  }
}

sys::Result<int> TreeWriter::dirFd(const std::string& dir) {
  auto handle = BERTH_TRY(dirHandle(dir));
  return handle->get();
}

sys::Result<TreeWriter::DirHandle> TreeWriter::dirHandle(const std::string& dir) {
  if (dir.empty()) return root_;
  auto it = dirs_.find(dir);
  if (it != dirs_.end()) return it->second;
  BERTH_TRY(drainIfPendingParent(dir));
  sys::UniqueFd fd(openBeneath(root_->get(), dir));
  if (!fd) {
    if (errno != ENOENT) return parentError(errno, dir);
    // Archives may omit parent directories; tar creates them, and so do we.
    fd = BERTH_TRY(walkCreating(dir));
  }
  auto handle = std::make_shared<const sys::UniqueFd>(std::move(fd));
  dirs_.emplace(dir, handle);
  return handle;
}

// mkdir -p below the root, one name at a time: each openat is given a
// single component with O_NOFOLLOW, so no symlink is ever followed.
sys::Result<sys::UniqueFd> TreeWriter::walkCreating(const std::string& dir) {
  sys::UniqueFd cur;
  size_t start = 0;
  while (start <= dir.size()) {
    size_t end = dir.find('/', start);
    if (end == std::string::npos) end = dir.size();
    std::string name = dir.substr(start, end - start);
    int at = cur ? cur.get() : root_->get();
    int fd = ::openat(at, name.c_str(), kDirFlags);
    if (fd < 0 && errno == ENOENT) {
      if (::mkdirat(at, name.c_str(), 0755) < 0 && errno != EEXIST) {
        return sys::Error::fromErrno("create parent " + quoted(dir.substr(0, end)));
      }
      created_.insert(dir.substr(0, end));
      fd = ::openat(at, name.c_str(), kDirFlags);
    }
    if (fd < 0) return parentError(errno, dir.substr(0, end));
    cur.reset(fd);
    start = end + 1;
  }
  return cur;
}

void TreeWriter::forgetDirs(const std::string& prefix) {
  for (auto it = dirs_.begin(); it != dirs_.end();) {
    const std::string& key = it->first;
    bool under = key.size() > prefix.size() && key.compare(0, prefix.size(), prefix) == 0 &&
                 key[prefix.size()] == '/';
    if (key == prefix || under) {
      it = dirs_.erase(it);
    } else {
      ++it;
    }
  }
}

// A later entry replaces an earlier one of the same name. A directory being
// replaced takes its cached fds with it, so nothing is written through a
// directory that has become something else (a symlink, say).
sys::Result<void> TreeWriter::removeExisting(int parent, const std::string& name,
                                             const std::string& full) {
  // A directory being removed may hold files the workers are creating.
  BERTH_TRY(drain());
  struct stat st {};
  if (::fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
    if (errno == ENOENT) return sys::ok();
    return sys::Error::fromErrno("stat existing " + quoted(full));
  }
  erasePrefix(files_, full);
  erasePrefix(created_, full);
  if (S_ISDIR(st.st_mode)) {
    forgetDirs(full);
    return removeTreeAt(parent, name.c_str()).context("replace directory " + quoted(full));
  }
  if (::unlinkat(parent, name.c_str(), 0) < 0) {
    return sys::Error::fromErrno("replace " + quoted(full));
  }
  return sys::ok();
}

sys::Result<void> TreeWriter::writeFile(const EntryPath& p, const Entry& e, DataSource& data) {
  const std::string full = p.full();
  if (pool_ && e.size <= kMaxPooledFile && created_.count(full) == 0) {
    return queueFile(p, e, data);
  }
  int parent = BERTH_TRY(dirFd(p.dir));
  sys::UniqueFd fd(::openat(parent, p.name.c_str(), kCreateFlags, e.mode & 0777));
  if (!fd && errno == EEXIST) {
    BERTH_TRY(removeExisting(parent, p.name, full));
    fd.reset(::openat(parent, p.name.c_str(), kCreateFlags, e.mode & 0777));
  }
  if (!fd) return sys::Error::fromErrno("create file");
  BERTH_TRY(fillFile(fd.get(), e, data));
  created_.insert(full);
  files_.insert(full);
  return sys::ok();
}

// The file's data is read here, in archive order, and the file created by
// a worker. Its name exists nowhere yet (not in created_), and every later
// operation that could meet it drains the pool first.
sys::Result<void> TreeWriter::queueFile(const EntryPath& p, const Entry& e, DataSource& data) {
  FileJob job;
  job.parent = BERTH_TRY(dirHandle(p.dir));
  job.name = p.name;
  job.entry = e;
  job.data.reserve(static_cast<size_t>(std::max<int64_t>(e.size, 0)));
  const void* block;
  size_t len;
  int64_t offset;
  while (BERTH_TRY(data.nextBlock(&block, &len, &offset))) {
    job.data.append(static_cast<const char*>(block), len);
    job.extents.emplace_back(offset, len);
  }
  const std::string full = p.full();
  created_.insert(full);
  files_.insert(full);
  pending_.insert(full);
  return pool_->submit(std::move(job));
}

// On a worker thread: touches nothing of the writer but its settings.
sys::Result<void> TreeWriter::createQueuedFile(const FileJob& job) const {
  const Entry& e = job.entry;
  sys::UniqueFd fd(::openat(job.parent->get(), job.name.c_str(), kCreateFlags, e.mode & 0777));
  if (!fd) return sys::Error::fromErrno("create file").context("entry " + quoted(e.path));
  BufferedData data(job);
  return fillFile(fd.get(), e, data).context("entry " + quoted(e.path));
}

// Content, then owner, xattrs, mode and times, all through the open file.
sys::Result<void> TreeWriter::fillFile(int fd, const Entry& e, DataSource& data) const {
  int64_t end = 0;
  const void* block;
  size_t len;
  int64_t offset;
  while (BERTH_TRY(data.nextBlock(&block, &len, &offset))) {
    BERTH_TRY(pwriteAll(fd, block, len, offset));
    end = offset + static_cast<int64_t>(len);
  }
  // A sparse file may end in a hole.
  if (end < e.size && ::ftruncate(fd, e.size) < 0) {
    return sys::Error::fromErrno("extend sparse file");
  }
  BERTH_TRY(setOwnerAndXattrs(fd, e));
  if (needChmod(e.mode) && ::fchmod(fd, e.mode & 07777) < 0) {
    return sys::Error::fromErrno("chmod");
  }
  const struct timespec times[2] = {e.atime, e.mtime};
  if (::futimens(fd, times) < 0) return sys::Error::fromErrno("set times");
  return sys::ok();
}

// Ownership first, then xattrs: chown clears security.capability (and the
// setuid bits, which callers set afterwards with fchmod).
sys::Result<void> TreeWriter::setOwnerAndXattrs(int fd, const Entry& e) const {
  if (needChown(e) && ::fchown(fd, e.uid, e.gid) < 0) {
    return sys::Error::fromErrno("chown to " + std::to_string(e.uid) + ":" + std::to_string(e.gid));
  }
  for (const auto& [name, value] : e.xattrs) {
    if (forbiddenXattr(name)) continue;
    if (::fsetxattr(fd, name.c_str(), value.data(), value.size(), 0) == 0) continue;
    // An unprivileged unpack cannot set trusted.* or security.capability.
    if (!options_.chown && (errno == EPERM || errno == EACCES)) continue;
    return sys::Error::fromErrno("set xattr " + name);
  }
  return sys::ok();
}

sys::Result<void> TreeWriter::makeDir(int parent, const EntryPath& p, const Entry& e) {
  const std::string full = p.full();
  // 0700 until finish(): the real mode may not let us add children.
  if (::mkdirat(parent, p.name.c_str(), 0700) < 0) {
    if (errno != EEXIST) return sys::Error::fromErrno("create directory");
    struct stat st {};
    if (::fstatat(parent, p.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
      return sys::Error::fromErrno("stat existing directory");
    }
    if (!S_ISDIR(st.st_mode)) {
      BERTH_TRY(removeExisting(parent, p.name, full));
      if (::mkdirat(parent, p.name.c_str(), 0700) < 0) {
        return sys::Error::fromErrno("create directory");
      }
    }
  }
  created_.insert(full);
  auto cached = dirs_.find(full);
  int fd;
  if (cached != dirs_.end()) {
    fd = cached->second->get();
  } else {
    sys::UniqueFd opened(::openat(parent, p.name.c_str(), kDirFlags));
    if (!opened) return sys::Error::fromErrno("open new directory");
    fd = opened.get();
    // Its children most likely come next.
    dirs_.emplace(full, std::make_shared<const sys::UniqueFd>(std::move(opened)));
  }
  BERTH_TRY(setOwnerAndXattrs(fd, e));
  deferDir(full, e);
  return sys::ok();
}

void TreeWriter::deferDir(const std::string& path, const Entry& e) {
  DirFix fix{path, e.mode, {e.atime, e.mtime}};
  auto [it, inserted] = dirFixIndex_.emplace(path, dirFixes_.size());
  if (inserted) {
    dirFixes_.push_back(std::move(fix));
  } else {
    dirFixes_[it->second] = std::move(fix);
  }
}

// Owner, mode and times of a name that cannot be opened without side
// effects (symlink, device, fifo): *at calls that do not follow symlinks.
sys::Result<void> TreeWriter::setNameAttrs(int parent, const std::string& name, const Entry& e,
                                           bool chmod) {
  if (needChown(e) && ::fchownat(parent, name.c_str(), e.uid, e.gid, AT_SYMLINK_NOFOLLOW) < 0) {
    return sys::Error::fromErrno("chown to " + std::to_string(e.uid) + ":" + std::to_string(e.gid));
  }
  // fchmodat has no working AT_SYMLINK_NOFOLLOW before fchmodat2; the name
  // was created by us a moment ago in a directory only we write to.
  if (chmod && needChmod(e.mode) && ::fchmodat(parent, name.c_str(), e.mode & 07777, 0) < 0) {
    return sys::Error::fromErrno("chmod");
  }
  const struct timespec times[2] = {e.atime, e.mtime};
  if (::utimensat(parent, name.c_str(), times, AT_SYMLINK_NOFOLLOW) < 0) {
    return sys::Error::fromErrno("set times");
  }
  return sys::ok();
}

sys::Result<void> TreeWriter::makeSymlink(int parent, const EntryPath& p, const Entry& e) {
  // The target is not checked: it is only ever followed inside the container's root.
  if (::symlinkat(e.link.c_str(), parent, p.name.c_str()) < 0) {
    if (errno != EEXIST) return sys::Error::fromErrno("create symlink");
    BERTH_TRY(removeExisting(parent, p.name, p.full()));
    if (::symlinkat(e.link.c_str(), parent, p.name.c_str()) < 0) {
      return sys::Error::fromErrno("create symlink");
    }
  }
  created_.insert(p.full());
  files_.insert(p.full());
  return setNameAttrs(parent, p.name, e, false);
}

sys::Result<void> TreeWriter::makeHardlink(const EntryPath& p, const Entry& e) {
  auto target = parseEntryPath(e.link);
  if (!target) return std::move(target).error().context("hard link target");
  const std::string full = p.full();
  const std::string targetFull = target->full();
  if (target->isRoot() || targetFull == full) {
    return sys::Error::invalid("hard link to " + quoted(e.link) + " links to itself or the root");
  }
  if (files_.count(targetFull) == 0) {
    return sys::Error::invalid("hard link target " + quoted(e.link) +
                               " is not an earlier file of this layer");
  }
  BERTH_TRY(drainIfPending(targetFull));
  for (int attempt = 0;; ++attempt) {
    // Looked up afresh on each attempt: replacing the name may drop cached fds.
    int targetDir = BERTH_TRY(dirFd(target->dir));
    int parent = BERTH_TRY(dirFd(p.dir));
    if (::linkat(targetDir, target->name.c_str(), parent, p.name.c_str(), 0) == 0) break;
    if (errno != EEXIST || attempt > 0) return sys::Error::fromErrno("link to " + quoted(e.link));
    BERTH_TRY(removeExisting(parent, p.name, full));
  }
  created_.insert(full);
  files_.insert(full);
  return sys::ok();
}

sys::Result<void> TreeWriter::makeNode(int parent, const EntryPath& p, const Entry& e) {
  mode_t type = e.type == EntryType::kCharDevice    ? S_IFCHR
                : e.type == EntryType::kBlockDevice ? S_IFBLK
                                                    : S_IFIFO;
  dev_t rdev = type == S_IFIFO ? 0 : e.rdev;
  if (::mknodat(parent, p.name.c_str(), type | (e.mode & 0777), rdev) < 0) {
    if (errno != EEXIST) return sys::Error::fromErrno("create device or fifo");
    BERTH_TRY(removeExisting(parent, p.name, p.full()));
    if (::mknodat(parent, p.name.c_str(), type | (e.mode & 0777), rdev) < 0) {
      return sys::Error::fromErrno("create device or fifo");
    }
  }
  created_.insert(p.full());
  files_.insert(p.full());
  return setNameAttrs(parent, p.name, e, true);
}

// ".wh.<name>": overlayfs's own whiteout, a 0:0 character device. An entry
// of the same name earlier in this layer already hides the lower one, and
// the image-spec says a whiteout only applies to lower layers, so it stays.
sys::Result<void> TreeWriter::makeWhiteout(const EntryPath& p, const std::string& target) {
  const std::string full = p.dir.empty() ? target : p.dir + "/" + target;
  BERTH_TRY(drainIfPending(full));
  int parent = BERTH_TRY(dirFd(p.dir));
  if (::mknodat(parent, target.c_str(), S_IFCHR, ::makedev(0, 0)) < 0 && errno != EEXIST) {
    return sys::Error::fromErrno("create whiteout for " + quoted(target));
  }
  created_.insert(full);
  return sys::ok();
}

sys::Result<void> TreeWriter::makeOpaque(const std::string& dir) {
  int fd = BERTH_TRY(dirFd(dir));
  const char* name = options_.userXattrs ? "user.overlay.opaque" : "trusted.overlay.opaque";
  if (::fsetxattr(fd, name, "y", 1, 0) < 0) {
    return sys::Error::fromErrno(std::string("mark directory opaque (") + name + ")");
  }
  return sys::ok();
}

sys::Result<void> TreeWriter::finish() {
  BERTH_TRY(drain());
  pool_.reset();
  // Children before parents, so a read-only parent never blocks a child.
  for (auto it = dirFixes_.rbegin(); it != dirFixes_.rend(); ++it) {
    int fd;
    sys::UniqueFd opened;
    if (it->path.empty()) {
      fd = root_->get();
    } else if (auto cached = dirs_.find(it->path); cached != dirs_.end()) {
      fd = cached->second->get();
    } else {
      opened.reset(openBeneath(root_->get(), it->path));
      // Replaced by a later non-directory entry: nothing to fix.
      if (!opened && (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)) continue;
      if (!opened) return parentError(errno, it->path).context("finish directory");
      fd = opened.get();
    }
    if (::fchmod(fd, it->mode & 07777) < 0) {
      return sys::Error::fromErrno("chmod directory " + quoted(it->path));
    }
    if (::futimens(fd, it->times) < 0) {
      return sys::Error::fromErrno("set times of directory " + quoted(it->path));
    }
  }
  dirs_.clear();
  return sys::ok();
}

}  // namespace berth::image::unpack
