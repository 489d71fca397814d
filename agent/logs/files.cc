// Log file names and the reader's snapshot of the rotated chain.
#include "agent/logs/files.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>

namespace berth::agent::logs {

namespace {

// Rotated indexes beyond this are not ours (and bound the directory scan).
constexpr unsigned kMaxIndex = 100000;

// The highest index present in the directory, or 0.
sys::Result<unsigned> highestIndex(int dirfd, std::string_view base) {
  int dupfd = ::fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
  if (dupfd < 0) return sys::Error::fromErrno("dup log directory fd");
  DIR* dir = ::fdopendir(dupfd);
  if (dir == nullptr) {
    ::close(dupfd);
    return sys::Error::fromErrno("open log directory");
  }
  ::rewinddir(dir);
  unsigned highest = 0;
  while (const struct dirent* entry = ::readdir(dir)) {
    int index = chainIndexOf(base, entry->d_name);
    if (index > 0) highest = std::max(highest, static_cast<unsigned>(index));
  }
  ::closedir(dir);
  return highest;
}

}  // namespace

std::string logFileName(std::string_view base, unsigned index) {
  std::string name(base);
  name += ".log";
  if (index > 0) {
    name += '.';
    name += std::to_string(index);
  }
  return name;
}

std::string newLogFileName(std::string_view base) {
  return std::string(base) + ".log.new";
}

int chainIndexOf(std::string_view base, std::string_view name) {
  if (name.size() < base.size() + 4 || name.substr(0, base.size()) != base) return -1;
  name.remove_prefix(base.size());
  if (name.substr(0, 4) != ".log") return -1;
  name.remove_prefix(4);
  if (name.empty()) return 0;
  if (name[0] != '.' || name.size() < 2 || name.size() > 6 || name[1] == '0') return -1;
  unsigned index = 0;
  for (char c : name.substr(1)) {
    if (c < '0' || c > '9') return -1;
    index = index * 10 + static_cast<unsigned>(c - '0');
  }
  return index <= kMaxIndex ? static_cast<int>(index) : -1;
}

sys::Result<std::vector<ChainFile>> openChain(int dirfd, std::string_view base) {
  unsigned highest = BERTH_TRY(highestIndex(dirfd, base));
  std::vector<ChainFile> newestFirst;
  // One past the highest seen: a rotation may have moved the oldest up
  // since the directory was listed. Gaps (a rename in flight) are skipped.
  for (unsigned index = 0; index <= highest + 1; ++index) {
    std::string name = logFileName(base, index);
    sys::UniqueFd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd) {
      if (errno == ENOENT) continue;
      return sys::Error::fromErrno("open log file " + name);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return sys::Error::fromErrno("stat log file " + name);
    if (!S_ISREG(st.st_mode))
      return sys::Error::invalid("log file " + name + " is not a regular file");
    bool seen = std::any_of(newestFirst.begin(), newestFirst.end(),
                            [&](const ChainFile& f) { return f.sameFile(st); });
    if (seen) continue;
    newestFirst.push_back(ChainFile{std::move(fd), st.st_ino, st.st_dev, index});
  }
  std::reverse(newestFirst.begin(), newestFirst.end());
  return newestFirst;
}

}  // namespace berth::agent::logs
