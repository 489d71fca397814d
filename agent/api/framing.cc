// Frame reading and writing over a stream socket (see framing.h).
#include "agent/api/framing.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/stubs/logging.h>
#include <google/protobuf/util/delimited_message_util.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <mutex>

namespace berth::agent::api {
namespace {

constexpr int kBlockSize = 64 * 1024;  // few recv/send calls for log bursts
// A varint needs 5 bytes for any 32-bit length; a sixth byte means a length
// of 2^35 or more, far above any limit.
constexpr int kMaxLengthBytes = 5;

// Waits until `fd` is ready for `events` or `interruptFd` is readable.
// Returns 1 ready, 0 timeout, -2 interrupted, -1 error (errno set).
int waitFor(int fd, short events, int interruptFd, int timeoutMs) {
  pollfd fds[2] = {{fd, events, 0}, {interruptFd, POLLIN, 0}};
  nfds_t count = interruptFd >= 0 ? 2 : 1;
  for (;;) {
    int n = ::poll(fds, count, timeoutMs);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) return 0;
    if (count == 2 && fds[1].revents != 0) return -2;
    return 1;
  }
}

}  // namespace

const char* readStatusText(ReadStatus status) {
  switch (status) {
    case ReadStatus::kOk:
      return "ok";
    case ReadStatus::kEof:
      return "end of stream";
    case ReadStatus::kTruncated:
      return "truncated frame";
    case ReadStatus::kTooLarge:
      return "frame too large";
    case ReadStatus::kMalformed:
      return "malformed frame";
    case ReadStatus::kTimeout:
      return "timed out";
    case ReadStatus::kInterrupted:
      return "interrupted";
    case ReadStatus::kIoError:
      return "read error";
  }
  return "unknown";
}

int FrameReader::SocketInput::Read(void* buffer, int size) {
  // Only called when the adaptor's buffer is empty, so waiting here never
  // sits on bytes that were already received.
  int ready = waitFor(fd_, POLLIN, interruptFd_, timeoutMs_);
  if (ready == 0) {
    failure_ = ReadStatus::kTimeout;
    return -1;
  }
  if (ready == -2) {
    failure_ = ReadStatus::kInterrupted;
    return -1;
  }
  if (ready < 0) {
    failure_ = ReadStatus::kIoError;
    errno_ = errno;
    return -1;
  }
  for (;;) {
    ssize_t n = ::recv(fd_, buffer, static_cast<size_t>(size), 0);
    if (n >= 0) {
      if (n == 0) failure_ = ReadStatus::kEof;
      return static_cast<int>(n);
    }
    if (errno == EINTR) continue;
    failure_ = ReadStatus::kIoError;
    errno_ = errno;
    return -1;
  }
}

FrameReader::FrameReader(int fd, FrameOptions options, int interruptFd)
    : options_(options), input_(fd, interruptFd), stream_(&input_, kBlockSize) {
  // libprotobuf logs some parse failures (a `string` field that is not
  // UTF-8) to stderr by itself. We already report them as kMalformed, and a
  // hostile client could otherwise flood berthd's journal, so its log goes
  // nowhere (process-wide; LOG(FATAL) still aborts).
  static std::once_flag quiet;
  std::call_once(quiet, [] { google::protobuf::SetLogHandler(nullptr); });
}

ReadStatus FrameReader::fail(ReadStatus status, std::string text) {
  done_ = true;
  lastError_ = std::move(text);
  return status;
}

// The input stream stopped: say why, knowing whether a frame had begun.
ReadStatus FrameReader::failFromInput(bool started) {
  switch (input_.failure()) {
    case ReadStatus::kEof:
      if (!started) return fail(ReadStatus::kEof, "end of stream");
      return fail(ReadStatus::kTruncated, "connection closed inside a frame");
    case ReadStatus::kTimeout:
      return fail(ReadStatus::kTimeout,
                  started ? "timed out inside a frame" : "timed out waiting for a frame");
    case ReadStatus::kInterrupted:
      return fail(ReadStatus::kInterrupted, "interrupted");
    default:
      return fail(ReadStatus::kIoError, std::string("recv: ") + std::strerror(input_.error()));
  }
}

ReadStatus FrameReader::read(google::protobuf::MessageLite* message) {
  if (done_) return fail(ReadStatus::kEof, "reader already finished");
  // Set before the CodedInputStream exists: its constructor already reads.
  input_.setTimeout(options_.idleTimeoutMs);
  // A fresh CodedInputStream per frame: its destructor hands unread bytes
  // back to stream_, so the next frame starts exactly where this one ended.
  google::protobuf::io::CodedInputStream coded(&stream_);

  // The length prefix is decoded byte by byte, not by ParseDelimitedFrom*,
  // because the limit must be checked before the body is read: protobuf's
  // helper has no per-message cap, only a total-bytes limit that trips after
  // reading. This is the same varint the helper decodes.
  std::uint64_t length = 0;
  for (int i = 0;; ++i) {
    std::uint8_t byte = 0;
    if (!coded.ReadRaw(&byte, 1)) return failFromInput(i > 0);
    if (i == 0) input_.setTimeout(options_.frameTimeoutMs);
    length |= static_cast<std::uint64_t>(byte & 0x7f) << (7 * i);
    if ((byte & 0x80) == 0) break;
    if (i + 1 == kMaxLengthBytes) {
      announced_ = SIZE_MAX;
      return fail(ReadStatus::kTooLarge, "frame length prefix longer than 5 bytes");
    }
  }
  if (length > options_.maxFrameSize) {
    announced_ = static_cast<std::size_t>(length);
    return fail(ReadStatus::kTooLarge, "frame of " + std::to_string(length) +
                                           " bytes exceeds the limit of " +
                                           std::to_string(options_.maxFrameSize));
  }
  // ReadString reserves at most what is announced, and that is now bounded.
  std::string body;
  if (!coded.ReadString(&body, static_cast<int>(length))) return failFromInput(true);
  if (!message->ParseFromString(body)) {
    return fail(ReadStatus::kMalformed, "frame of " + std::to_string(length) +
                                            " bytes is not a valid " + message->GetTypeName());
  }
  return ReadStatus::kOk;
}

bool FrameWriter::SocketOutput::Write(const void* buffer, int size) {
  const char* data = static_cast<const char*>(buffer);
  std::size_t left = static_cast<std::size_t>(size);
  while (left > 0) {
    // MSG_DONTWAIT + poll: the timeout applies whether or not the fd is blocking.
    ssize_t n = ::send(fd_, data, left, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      data += n;
      left -= static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      int ready = waitFor(fd_, POLLOUT, -1, timeoutMs_);
      if (ready > 0) continue;
      errno_ = ready == 0 ? ETIMEDOUT : errno;
      return false;
    }
    errno_ = n < 0 ? errno : EPIPE;
    return false;
  }
  return true;
}

FrameWriter::FrameWriter(int fd, FrameOptions options)
    : options_(options), output_(fd, options.writeTimeoutMs), stream_(&output_, kBlockSize) {}

sys::Result<void> FrameWriter::write(const google::protobuf::MessageLite& message) {
  std::size_t size = message.ByteSizeLong();
  if (size > options_.maxFrameSize) {
    return sys::Error(EMSGSIZE, "write " + message.GetTypeName() + " frame of " +
                                    std::to_string(size) + " bytes (limit " +
                                    std::to_string(options_.maxFrameSize) + ")");
  }
  std::lock_guard lock(mutex_);
  // After a failed write the peer may hold half a frame: nothing more may follow.
  if (broken_) return sys::Error(EPIPE, "write frame: connection already failed");
  bool ok = google::protobuf::util::SerializeDelimitedToZeroCopyStream(message, &stream_) &&
            stream_.Flush();
  if (!ok) {
    broken_ = true;
    return sys::Error(output_.error() != 0 ? output_.error() : EIO,
                      "write " + message.GetTypeName() + " frame");
  }
  return sys::ok();
}

}  // namespace berth::agent::api
