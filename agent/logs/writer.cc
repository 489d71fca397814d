// LogWriter: batching, rotation and crash repair of container log files.
#include "agent/logs/writer.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "agent/logs/files.h"
#include "agent/logs/scanner.h"

namespace berth::agent::logs {

namespace {

// Bounds of the pump() buffer; within them it follows the pipe's size.
constexpr size_t kMinRead = 64 * 1024;
constexpr size_t kMaxRead = 1024 * 1024;

bool sameInode(int dirfd, const std::string& a, const std::string& b) {
  struct stat sa {
  }, sb{};
  if (::fstatat(dirfd, a.c_str(), &sa, AT_SYMLINK_NOFOLLOW) != 0) return false;
  if (::fstatat(dirfd, b.c_str(), &sb, AT_SYMLINK_NOFOLLOW) != 0) return false;
  return sa.st_ino == sb.st_ino && sa.st_dev == sb.st_dev;
}

sys::Result<void> unlinkIfExists(int dirfd, const std::string& name) {
  if (::unlinkat(dirfd, name.c_str(), 0) != 0 && errno != ENOENT) {
    return sys::Error::fromErrno("remove log file " + name);
  }
  return sys::ok();
}

}  // namespace

int64_t LogWriter::nowNs() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

sys::Result<LogWriter> LogWriter::open(const std::string& dir, std::string baseName,
                                       WriterOptions options) {
  if (baseName.empty() || baseName.find('/') != std::string::npos) {
    return sys::Error::invalid("log base name '" + baseName + "' must be a plain file name");
  }
  if (options.maxFiles < 1) return sys::Error::invalid("log maxFiles must be at least 1");
  LogWriter w;
  w.dir_ = dir;
  w.base_ = std::move(baseName);
  w.options_ = options;
  w.dirfd_.reset(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!w.dirfd_) return sys::Error::fromErrno("open log directory " + dir);
  BERTH_TRY_CTX(w.recover(), "open log " + w.base_ + " in " + dir);
  return w;
}

sys::Result<void> LogWriter::openLive(bool truncate) {
  std::string name = logFileName(base_, 0);
  int flags = O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | (truncate ? O_TRUNC : 0);
  fd_.reset(::openat(dirfd_.get(), name.c_str(), flags, options_.mode));
  if (!fd_) return sys::Error::fromErrno("open log file " + name);
  struct stat st {};
  if (::fstat(fd_.get(), &st) != 0) return sys::Error::fromErrno("stat log file " + name);
  size_ = static_cast<uint64_t>(st.st_size);
  return sys::ok();
}

sys::Result<void> LogWriter::recover() {
  std::string live = logFileName(base_, 0);
  BERTH_TRY(unlinkIfExists(dirfd_.get(), newLogFileName(base_)));
  // A crash between linking .log as .log.1 and renaming the new file over
  // .log leaves two names for one file: the rotation had finished with it.
  if (options_.maxFiles > 1 && sameInode(dirfd_.get(), live, logFileName(base_, 1))) {
    BERTH_TRY(unlinkIfExists(dirfd_.get(), live));
  }
  BERTH_TRY(openLive(false));
  RecordScanner scanner(fd_.get());
  RecordHeader header;
  std::string_view payload;
  for (;;) {
    auto status = BERTH_TRY(scanner.next(&header, &payload));
    if (status == RecordScanner::Status::kRecord) {
      // What follows continues the line a stream left unfinished.
      midLine(header.stream) = header.endsMidLine();
      continue;
    }
    if (status == RecordScanner::Status::kEnd) return sys::ok();
    if (status == RecordScanner::Status::kIncomplete) {
      // A torn last record: cut it off so new records follow good ones.
      if (::ftruncate(fd_.get(), static_cast<off_t>(scanner.offset())) != 0) {
        return sys::Error::fromErrno("truncate torn record of log file " + live);
      }
      size_ = scanner.offset();
      return sys::ok();
    }
    // Corrupt in the middle: keep the file for readers (who stop at the bad
    // record) and start a new one rather than destroy what follows.
    return rotate();
  }
}

sys::Result<void> LogWriter::rotate() {
  int dirfd = dirfd_.get();
  std::string live = logFileName(base_, 0);
  if (options_.maxFiles > 1) {
    for (unsigned i = options_.maxFiles - 2; i >= 1; --i) {
      std::string from = logFileName(base_, i), to = logFileName(base_, i + 1);
      if (::renameat(dirfd, from.c_str(), dirfd, to.c_str()) != 0 && errno != ENOENT) {
        return sys::Error::fromErrno("rotate log file " + from + " to " + to);
      }
    }
    std::string first = logFileName(base_, 1);
    // With maxFiles == 2 .log.1 is the oldest and still there.
    BERTH_TRY(unlinkIfExists(dirfd, first));
    if (::linkat(dirfd, live.c_str(), dirfd, first.c_str(), 0) != 0) {
      return sys::Error::fromErrno("rotate log file " + live + " to " + first);
    }
  }
  std::string fresh = newLogFileName(base_);
  sys::UniqueFd fd(::openat(dirfd, fresh.c_str(),
                            O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC | O_NOFOLLOW,
                            options_.mode));
  if (!fd) return sys::Error::fromErrno("create log file " + fresh);
  if (::renameat(dirfd, fresh.c_str(), dirfd, live.c_str()) != 0) {
    return sys::Error::fromErrno("rename log file " + fresh + " to " + live);
  }
  fd_ = std::move(fd);
  size_ = 0;
  return sys::ok();
}

sys::Result<void> LogWriter::write(Stream stream, std::string_view chunk) {
  return write(stream, chunk, nowNs());
}

LogWriter::Plan LogWriter::plan(Stream stream, std::string_view payload) const {
  uint64_t fileSize = size_ + pending_;
  uint64_t limit = options_.maxSizeBytes;
  if (limit == 0 || fileSize == 0 || fileSize + kHeaderSize + payload.size() <= limit) {
    return {payload.size(), false, false};
  }
  // A '\n' of this stream is a line boundary only if the other stream is
  // not in the middle of a line too.
  bool otherMid = midLine(stream == Stream::kStdout ? Stream::kStderr : Stream::kStdout);
  auto roomBelow = [&](uint64_t bound) -> size_t {
    uint64_t used = fileSize + kHeaderSize;
    return bound > used ? static_cast<size_t>(std::min<uint64_t>(bound - used, payload.size())) : 0;
  };
  if (!otherMid) {
    // Fill the file up to the last line end that fits (a memrchr per
    // rotation, not per record).
    size_t room = roomBelow(limit);
    const void* nl = room > 0 ? ::memrchr(payload.data(), '\n', room) : nullptr;
    if (nl != nullptr) return {static_cast<size_t>(static_cast<const char*>(nl) - payload.data()) + 1, false, true};
    if (!midLine(stream)) return {payload.size(), true, false};
  }
  // In the middle of a line: finish it in this file, within the slack.
  uint64_t bound = limit + options_.lineSlackBytes;
  size_t room = roomBelow(bound);
  if (!otherMid && room > 0) {
    if (const void* nl = std::memchr(payload.data(), '\n', room)) {
      return {static_cast<size_t>(static_cast<const char*>(nl) - payload.data()) + 1, false, true};
    }
  }
  if (fileSize + kHeaderSize + payload.size() <= bound) return {payload.size(), false, false};
  return {payload.size(), true, false};  // a line longer than the slack: split it here
}

void LogWriter::append(Stream stream, std::string_view payload, int64_t timeNs) {
  RecordHeader h;
  h.length = static_cast<uint32_t>(payload.size());
  h.timeNs = timeNs;
  h.stream = stream;
  bool& mid = midLine(stream);
  h.flags = kFlagMarksContinuation | (mid ? kFlagContinuesLine : 0) |
            (payload.back() == '\n' ? 0 : kFlagEndsMidLine);
  mid = h.endsMidLine();
  if (headers_.size() <= payloads_.size()) headers_.resize(payloads_.size() + 1);
  encodeHeader(h, headers_[payloads_.size()].data());
  payloads_.push_back(payload);
  pending_ += kHeaderSize + payload.size();
}

sys::Result<void> LogWriter::write(Stream stream, std::string_view chunk, int64_t timeNs) {
  payloads_.clear();
  pending_ = 0;
  while (!chunk.empty()) {
    Plan p = plan(stream, chunk.substr(0, kMaxPayload));
    if (p.rotateBefore) {
      BERTH_TRY(flush());
      BERTH_TRY_CTX(rotate(), "rotate log " + base_ + " in " + dir_);
    }
    append(stream, chunk.substr(0, p.take), timeNs);
    chunk.remove_prefix(p.take);
    if (p.rotateAfter) {
      BERTH_TRY(flush());
      BERTH_TRY_CTX(rotate(), "rotate log " + base_ + " in " + dir_);
    }
  }
  return flush();
}

sys::Result<void> LogWriter::flush() {
  if (payloads_.empty()) return sys::ok();
  iov_.clear();
  for (size_t i = 0; i < payloads_.size(); ++i) {
    iov_.push_back({headers_[i].data(), kHeaderSize});
    iov_.push_back({const_cast<char*>(payloads_[i].data()), payloads_[i].size()});
  }
  payloads_.clear();
  uint64_t bytes = pending_;
  pending_ = 0;
  BERTH_TRY_CTX(writeAll(iov_.data(), iov_.size()), "append to log " + base_ + " in " + dir_);
  size_ += bytes;
  return sys::ok();
}

sys::Result<void> LogWriter::writeAll(struct iovec* iov, size_t count) {
  uint64_t written = 0;
  while (count > 0) {
    ssize_t n = ::writev(fd_.get(), iov, static_cast<int>(std::min<size_t>(count, IOV_MAX)));
    if (n < 0) {
      if (errno == EINTR) continue;
      sys::Error error = sys::Error::fromErrno("write log file");
      // A partial batch would be a torn record in the middle of the file
      // once the next batch follows: cut the file back to its last record.
      if (written > 0) (void)::ftruncate(fd_.get(), static_cast<off_t>(size_));
      return error;
    }
    written += static_cast<uint64_t>(n);
    size_t done = static_cast<size_t>(n);
    while (count > 0 && done >= iov->iov_len) {
      done -= iov->iov_len;
      ++iov;
      --count;
    }
    if (count > 0) {
      iov->iov_base = static_cast<char*>(iov->iov_base) + done;
      iov->iov_len -= done;
    }
  }
  return sys::ok();
}

sys::Result<LogWriter::Pumped> LogWriter::pump(int fd, Stream stream) {
  if (readCap_ == 0) {
    // Sized once, by the pipe of the first call (not a syscall per read).
    int pipeSize = ::fcntl(fd, F_GETPIPE_SZ);
    readCap_ =
        std::clamp(pipeSize > 0 ? static_cast<size_t>(pipeSize) : kMinRead, kMinRead, kMaxRead);
    readBuf_.reset(new char[readCap_]);
  }
  for (;;) {
    ssize_t n = ::read(fd, readBuf_.get(), readCap_);
    if (n > 0) {
      BERTH_TRY(write(stream, std::string_view(readBuf_.get(), static_cast<size_t>(n))));
      return Pumped{static_cast<size_t>(n), false};
    }
    if (n == 0) return Pumped{0, true};
    if (errno == EINTR) continue;
    if (errno == EAGAIN) return Pumped{};
    return sys::Error::fromErrno("read container output for log " + base_);
  }
}

sys::Result<void> LogWriter::sync() {
  if (::fdatasync(fd_.get()) != 0)
    return sys::Error::fromErrno("sync log " + base_ + " in " + dir_);
  return sys::ok();
}

}  // namespace berth::agent::logs
