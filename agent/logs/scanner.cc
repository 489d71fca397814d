// RecordScanner: walks the records of a log file through a 256 KiB window.
#include "agent/logs/scanner.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace berth::agent::logs {

namespace {
// Big enough for several maximal records, so a sequential read costs one
// pread per 256 KiB.
constexpr size_t kWindow = 256 * 1024;
static_assert(kWindow >= 2 * (kHeaderSize + kMaxPayload));
}  // namespace

RecordScanner::RecordScanner(int fd, uint64_t offset) : fd_(fd), buf_(kWindow), bufStart_(offset) {}

void RecordScanner::seek(uint64_t offset) {
  bufStart_ = offset;
  pos_ = len_ = 0;
}

sys::Result<void> RecordScanner::fill(size_t want) {
  if (len_ - pos_ >= want) return sys::ok();
  if (pos_ > 0) {
    std::memmove(buf_.data(), buf_.data() + pos_, len_ - pos_);
    bufStart_ += pos_;
    len_ -= pos_;
    pos_ = 0;
  }
  while (len_ < want) {
    ssize_t n =
        ::pread(fd_, buf_.data() + len_, buf_.size() - len_, static_cast<off_t>(bufStart_ + len_));
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys::Error::fromErrno("read log file at offset " + std::to_string(bufStart_ + len_));
    }
    if (n == 0) break;
    len_ += static_cast<size_t>(n);
  }
  return sys::ok();
}

sys::Result<RecordScanner::Status> RecordScanner::next(RecordHeader* header,
                                                       std::string_view* payload) {
  BERTH_TRY(fill(kHeaderSize));
  size_t avail = len_ - pos_;
  if (avail == 0) return Status::kEnd;
  if (avail < kHeaderSize) {
    // The bytes may change before the next try (the writer truncating a
    // torn tail and appending anew): read them again then.
    len_ = pos_;
    return Status::kIncomplete;
  }
  RecordHeader h;
  if (!decodeHeader(buf_.data() + pos_, &h)) return Status::kCorrupt;
  BERTH_TRY(fill(kHeaderSize + h.length));
  if (len_ - pos_ < kHeaderSize + h.length) {
    len_ = pos_;
    return Status::kIncomplete;
  }
  std::string_view body(reinterpret_cast<const char*>(buf_.data() + pos_ + kHeaderSize), h.length);
  if (!payloadMatches(h, body)) return Status::kCorrupt;
  pos_ += kHeaderSize + h.length;
  *header = h;
  *payload = body;
  return Status::kRecord;
}

}  // namespace berth::agent::logs
