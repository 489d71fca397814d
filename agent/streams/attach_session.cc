// attach: log-file output, attach.sock input; see attach_session.h.
//
// Threads: the calling thread follows the log and sends output; one thread
// takes the client's input to attach.sock; one reads (and drops) what the
// shim sends on attach.sock. At the end the socket is shut down, which
// unblocks both helpers whatever they were doing.
#include "agent/streams/attach_session.h"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <string_view>
#include <thread>

#include "agent/logs/reader.h"
#include "agent/shim/attach_client.h"
#include "agent/shim/exit_status.h"
#include "agent/shim/shim.h"
#include "agent/streams/child_process.h"
#include "runtime/sys/syscall.h"

namespace berth::agent::streams {
namespace {

constexpr int kMaxSignal = 64;
// How long an attach that started its container waits for it to finish
// before following its log (see followLog): `true`, `echo`, a short script.
constexpr int kShortRunMs = 50;

pb::ExitStatus toProto(const shim::ExitStatus& status) {
  pb::ExitStatus out;
  out.set_code(status.exitCode);
  out.set_signal(status.signal);
  return out;
}

class AttachSession {
 public:
  AttachSession(engine::ContainerAccess& access, const pb::AttachStart& request,
                api::BidiStream& stream)
      : access_(access), request_(request), stream_(stream) {}

  api::CallResult<pb::ExitStatus> run();

 private:
  api::CallResult<engine::ContainerView> prepare();
  sys::Result<void> followLog();
  void inputLoop();
  void applyInput(const pb::StreamInput& input);
  void dropShimOutput();
  api::CallResult<pb::ExitStatus> exitStatus();
  bool shimExitedWithin(int timeoutMs) const;

  engine::ContainerAccess& access_;
  const pb::AttachStart& request_;
  api::BidiStream& stream_;
  engine::ContainerView view_;
  int64_t sinceNs_ = 0;  // > 0: from this time (the start), else from now
  sys::UniqueFd shim_, init_, socket_;
};

api::CallResult<engine::ContainerView> AttachSession::prepare() {
  auto view = access_.find(request_.id());
  if (!view) return view;
  if (view->state == pb::STATE_RUNNING) return view;
  if (!request_.start()) {
    return api::CallError(pb::FAILED_PRECONDITION, "container " + request_.id() + " is not running");
  }
  // Before the start: every record of this run is stamped later.
  sinceNs_ = shim::realtimeNowNs();
  return access_.start(view->id);
}

api::CallResult<pb::ExitStatus> AttachSession::run() {
  auto view = prepare();
  if (!view) return std::move(view).error();
  view_ = std::move(*view);
  shim_ = access_.shimPidfd(view_.id);
  if (shim_) {
    // The container may have exited already: then there is no input to give.
    if (auto sock = shim::connectAttach(view_.dir)) socket_ = std::move(*sock);
    init_ = openChildPidfd(view_.initPid, view_.shimPid);
  }
  if (socket_ && view_.tty && request_.has_size() && request_.size().rows() > 0) {
    (void)shim::sendResize(socket_.get(), {static_cast<uint16_t>(request_.size().rows()),
                                           static_cast<uint16_t>(request_.size().cols())});
  }
  std::thread input([this] { inputLoop(); });
  std::thread drop([this] { dropShimOutput(); });
  auto followed = followLog();
  if (socket_) ::shutdown(socket_.get(), SHUT_RDWR);
  stream_.closeInput();
  input.join();
  drop.join();
  if (!followed) return std::move(followed).error();
  if (stream_.cancelled()) return api::CallError(pb::CANCELLED, "detached");
  return exitStatus();
}

sys::Result<void> AttachSession::followLog() {
  logs::ReadOptions options;
  if (sinceNs_ > 0) {
    options.sinceNs = sinceNs_;
  } else {
    options.tailLines = 0;
  }
  // No shim, or one that has exited: the log is complete, and a plain read
  // spares the follower's inotify instance, whose teardown waits for the
  // kernel's mark reaper (a jiffy and an SRCU grace period: 4-15 ms at the
  // end of every short `berth run`). A container this call started gets
  // kShortRunMs to finish first; a longer one shows its first output that
  // much later, then follows live.
  options.follow = shim_.valid() && !shimExitedWithin(sinceNs_ > 0 ? kShortRunMs : 0);
  options.cancelFd = stream_.cancelFd();
  options.exitedFd = shim_.get();
  return logs::readLogs(view_.dir, shim::kLogBaseName, options, [&](const logs::LogLine& line) {
    pb::ExecOutput output;
    output.set_stream(line.stream == logs::Stream::kStderr ? pb::OUTPUT_STDERR : pb::OUTPUT_STDOUT);
    output.set_data(std::string(line.bytes));
    if (!line.partial) output.mutable_data()->push_back('\n');
    return stream_.send(output);
  });
}

void AttachSession::inputLoop() {
  pb::StreamInput input;
  while (stream_.receive(&input)) applyInput(input);
}

void AttachSession::applyInput(const pb::StreamInput& input) {
  switch (input.input_case()) {
    case pb::StreamInput::kStdin: {
      if (!socket_ || !request_.stdin()) break;
      std::string_view data = input.stdin();
      while (!data.empty()) {
        size_t n = std::min<size_t>(data.size(), shim::kMaxFramePayload);
        if (!shim::sendFrame(socket_.get(), shim::FrameType::kStdin, data.substr(0, n))) return;
        data.remove_prefix(n);
      }
      break;
    }
    case pb::StreamInput::kCloseStdin:
      if (socket_ && request_.stdin()) (void)shim::sendFrame(socket_.get(), shim::FrameType::kCloseStdin, "");
      break;
    case pb::StreamInput::kResize:
      if (socket_ && view_.tty) {
        (void)shim::sendResize(socket_.get(), {static_cast<uint16_t>(input.resize().rows()),
                                               static_cast<uint16_t>(input.resize().cols())});
      }
      break;
    case pb::StreamInput::kSignal:
      if (init_ && input.signal() > 0 && input.signal() <= kMaxSignal) {
        sys::pidfdSendSignal(init_.get(), input.signal());
      }
      break;
    default:
      break;
  }
}

// Reads the shim's frames until the socket ends (the shim left, or run()
// shut it down).
void AttachSession::dropShimOutput() {
  if (!socket_) return;
  while (shim::readFrame(socket_.get())) {
  }
}

// False as well when the client cancelled meanwhile (the follower sees
// that at once and ends).
bool AttachSession::shimExitedWithin(int timeoutMs) const {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
  for (;;) {
    struct pollfd fds[2] = {{shim_.get(), POLLIN, 0}, {stream_.cancelFd(), POLLIN, 0}};
    auto left =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    int n = ::poll(fds, 2, static_cast<int>(std::max<int64_t>(left.count(), 0)));
    if (n < 0 && errno == EINTR) continue;
    return n > 0 && fds[0].revents != 0;
  }
}

// The shim has exited (or the log directory went): the engine handles the
// exit when asked, auto-remove included, so the exit frame follows the
// removal of a `run --rm` container and the name is free once it arrives.
api::CallResult<pb::ExitStatus> AttachSession::exitStatus() {
  auto status = access_.lastExit(view_.id);
  if (status) return status;
  // The shim wrote exit.json before it exited (an engine that lost track
  // of the container still has it there).
  if (auto recorded = shim::readExitFile(view_.dir)) return toProto(*recorded);
  return status;
}

}  // namespace

api::CallResult<pb::ExitStatus> runAttach(engine::ContainerAccess& access,
                                          const pb::AttachStart& request,
                                          api::BidiStream& stream) {
  AttachSession session(access, request, stream);
  return session.run();
}

}  // namespace berth::agent::streams
