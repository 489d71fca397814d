// libFuzzer target for berthd's request decoder and connection state
// machine: any byte string a client can send must end in replies and a
// closed connection, never a crash, a hang or a sanitizer report. The bytes
// go through a real socketpair into serveConnection with a handler that
// succeeds at everything, so every call path and every stream (including
// stdin frames fed to a bidirectional stream) is reachable.
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <thread>

#include "agent/api/connection.h"

namespace {

namespace api = berth::agent::api;
namespace pb = berth::api;

class NoopHandler : public api::Handler {
 public:
  api::CallResult<pb::ImageListReply> imageList(const pb::ImageListRequest&) override {
    return pb::ImageListReply();
  }
  api::CallResult<pb::ContainerCreateReply> containerCreate(
      const pb::ContainerCreateRequest& request) override {
    pb::ContainerCreateReply reply;
    reply.set_name(request.spec().name());
    return reply;
  }
  api::CallResult<pb::ImagePullReply> imagePull(const pb::ImagePullRequest&,
                                                api::StreamWriter<pb::PullProgress>& out) override {
    (void)out.send(pb::PullProgress());
    return pb::ImagePullReply();
  }
  api::CallResult<pb::StreamEnd> logs(const pb::LogsRequest& request,
                                      api::StreamWriter<pb::LogEntry>& out) override {
    pb::LogEntry entry;
    entry.set_data(request.id());
    (void)out.send(entry);
    return pb::StreamEnd();
  }
  api::CallResult<pb::ExitStatus> exec(const pb::ExecStart&, api::BidiStream& stream) override {
    pb::StreamInput input;
    while (stream.receive(&input)) {
      pb::ExecOutput output;
      output.set_data(input.stdin());
      if (!stream.send(output)) break;
    }
    return pb::ExitStatus();
  }
  api::CallResult<pb::ExitStatus> shell(const pb::ShellStart&, api::BidiStream& stream) override {
    // Stops reading early: the connection must still wind down.
    stream.closeInput();
    return pb::ExitStatus();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Stay below the socket buffer so writing everything up front cannot block.
  if (size > 64 * 1024) return 0;
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) return 0;
  berth::sys::UniqueFd client(fds[0]);
  berth::sys::UniqueFd server(fds[1]);
  if (size > 0 && ::send(client.get(), data, size, MSG_NOSIGNAL) != static_cast<ssize_t>(size)) {
    return 0;
  }
  ::shutdown(client.get(), SHUT_WR);
  // Replies are drained concurrently so the server never blocks writing.
  std::thread drain([fd = client.get()] {
    char sink[65536];
    while (::recv(fd, sink, sizeof sink, 0) > 0) {
    }
  });
  NoopHandler handler;
  api::ServerOptions options;
  options.frames.frameTimeoutMs = 1000;
  api::serveConnection(std::move(server), handler, options);
  drain.join();
  return 0;
}
