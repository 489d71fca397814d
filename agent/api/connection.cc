// The server side of one connection: hello, request/response, streams.
#include "agent/api/connection.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace berth::agent::api {
namespace {

void signalEventFd(int fd) {
  if (fd < 0) return;
  std::uint64_t one = 1;
  // An eventfd write of 1 cannot fail short of counter overflow; the fd is
  // only ever polled, never read, so it stays readable.
  [[maybe_unused]] ssize_t n = ::write(fd, &one, sizeof one);
}

CallError unimplemented(const char* call) {
  return CallError(pb::UNIMPLEMENTED, std::string("berthd does not implement ") + call + " yet");
}

template <class T>
void putResult(CallResult<T>&& result, T* (pb::Response::*setter)(), pb::Response* out) {
  if (result.ok()) {
    *(out->*setter)() = std::move(result).value();
  } else {
    result.error().toProto(out->mutable_error());
  }
}

bool isStreamingCall(pb::Request::CallCase call) {
  switch (call) {
    case pb::Request::kImagePull:
    case pb::Request::kLogs:
    case pb::Request::kStats:
    case pb::Request::kExec:
    case pb::Request::kAttach:
    case pb::Request::kShell:
    case pb::Request::kVolumeExport:
    case pb::Request::kVolumeImport:
    case pb::Request::kProjectDeploy:
      return true;
    default:
      return false;
  }
}

// The stream plumbing of one streaming call: frames out through the shared
// writer; a thread reads what the client sends meanwhile (stdin frames to a
// bounded queue, Cancel or hang-up to the cancelled flag).
class ConnectionStream final : public StreamSink, public BidiStream {
 public:
  ConnectionStream(FrameReader& reader, FrameWriter& writer, int stopFd, bool acceptsInput,
                   std::size_t queueLimit)
      : reader_(reader),
        writer_(writer),
        stopFd_(stopFd),
        acceptsInput_(acceptsInput),
        queueLimit_(queueLimit == 0 ? 1 : queueLimit),
        cancelFd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    thread_ = std::thread([this] { readLoop(); });
  }
  ~ConnectionStream() override { stop(); }

  bool send(const pb::Response& frame) override {
    if (writer_.write(frame).ok()) return true;
    markCancelled();
    return false;
  }
  bool send(const pb::ExecOutput& output) override {
    pb::Response frame;
    *frame.mutable_exec_output() = output;
    return send(frame);
  }
  bool receive(pb::StreamInput* input) override;
  void closeInput() override {
    std::lock_guard lock(mutex_);
    inputClosed_ = true;
    queue_.clear();
    changed_.notify_all();
  }
  bool cancelled() const override { return cancelled_.load(); }
  int cancelFd() const override { return cancelFd_.get(); }

  // Ends the reader thread; the socket is not read again afterwards.
  void stop() {
    if (!thread_.joinable()) return;
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
      changed_.notify_all();
    }
    signalEventFd(stopFd_);
    thread_.join();
  }

 private:
  void readLoop();
  bool enqueue(pb::StreamInput&& input);
  void markCancelled() {
    if (!cancelled_.exchange(true)) signalEventFd(cancelFd_.get());
  }

  FrameReader& reader_;
  FrameWriter& writer_;
  int stopFd_;
  bool acceptsInput_;
  std::size_t queueLimit_;
  sys::UniqueFd cancelFd_;
  std::atomic<bool> cancelled_{false};
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<pb::StreamInput> queue_;
  bool inputClosed_ = false;
  bool readerDone_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

void ConnectionStream::readLoop() {
  for (;;) {
    pb::Request request;
    ReadStatus status = reader_.read(&request);
    if (status != ReadStatus::kOk) {
      // kInterrupted is our own stop(); everything else means the client is gone.
      if (status != ReadStatus::kInterrupted) markCancelled();
      break;
    }
    if (acceptsInput_ && request.has_stream_input()) {
      if (!enqueue(std::move(*request.mutable_stream_input()))) break;
      continue;
    }
    // Cancel, or any other call in the middle of a stream: the client wants
    // out or is broken; either way the stream ends and so does the connection.
    markCancelled();
    break;
  }
  std::lock_guard lock(mutex_);
  readerDone_ = true;
  changed_.notify_all();
}

// Blocks while the queue is full (back-pressure); false when stopping.
bool ConnectionStream::enqueue(pb::StreamInput&& input) {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return stopping_ || inputClosed_ || queue_.size() < queueLimit_; });
  if (stopping_) return false;
  if (!inputClosed_) queue_.push_back(std::move(input));  // else nobody reads it
  changed_.notify_all();
  return true;
}

bool ConnectionStream::receive(pb::StreamInput* input) {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return !queue_.empty() || readerDone_ || inputClosed_ || stopping_; });
  if (inputClosed_ || stopping_ || queue_.empty()) return false;
  *input = std::move(queue_.front());
  queue_.pop_front();
  changed_.notify_all();
  return true;
}

}  // namespace

// ------------------------------------------------------------ Handler defaults

CallResult<pb::ImagePullReply> Handler::imagePull(const pb::ImagePullRequest&,
                                                  StreamWriter<pb::PullProgress>&) {
  return unimplemented("image pull");
}
CallResult<pb::ImageImportReply> Handler::imageImport(const pb::ImageImportRequest&) {
  return unimplemented("image import");
}
CallResult<pb::ImageListReply> Handler::imageList(const pb::ImageListRequest&) {
  return unimplemented("image list");
}
CallResult<pb::ImageInfo> Handler::imageInspect(const pb::ImageInspectRequest&) {
  return unimplemented("image inspect");
}
CallResult<pb::ImageRemoveReply> Handler::imageRemove(const pb::ImageRemoveRequest&) {
  return unimplemented("image remove");
}
CallResult<pb::NetworkListReply> Handler::networkList(const pb::NetworkListRequest&) {
  return unimplemented("network ls");
}
CallResult<pb::NetworkInfo> Handler::networkInspect(const pb::NetworkInspectRequest&) {
  return unimplemented("network inspect");
}
CallResult<pb::NetworkRemoveReply> Handler::networkRemove(const pb::NetworkRemoveRequest&) {
  return unimplemented("network rm");
}
CallResult<pb::ImagePruneReply> Handler::imagePrune(const pb::ImagePruneRequest&) {
  return unimplemented("image prune");
}
CallResult<pb::VolumeInfo> Handler::volumeCreate(const pb::VolumeCreateRequest&) {
  return unimplemented("volume create");
}
CallResult<pb::VolumeListReply> Handler::volumeList(const pb::VolumeListRequest&) {
  return unimplemented("volume ls");
}
CallResult<pb::VolumeInfo> Handler::volumeInspect(const pb::VolumeInspectRequest&) {
  return unimplemented("volume inspect");
}
CallResult<pb::VolumeRemoveReply> Handler::volumeRemove(const pb::VolumeRemoveRequest&) {
  return unimplemented("volume rm");
}
CallResult<pb::VolumePruneReply> Handler::volumePrune(const pb::VolumePruneRequest&) {
  return unimplemented("volume prune");
}
CallResult<pb::StreamEnd> Handler::volumeExport(const pb::VolumeExportRequest&,
                                                StreamWriter<pb::VolumeData>&) {
  return unimplemented("volume export");
}
CallResult<pb::VolumeImportReply> Handler::volumeImport(const pb::VolumeImportRequest&,
                                                        BidiStream&) {
  return unimplemented("volume import");
}
CallResult<pb::ContainerCreateReply> Handler::containerCreate(const pb::ContainerCreateRequest&) {
  return unimplemented("container create");
}
CallResult<pb::ContainerRunReply> Handler::containerRun(const pb::ContainerRunRequest&) {
  return unimplemented("container run");
}
CallResult<pb::ContainerStartReply> Handler::containerStart(const pb::ContainerStartRequest&) {
  return unimplemented("container start");
}
CallResult<pb::ContainerStopReply> Handler::containerStop(const pb::ContainerStopRequest&) {
  return unimplemented("container stop");
}
CallResult<pb::ContainerRestartReply> Handler::containerRestart(
    const pb::ContainerRestartRequest&) {
  return unimplemented("container restart");
}
CallResult<pb::ContainerRemoveReply> Handler::containerRemove(const pb::ContainerRemoveRequest&) {
  return unimplemented("container remove");
}
CallResult<pb::ContainerListReply> Handler::containerList(const pb::ContainerListRequest&) {
  return unimplemented("container list");
}
CallResult<pb::ContainerInfo> Handler::containerInspect(const pb::ContainerInspectRequest&) {
  return unimplemented("container inspect");
}
CallResult<pb::ContainerUpdateReply> Handler::containerUpdate(const pb::ContainerUpdateRequest&) {
  return unimplemented("container update");
}
CallResult<pb::StreamEnd> Handler::logs(const pb::LogsRequest&, StreamWriter<pb::LogEntry>&) {
  return unimplemented("logs");
}
CallResult<pb::StreamEnd> Handler::stats(const pb::StatsRequest&, StreamWriter<pb::StatsBatch>&) {
  return unimplemented("stats");
}
CallResult<pb::ExitStatus> Handler::exec(const pb::ExecStart&, BidiStream&) {
  return unimplemented("exec");
}
CallResult<pb::ExitStatus> Handler::attach(const pb::AttachStart&, BidiStream&) {
  return unimplemented("attach");
}
CallResult<pb::ExitStatus> Handler::shell(const pb::ShellStart&, BidiStream&) {
  return unimplemented("shell");
}
CallResult<pb::ProjectDeployReply> Handler::projectDeploy(const pb::ProjectDeployRequest&,
                                                          StreamWriter<pb::DeployProgress>&) {
  return unimplemented("deploy");
}
CallResult<pb::ProjectDownReply> Handler::projectDown(const pb::ProjectDownRequest&) {
  return unimplemented("down");
}

// ------------------------------------------------------------ Connection

Connection::Connection(sys::UniqueFd fd, Handler& handler, ServerOptions options)
    : fd_(std::move(fd)),
      stopFd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
      handler_(handler),
      options_(std::move(options)),
      reader_(fd_.get(), options_.frames, stopFd_.get()),
      writer_(fd_.get(), options_.frames) {}

Connection::~Connection() {
  close();
}

void Connection::close() {
  if (!fd_) return;
  // Half-close first so the client reads our last frame, then end of stream.
  ::shutdown(fd_.get(), SHUT_WR);
  fd_.reset();
  state_ = State::kClosed;
}

void Connection::replyError(pb::ErrorCode code, std::string message) {
  pb::Response response;
  response.mutable_error()->set_code(code);
  response.mutable_error()->set_message(std::move(message));
  (void)writer_.write(response).ok();  // best effort: the connection ends anyway
}

void Connection::replyReadFailure(ReadStatus status) {
  switch (status) {
    case ReadStatus::kTooLarge:
      replyError(pb::RESOURCE_EXHAUSTED, reader_.lastError());
      break;
    case ReadStatus::kMalformed:
      replyError(pb::INVALID_ARGUMENT, reader_.lastError());
      break;
    case ReadStatus::kTruncated:
      replyError(pb::INVALID_ARGUMENT, reader_.lastError());
      break;
    case ReadStatus::kTimeout:
      replyError(pb::DEADLINE_EXCEEDED, reader_.lastError());
      break;
    default:  // clean EOF, reset, our own stop: nobody to tell
      break;
  }
}

bool Connection::handleHello(const pb::Request& request) {
  if (!request.has_hello()) {
    replyError(pb::FAILED_PRECONDITION, "the first request on a connection must be hello");
    return false;
  }
  const pb::Hello& hello = request.hello();
  if (hello.protocol_version() != options_.protocolVersion) {
    replyError(pb::VERSION_MISMATCH,
               "berth " + (hello.client_version().empty() ? "(unknown)" : hello.client_version()) +
                   " speaks protocol " + std::to_string(hello.protocol_version()) + " but berthd " +
                   options_.daemonVersion + " speaks protocol " +
                   std::to_string(options_.protocolVersion) +
                   ": use the berth CLI of the same release as berthd");
    return false;
  }
  pb::Response response;
  response.mutable_hello()->set_daemon_version(options_.daemonVersion);
  response.mutable_hello()->set_protocol_version(options_.protocolVersion);
  if (!writer_.write(response).ok()) return false;
  state_ = State::kReady;
  return true;
}

void Connection::serve() {
  while (fd_) {
    pb::Request request;
    ReadStatus status = reader_.read(&request);
    if (status != ReadStatus::kOk) {
      replyReadFailure(status);
      break;
    }
    bool goOn = state_ == State::kAwaitHello ? handleHello(request) : dispatch(request);
    if (!goOn) break;
  }
  close();
}

namespace {

// Unary calls: fills `response` and returns true, or false for any other call.
bool callImage(Handler& h, const pb::Request& request, pb::Response* response) {
  using R = pb::Response;
  switch (request.call_case()) {
    case pb::Request::kImageImport:
      putResult(h.imageImport(request.image_import()), &R::mutable_image_import, response);
      return true;
    case pb::Request::kImageList:
      putResult(h.imageList(request.image_list()), &R::mutable_image_list, response);
      return true;
    case pb::Request::kImageInspect:
      putResult(h.imageInspect(request.image_inspect()), &R::mutable_image_inspect, response);
      return true;
    case pb::Request::kImageRemove:
      putResult(h.imageRemove(request.image_remove()), &R::mutable_image_remove, response);
      return true;
    case pb::Request::kImagePrune:
      putResult(h.imagePrune(request.image_prune()), &R::mutable_image_prune, response);
      return true;
    case pb::Request::kNetworkList:
      putResult(h.networkList(request.network_list()), &R::mutable_network_list, response);
      return true;
    case pb::Request::kNetworkInspect:
      putResult(h.networkInspect(request.network_inspect()), &R::mutable_network_inspect, response);
      return true;
    case pb::Request::kNetworkRemove:
      putResult(h.networkRemove(request.network_remove()), &R::mutable_network_remove, response);
      return true;
    case pb::Request::kVolumeCreate:
      putResult(h.volumeCreate(request.volume_create()), &R::mutable_volume_create, response);
      return true;
    case pb::Request::kVolumeList:
      putResult(h.volumeList(request.volume_list()), &R::mutable_volume_list, response);
      return true;
    case pb::Request::kVolumeInspect:
      putResult(h.volumeInspect(request.volume_inspect()), &R::mutable_volume_inspect, response);
      return true;
    case pb::Request::kVolumeRemove:
      putResult(h.volumeRemove(request.volume_remove()), &R::mutable_volume_remove, response);
      return true;
    case pb::Request::kVolumePrune:
      putResult(h.volumePrune(request.volume_prune()), &R::mutable_volume_prune, response);
      return true;
    case pb::Request::kProjectDown:
      putResult(h.projectDown(request.project_down()), &R::mutable_project_down, response);
      return true;
    default:
      return false;
  }
}

bool callContainer(Handler& h, const pb::Request& request, pb::Response* response) {
  using R = pb::Response;
  switch (request.call_case()) {
    case pb::Request::kContainerCreate:
      putResult(h.containerCreate(request.container_create()), &R::mutable_container_create,
                response);
      return true;
    case pb::Request::kContainerRun:
      putResult(h.containerRun(request.container_run()), &R::mutable_container_run, response);
      return true;
    case pb::Request::kContainerStart:
      putResult(h.containerStart(request.container_start()), &R::mutable_container_start, response);
      return true;
    case pb::Request::kContainerStop:
      putResult(h.containerStop(request.container_stop()), &R::mutable_container_stop, response);
      return true;
    case pb::Request::kContainerRestart:
      putResult(h.containerRestart(request.container_restart()), &R::mutable_container_restart,
                response);
      return true;
    case pb::Request::kContainerRemove:
      putResult(h.containerRemove(request.container_remove()), &R::mutable_container_remove,
                response);
      return true;
    case pb::Request::kContainerList:
      putResult(h.containerList(request.container_list()), &R::mutable_container_list, response);
      return true;
    case pb::Request::kContainerInspect:
      putResult(h.containerInspect(request.container_inspect()), &R::mutable_container_inspect,
                response);
      return true;
    case pb::Request::kContainerUpdate:
      putResult(h.containerUpdate(request.container_update()), &R::mutable_container_update,
                response);
      return true;
    default:
      return false;
  }
}

}  // namespace

bool Connection::dispatch(const pb::Request& request) {
  switch (request.call_case()) {
    case pb::Request::kHello:
      replyError(pb::FAILED_PRECONDITION, "hello was already sent on this connection");
      return false;
    case pb::Request::kStreamInput:
    case pb::Request::kCancel:
      replyError(pb::FAILED_PRECONDITION, "stream input or cancel outside of a streaming call");
      return false;
    default:
      break;
  }
  if (isStreamingCall(request.call_case())) {
    runStream(request);
    return false;  // a streaming call is the last of its connection
  }
  pb::Response response;
  if (!callImage(handler_, request, &response) && !callContainer(handler_, request, &response)) {
    // Also what a client newer than us gets for a call we do not know.
    replyError(pb::INVALID_ARGUMENT, "request names no call this berthd knows");
    return false;
  }
  return writer_.write(response).ok();
}

void Connection::runStream(const pb::Request& request) {
  state_ = State::kStreaming;
  using R = pb::Response;
  pb::Request::CallCase call = request.call_case();
  bool bidi = call == pb::Request::kExec || call == pb::Request::kAttach ||
              call == pb::Request::kShell || call == pb::Request::kVolumeImport;
  pb::Response terminal;
  {
    ConnectionStream stream(reader_, writer_, stopFd_.get(), bidi, options_.inputQueueLimit);
    switch (call) {
      case pb::Request::kImagePull: {
        StreamWriter<pb::PullProgress> out(stream, &R::mutable_pull_progress);
        putResult(handler_.imagePull(request.image_pull(), out), &R::mutable_image_pull, &terminal);
        break;
      }
      case pb::Request::kLogs: {
        StreamWriter<pb::LogEntry> out(stream, &R::mutable_log);
        putResult(handler_.logs(request.logs(), out), &R::mutable_stream_end, &terminal);
        break;
      }
      case pb::Request::kStats: {
        StreamWriter<pb::StatsBatch> out(stream, &R::mutable_stats);
        putResult(handler_.stats(request.stats(), out), &R::mutable_stream_end, &terminal);
        break;
      }
      case pb::Request::kExec:
        putResult(handler_.exec(request.exec(), stream), &R::mutable_exit, &terminal);
        break;
      case pb::Request::kAttach:
        putResult(handler_.attach(request.attach(), stream), &R::mutable_exit, &terminal);
        break;
      case pb::Request::kVolumeExport: {
        StreamWriter<pb::VolumeData> out(stream, &R::mutable_volume_data);
        putResult(handler_.volumeExport(request.volume_export(), out), &R::mutable_stream_end,
                  &terminal);
        break;
      }
      case pb::Request::kVolumeImport:
        putResult(handler_.volumeImport(request.volume_import(), stream),
                  &R::mutable_volume_import, &terminal);
        break;
      case pb::Request::kProjectDeploy: {
        StreamWriter<pb::DeployProgress> out(stream, &R::mutable_deploy_progress);
        putResult(handler_.projectDeploy(request.project_deploy(), out),
                  &R::mutable_project_deploy, &terminal);
        break;
      }
      default:
        putResult(handler_.shell(request.shell(), stream), &R::mutable_exit, &terminal);
        break;
    }
    stream.stop();
  }
  (void)writer_.write(terminal).ok();  // the client may be gone: nothing to do then
}

void serveConnection(sys::UniqueFd fd, Handler& handler, const ServerOptions& options) {
  Connection connection(std::move(fd), handler, options);
  connection.serve();
}

void refuseConnection(sys::UniqueFd fd, pb::ErrorCode code, const std::string& message) {
  FrameOptions options;
  options.writeTimeoutMs = 1000;
  FrameWriter writer(fd.get(), options);
  pb::Response response;
  response.mutable_error()->set_code(code);
  response.mutable_error()->set_message(message);
  (void)writer.write(response).ok();
  ::shutdown(fd.get(), SHUT_WR);
  // Closing with the client's hello unread would make the kernel report
  // ECONNRESET to it, possibly before our reply; read until the client's
  // end of stream, briefly, so it reads the reason instead.
  char sink[4096];
  for (int i = 0; i < 16; ++i) {
    pollfd pfd{fd.get(), POLLIN, 0};
    if (::poll(&pfd, 1, 200) <= 0) break;
    ssize_t n = ::recv(fd.get(), sink, sizeof sink, MSG_DONTWAIT);
    if (n <= 0) break;
  }
}

}  // namespace berth::agent::api
