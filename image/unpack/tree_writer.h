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
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <ctime>
#include <memory>
#include <string>
#include <unordered_map>
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
};

class TreeWriter {
 public:
  // destDir must exist; it is opened once and everything happens below it.
  static sys::Result<std::unique_ptr<TreeWriter>> open(const std::string& destDir,
                                                       WriterOptions options);

  // Creates (or replaces: a later entry wins, as in tar) one entry.
  sys::Result<void> apply(const Entry& entry, DataSource& data);

  // Sets the deferred directory modes and times. Call once, after the last entry.
  sys::Result<void> finish();

 private:
  struct DirFix {
    std::string path;
    mode_t mode;
    struct timespec times[2];
  };

  TreeWriter(sys::UniqueFd root, WriterOptions options);
  sys::Result<void> applyAt(const Entry& e, const EntryPath& path, DataSource& data);
  sys::Result<int> dirFd(const std::string& dir);
  sys::Result<sys::UniqueFd> walkCreating(const std::string& dir);
  sys::Result<void> removeExisting(int parent, const std::string& name, const std::string& full);
  void forgetDirs(const std::string& prefix);
  sys::Result<void> writeFile(int parent, const EntryPath& p, const Entry& e, DataSource& data);
  sys::Result<void> makeDir(int parent, const EntryPath& p, const Entry& e);
  sys::Result<void> makeSymlink(int parent, const EntryPath& p, const Entry& e);
  sys::Result<void> makeHardlink(const EntryPath& p, const Entry& e);
  sys::Result<void> makeNode(int parent, const EntryPath& p, const Entry& e);
  sys::Result<void> makeWhiteout(const EntryPath& p, const std::string& target);
  sys::Result<void> makeOpaque(const std::string& dir);
  sys::Result<void> setOwnerAndXattrs(int fd, const Entry& e);
  sys::Result<void> setNameAttrs(int parent, const std::string& name, const Entry& e, bool chmod);
  void deferDir(const std::string& path, const Entry& e);
  bool needChown(const Entry& e) const;
  bool needChmod(mode_t mode) const;

  sys::UniqueFd root_;
  WriterOptions options_;
  uid_t euid_;
  gid_t egid_;
  mode_t umask_;
  bool rootSetgid_ = false;
  std::unordered_map<std::string, sys::UniqueFd> dirs_;
  std::vector<DirFix> dirFixes_;
  std::unordered_map<std::string, size_t> dirFixIndex_;
  // Non-directory paths this layer created: the only valid hard link targets.
  std::unordered_set<std::string> files_;
};

}  // namespace berth::image::unpack
