// The files of one container log: names, and a consistent view of the
// rotated chain for readers.
//
// <base>.log is the live file; rotation moves it to <base>.log.1, .1 to .2
// and so on, up to <base>.log.(maxFiles-1); the oldest is overwritten.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "runtime/sys/fd.h"
#include "runtime/sys/result.h"

namespace berth::agent::logs {

// <base>.log for index 0, <base>.log.<index> otherwise.
std::string logFileName(std::string_view base, unsigned index);

// The temporary name a new live file is created under before it is renamed
// into place.
std::string newLogFileName(std::string_view base);

// One open file of the chain. Holding the fd keeps reading the same file
// however it is renamed afterwards.
struct ChainFile {
  sys::UniqueFd fd;
  ino_t ino = 0;
  dev_t dev = 0;
  unsigned index = 0;  // its number when it was opened (0 = the live file)

  bool sameFile(const struct stat& st) const { return st.st_ino == ino && st.st_dev == dev; }
};

// Opens every file of the chain under `dirfd`, oldest first, the live file
// last. Files are opened newest first (.log, .log.1, ...): a rotation
// running meanwhile only moves files to higher numbers, so a file may be met
// twice (dropped by inode) but never skipped, except the oldest one that
// rotation deletes anyway. Missing files are not an error (empty chain).
sys::Result<std::vector<ChainFile>> openChain(int dirfd, std::string_view base);

// The index of `name` in the chain of `base` (0 for <base>.log), or -1 when
// it is not a file of the chain.
int chainIndexOf(std::string_view base, std::string_view name);

}  // namespace berth::agent::logs
