// Writes archive entries into a layer directory with few system calls and
// no path ever resolved outside it.
//
// Parent directories are opened once (openat2 RESOLVE_BENEATH |
// RESOLVE_NO_SYMLINKS, so a symlink anywhere in a parent path is refused)
// and kept in a small cache keyed by path; entries are created relative to
// the parent fd with a single name, without following a symlink at the
// final component; a regular file costs openat, write, futimens and close
// (fchown, fchmod, fsetxattr only when its ids, mode or xattrs need them).
// Directory modes and times are set at the end: creating children changes a
// directory's mtime, and a read-only mode would stop an unprivileged unpack
// from filling it.
//
// With WriterOptions::threads, small regular files are created by a pool of
// worker threads (file_pool.h) while later entries are parsed; everything
// else stays on the caller's thread, in archive order, and waits for the
// pool whenever it could touch a name a worker has yet to create.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <ctime>
#include <memory>
#include <string>
#include <unordered_map>
#include <set>
#include <unordered_set>
#include <utility>
#include <vector>

#include "image/unpack/entry_path.h"
#include "runtime/sys/fd.h"
#include "runtime/sys/result.h"

namespace berth::image::unpack {

enum class EntryType { kFile, kDir, kSymlink, kHardlink, kCharDevice, kBlockDevice, kFifo };

// One archive entry, as read from the tar header (untrusted).
struct Entry {
  std::string path;
  EntryType type = EntryType::kFile;
  mode_t mode = 0;  // permission bits including setuid, setgid, sticky
  uint32_t uid = 0;
  uint32_t gid = 0;
  int64_t size = 0;
  struct timespec atime {};
  struct timespec mtime {};
  dev_t rdev = 0;
  std::string link;  // symlink or hard link target
  std::vector<std::pair<std::string, std::string>> xattrs;
};

// A regular file's content, block by block (offsets allow sparse files).
class DataSource {
 public:
  virtual ~DataSource() = default;
  // false at the end of the entry's data.
  virtual sys::Result<bool> nextBlock(const void** data, size_t* len, int64_t* offset) = 0;
};

struct WriterOptions {
  bool chown = false;
  bool userXattrs = false;
  // Worker threads creating regular files of at most kMaxPooledFile bytes;
  // 0 creates everything on the caller's thread. Used only when the
  // destination is empty when opened: the writer then knows every name that
  // exists below it, which is what lets it hand a file to a worker.
  size_t threads = 0;
};

class FilePool;
struct FileJob;

class TreeWriter {
 public:
  // Larger files are written by the caller's thread (their cost is the
  // data, not the inode) and are never buffered whole.
  static constexpr int64_t kMaxPooledFile = 1 << 20;

  ~TreeWriter();
  TreeWriter(const TreeWriter&) = delete;
  TreeWriter& operator=(const TreeWriter&) = delete;

  // destDir must exist; it is opened once and everything happens below it.
  static sys::Result<std::unique_ptr<TreeWriter>> open(const std::string& destDir,
                                                       WriterOptions options);

  // Creates (or replaces: a later entry wins, as in tar) one entry.
  sys::Result<void> apply(const Entry& entry, DataSource& data);

  // Waits for the worker threads, then sets the deferred directory modes and
  // times. Call once, after the last entry.
  sys::Result<void> finish();

 private:
  struct DirFix {
    std::string path;
    mode_t mode;
    struct timespec times[2];
  };

  using DirHandle = std::shared_ptr<const sys::UniqueFd>;

  TreeWriter(sys::UniqueFd root, WriterOptions options);
  sys::Result<void> applyAt(const Entry& e, const EntryPath& path, DataSource& data);
  sys::Result<int> dirFd(const std::string& dir);
  sys::Result<DirHandle> dirHandle(const std::string& dir);
  sys::Result<sys::UniqueFd> walkCreating(const std::string& dir);
  sys::Result<void> removeExisting(int parent, const std::string& name, const std::string& full);
  void forgetDirs(const std::string& prefix);
  sys::Result<void> drain();
  sys::Result<void> drainIfPending(const std::string& full);
  sys::Result<void> drainIfPendingParent(const std::string& dir);
  sys::Result<void> writeFile(const EntryPath& p, const Entry& e, DataSource& data);
  sys::Result<void> queueFile(const EntryPath& p, const Entry& e, DataSource& data);
  sys::Result<void> createQueuedFile(const FileJob& job) const;
  sys::Result<void> fillFile(int fd, const Entry& e, DataSource& data) const;
  sys::Result<void> makeDir(int parent, const EntryPath& p, const Entry& e);
  sys::Result<void> makeSymlink(int parent, const EntryPath& p, const Entry& e);
  sys::Result<void> makeHardlink(const EntryPath& p, const Entry& e);
  sys::Result<void> makeNode(int parent, const EntryPath& p, const Entry& e);
  sys::Result<void> makeWhiteout(const EntryPath& p, const std::string& target);
  sys::Result<void> makeOpaque(const std::string& dir);
  sys::Result<void> setOwnerAndXattrs(int fd, const Entry& e) const;
  sys::Result<void> setNameAttrs(int parent, const std::string& name, const Entry& e, bool chmod);
  void deferDir(const std::string& path, const Entry& e);
  bool needChown(const Entry& e) const;
  bool needChmod(mode_t mode) const;

  DirHandle root_;
  WriterOptions options_;
  uid_t euid_;
  gid_t egid_;
  mode_t umask_;
  bool rootSetgid_ = false;
  std::unordered_map<std::string, DirHandle> dirs_;
  std::vector<DirFix> dirFixes_;
  std::unordered_map<std::string, size_t> dirFixIndex_;
  // Non-directory paths this layer created: the only valid hard link targets.
  std::set<std::string> files_;
  // Every path this writer created and has not removed. With an empty
  // destination, a path not in here does not exist, so a worker can create
  // it with O_EXCL and nothing to replace.
  std::set<std::string> created_;
  // Paths handed to the pool since the last drain(): any other operation on
  // such a name, on a directory holding it, or through it as a parent, first
  // waits for the pool, so the outcome is the one of archive order.
  std::unordered_set<std::string> pending_;
  // Last: destroyed (its threads joined) before anything its jobs may use.
  std::unique_ptr<FilePool> pool_;
};

}  // namespace berth::image::unpack
