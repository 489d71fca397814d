// Length-delimited protobuf frames on a stream socket.
//
// Each frame is a varint length followed by that many bytes of one message:
// protobuf's own delimited format (util/delimited_message_util.h), so any
// protobuf implementation can talk to berthd. The reader enforces a maximum
// frame size before it allocates anything, tells a clean end of stream from a
// frame cut short, and bounds how long a started frame may take to arrive, so
// a slow or hostile peer costs one connection, never the daemon.
//
// Both directions sit on protobuf's Copying*StreamAdaptor over recv()/send()
// rather than File*Stream over read()/write(): send(MSG_NOSIGNAL) means a
// client that hangs up yields EPIPE, not a SIGPIPE that kills berthd, and
// polling before recv() lets another thread interrupt a blocked reader.
#pragma once

#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/message_lite.h>

#include <cstddef>
#include <mutex>
#include <string>

#include "runtime/sys/result.h"

namespace berth::agent::api {

inline constexpr std::size_t kMaxFrameSize = 4u << 20;

struct FrameOptions {
  std::size_t maxFrameSize = kMaxFrameSize;
  // How long to wait for the first byte of the next frame; -1: forever (an
  // idle CLI connection is fine).
  int idleTimeoutMs = -1;
  // How long the rest of a started frame may take; -1: forever.
  int frameTimeoutMs = 30'000;
  // How long a peer that does not read may keep a write blocked; -1: forever.
  int writeTimeoutMs = 30'000;
};

enum class ReadStatus {
  kOk,
  kEof,          // the peer closed between frames
  kTruncated,    // the peer closed inside a frame
  kTooLarge,     // the announced length exceeds maxFrameSize (nothing allocated)
  kMalformed,    // the bytes are not a valid message
  kTimeout,      // idleTimeoutMs / frameTimeoutMs passed
  kInterrupted,  // interrupt() was called
  kIoError,      // recv failed (ECONNRESET, ...)
};

const char* readStatusText(ReadStatus status);

// Reads frames from `fd` (not owned). One reader per direction and fd, used by
// one thread at a time; it buffers, so once a FrameReader read from an fd,
// only it may read from that fd. After any status but kOk the reader is done.
class FrameReader {
 public:
  // `interruptFd` (may be -1): when it becomes readable, a read blocked on the
  // socket returns kInterrupted.
  FrameReader(int fd, FrameOptions options = {}, int interruptFd = -1);
  FrameReader(const FrameReader&) = delete;
  FrameReader& operator=(const FrameReader&) = delete;

  ReadStatus read(google::protobuf::MessageLite* message);
  // What went wrong in the last read, in words ("frame of 9000000 bytes
  // exceeds the limit of 4194304", "recv: Connection reset by peer").
  const std::string& lastError() const { return lastError_; }
  // Length announced by the last kTooLarge frame.
  std::size_t lastAnnouncedSize() const { return announced_; }

 private:
  class SocketInput : public google::protobuf::io::CopyingInputStream {
   public:
    SocketInput(int fd, int interruptFd) : fd_(fd), interruptFd_(interruptFd) {}
    int Read(void* buffer, int size) override;
    void setTimeout(int ms) { timeoutMs_ = ms; }
    ReadStatus failure() const { return failure_; }
    int error() const { return errno_; }

   private:
    int fd_;
    int interruptFd_;
    int timeoutMs_ = -1;
    ReadStatus failure_ = ReadStatus::kEof;
    int errno_ = 0;
  };

  ReadStatus fail(ReadStatus status, std::string text);
  ReadStatus failFromInput(bool started);

  FrameOptions options_;
  SocketInput input_;
  google::protobuf::io::CopyingInputStreamAdaptor stream_;
  std::string lastError_;
  std::size_t announced_ = 0;
  bool done_ = false;
};

// Writes frames to `fd` (not owned). Thread-safe: a stream's output pump and
// the connection's terminal frame may write concurrently, frames never interleave.
class FrameWriter {
 public:
  explicit FrameWriter(int fd, FrameOptions options = {});
  FrameWriter(const FrameWriter&) = delete;
  FrameWriter& operator=(const FrameWriter&) = delete;

  // Fails (EMSGSIZE) for a message larger than maxFrameSize: the peer would
  // refuse it, so callers chunk large payloads (log data, exec output).
  sys::Result<void> write(const google::protobuf::MessageLite& message);

 private:
  class SocketOutput : public google::protobuf::io::CopyingOutputStream {
   public:
    SocketOutput(int fd, int timeoutMs) : fd_(fd), timeoutMs_(timeoutMs) {}
    bool Write(const void* buffer, int size) override;
    int error() const { return errno_; }

   private:
    int fd_;
    int timeoutMs_;
    int errno_ = 0;
  };

  std::mutex mutex_;
  FrameOptions options_;
  SocketOutput output_;
  google::protobuf::io::CopyingOutputStreamAdaptor stream_;
  bool broken_ = false;
};

}  // namespace berth::agent::api
