// Sequential reading of records from one log file, in large preads, for the
// readers and for the writer's recovery of a torn tail.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "agent/logs/record.h"
#include "runtime/sys/result.h"

namespace berth::agent::logs {

class RecordScanner {
 public:
  enum class Status {
    kRecord,      // a valid record; header and payload are filled
    kEnd,         // the file ends exactly at a record boundary
    kIncomplete,  // bytes follow that are not (yet) a whole record
    kCorrupt,     // an invalid header or payload: nothing after it is trusted
  };

  // Reads `fd` (not owned) from `offset`, which must be a record boundary.
  explicit RecordScanner(int fd, uint64_t offset = 0);

  // The next record. The payload view is valid until the next call. After
  // kIncomplete the same record is tried again on the next call (the writer
  // may be finishing it); after kCorrupt the scanner stays there.
  sys::Result<Status> next(RecordHeader* header, std::string_view* payload);

  // The file offset just after the last record returned (the next boundary).
  uint64_t offset() const { return bufStart_ + pos_; }

  // Continues at another record boundary.
  void seek(uint64_t offset);

 private:
  // Makes at least `want` bytes available at pos_ if the file has them.
  sys::Result<void> fill(size_t want);

  int fd_;
  std::vector<unsigned char> buf_;
  uint64_t bufStart_ = 0;  // file offset of buf_[0]
  size_t pos_ = 0;         // next unread byte in buf_
  size_t len_ = 0;         // valid bytes in buf_
};

}  // namespace berth::agent::logs
