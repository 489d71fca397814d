// The daemon side of one berthd connection, as a small state machine.
//
//   AwaitHello --hello, same protocol--> Ready --unary call--> Ready
//        |                                 |--streaming call--> Streaming --terminal frame-->
//        Closed
//        '--anything else--> error, Closed '--bad frame--> error, Closed
//
// The business logic sits behind Handler (one virtual method per call); the
// Connection owns framing, ordering, version checks and stream plumbing, so a
// handler never sees a malformed or out-of-order request. Every method of
// Handler defaults to UNIMPLEMENTED, so the daemon can grow call by call.
#pragma once

#include <cstdint>
#include <string>

#include "agent/api/framing.h"
#include "agent/api/status.h"
#include "runtime/sys/fd.h"

namespace berth::agent::api {

// Bumped whenever a change to berth.proto changes the meaning of a message
// that both sides already know; added fields and calls do not need it.
inline constexpr std::uint32_t kProtocolVersion = 1;

// Where stream frames go while a streaming call runs. Implemented by the
// Connection; tests may provide their own.
class StreamSink {
 public:
  virtual ~StreamSink() = default;
  // False once the frame could not be written (client gone): stop producing.
  virtual bool send(const pb::Response& frame) = 0;
  // True once the client sent Cancel, hung up or broke the protocol.
  virtual bool cancelled() const = 0;
  // Becomes readable when cancelled(): poll it beside your own fds (log file
  // inotify, pty master) so a follow loop ends when the client goes.
  virtual int cancelFd() const = 0;
};

// The typed face of a StreamSink for one server-streaming call.
template <class T>
class StreamWriter {
 public:
  using Setter = T* (pb::Response::*)();
  StreamWriter(StreamSink& sink, Setter setter) : sink_(sink), setter_(setter) {}

  bool send(const T& item) {
    pb::Response frame;
    *(frame.*setter_)() = item;
    return sink_.send(frame);
  }
  bool send(T&& item) {
    pb::Response frame;
    *(frame.*setter_)() = std::move(item);
    return sink_.send(frame);
  }
  bool cancelled() const { return sink_.cancelled(); }
  int cancelFd() const { return sink_.cancelFd(); }

 private:
  StreamSink& sink_;
  Setter setter_;
};

// Both directions of exec, attach and shell.
class BidiStream {
 public:
  virtual ~BidiStream() = default;
  // Output frames are at most kMaxFrameSize: send large output in chunks.
  virtual bool send(const pb::ExecOutput& output) = 0;
  // Blocks for the client's next input (stdin, resize, close_stdin, signal).
  // False once the client hung up, cancelled, broke the protocol, or
  // closeInput() was called. May be called from another thread than send().
  virtual bool receive(pb::StreamInput* input) = 0;
  // Wakes a receive() blocked in another thread; later ones return false.
  // Call it before joining the thread that pumps input, then return.
  virtual void closeInput() = 0;
  virtual bool cancelled() const = 0;
  virtual int cancelFd() const = 0;
};

class Handler {
 public:
  virtual ~Handler() = default;

  virtual CallResult<pb::ImagePullReply> imagePull(const pb::ImagePullRequest& request,
                                                   StreamWriter<pb::PullProgress>& progress);
  virtual CallResult<pb::ImageImportReply> imageImport(const pb::ImageImportRequest& request);
  virtual CallResult<pb::ImageListReply> imageList(const pb::ImageListRequest& request);
  virtual CallResult<pb::ImageInfo> imageInspect(const pb::ImageInspectRequest& request);
  virtual CallResult<pb::ImageRemoveReply> imageRemove(const pb::ImageRemoveRequest& request);
  virtual CallResult<pb::NetworkListReply> networkList(const pb::NetworkListRequest& request);
  virtual CallResult<pb::NetworkInfo> networkInspect(const pb::NetworkInspectRequest& request);
  virtual CallResult<pb::NetworkRemoveReply> networkRemove(const pb::NetworkRemoveRequest& request);
  virtual CallResult<pb::ImagePruneReply> imagePrune(const pb::ImagePruneRequest& request);

  virtual CallResult<pb::VolumeInfo> volumeCreate(const pb::VolumeCreateRequest& request);
  virtual CallResult<pb::VolumeListReply> volumeList(const pb::VolumeListRequest& request);
  virtual CallResult<pb::VolumeInfo> volumeInspect(const pb::VolumeInspectRequest& request);
  virtual CallResult<pb::VolumeRemoveReply> volumeRemove(const pb::VolumeRemoveRequest& request);
  virtual CallResult<pb::VolumePruneReply> volumePrune(const pb::VolumePruneRequest& request);
  // The tar of a volume out in VolumeData items; in from stdin frames
  // (close_stdin ends it).
  virtual CallResult<pb::StreamEnd> volumeExport(const pb::VolumeExportRequest& request,
                                                 StreamWriter<pb::VolumeData>& data);
  virtual CallResult<pb::VolumeImportReply> volumeImport(const pb::VolumeImportRequest& request,
                                                         BidiStream& stream);

  virtual CallResult<pb::ContainerCreateReply> containerCreate(
      const pb::ContainerCreateRequest& request);
  virtual CallResult<pb::ContainerRunReply> containerRun(const pb::ContainerRunRequest& request);
  virtual CallResult<pb::ContainerStartReply> containerStart(
      const pb::ContainerStartRequest& request);
  virtual CallResult<pb::ContainerStopReply> containerStop(const pb::ContainerStopRequest& request);
  virtual CallResult<pb::ContainerRestartReply> containerRestart(
      const pb::ContainerRestartRequest& request);
  virtual CallResult<pb::ContainerRemoveReply> containerRemove(
      const pb::ContainerRemoveRequest& request);
  virtual CallResult<pb::ContainerListReply> containerList(const pb::ContainerListRequest& request);
  virtual CallResult<pb::ContainerInfo> containerInspect(
      const pb::ContainerInspectRequest& request);
  virtual CallResult<pb::ContainerUpdateReply> containerUpdate(
      const pb::ContainerUpdateRequest& request);

  // Streams: send items, return the terminal reply (or an error) when done.
  virtual CallResult<pb::StreamEnd> logs(const pb::LogsRequest& request,
                                         StreamWriter<pb::LogEntry>& entries);
  virtual CallResult<pb::StreamEnd> stats(const pb::StatsRequest& request,
                                          StreamWriter<pb::StatsBatch>& batches);
  virtual CallResult<pb::ExitStatus> exec(const pb::ExecStart& request, BidiStream& stream);
  virtual CallResult<pb::ExitStatus> attach(const pb::AttachStart& request, BidiStream& stream);
  virtual CallResult<pb::ExitStatus> shell(const pb::ShellStart& request, BidiStream& stream);

  // Projects: a deploy streams its progress; down is unary.
  virtual CallResult<pb::ProjectDeployReply> projectDeploy(const pb::ProjectDeployRequest& request,
                                                           StreamWriter<pb::DeployProgress>& progress);
  virtual CallResult<pb::ProjectDownReply> projectDown(const pb::ProjectDownRequest& request);
};

struct ServerOptions {
  std::string daemonVersion = BERTH_VERSION;
  std::uint32_t protocolVersion = kProtocolVersion;
  FrameOptions frames;
  // Bound on stdin frames queued ahead of a handler that does not receive():
  // beyond it the connection stops reading, which pushes back on the client.
  std::size_t inputQueueLimit = 64;
};

class Connection {
 public:
  enum class State { kAwaitHello, kReady, kStreaming, kClosed };

  Connection(sys::UniqueFd fd, Handler& handler, ServerOptions options = {});
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs the conversation to its end: the client hangs up, a frame is bad or
  // out of order (error reply first), or a streaming call finishes. Closes
  // the socket before returning. Never throws, never crashes on input.
  void serve();
  State state() const { return state_; }

 private:
  // Handles one request in state kReady; false when the connection ends.
  bool dispatch(const pb::Request& request);
  void runStream(const pb::Request& request);
  void replyError(pb::ErrorCode code, std::string message);
  void replyReadFailure(ReadStatus status);
  bool handleHello(const pb::Request& request);
  void close();

  sys::UniqueFd fd_;
  // Readable when a stream ends: wakes the stream's input reader thread.
  sys::UniqueFd stopFd_;
  Handler& handler_;
  ServerOptions options_;
  FrameReader reader_;
  FrameWriter writer_;
  State state_ = State::kAwaitHello;
};

// Serves `fd` to its end on the calling thread (a daemon runs it on a thread
// per accepted connection).
void serveConnection(sys::UniqueFd fd, Handler& handler, const ServerOptions& options = {});

// Sends one error frame and closes: for peers refused before any reading
// (PERMISSION_DENIED). The client reads it as the reply to its hello.
void refuseConnection(sys::UniqueFd fd, pb::ErrorCode code, const std::string& message);

}  // namespace berth::agent::api
