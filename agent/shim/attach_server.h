// The shim's side of <dir>/attach.sock (protocol in attach_protocol.h): a
// listening unix socket (0600) and a small fixed set of connected clients.
// Output is fanned out to every client without ever blocking: a client
// whose socket buffer is full is dropped. Client input is decoded and
// handed to an InputSink (the container's stdin / pty).
#pragma once

#include <poll.h>

#include <array>
#include <string>
#include <string_view>

#include "agent/shim/attach_protocol.h"
#include "runtime/sys/fd.h"
#include "runtime/sys/result.h"

namespace berth::agent::shim {

inline constexpr size_t kMaxAttachClients = 8;

class AttachServer {
 public:
  // Binds <dir>/attach.sock with mode 0600, replacing a stale socket file.
  // `dirfd` is the container dir; binding goes through /proc/self/fd so a
  // long dir path does not hit the 108-byte sun_path limit.
  static sys::Result<AttachServer> listen(int dirfd);

  // Adds pollfds for the listening socket and the clients (readable when
  // `acceptInput`), and remembers where they went. Returns the count added.
  size_t fillPoll(struct pollfd* out, bool acceptInput);
  // Handles the events of the pollfds fillPoll() added.
  void handlePoll(const struct pollfd* in, FrameDecoder::Handler& input);

  // Sends one frame to every client; slow or gone clients are dropped.
  void broadcast(FrameType type, std::string_view payload);
  // Sends the final frame, then closes every client and the socket file.
  void shutdown(FrameType type, std::string_view payload, int dirfd);

  size_t clientCount() const;

 private:
  struct Client {
    sys::UniqueFd fd;
    FrameDecoder decoder;
  };
  void acceptClient();
  void readClient(Client& c, FrameDecoder::Handler& input);

  sys::UniqueFd listen_;
  std::array<Client, kMaxAttachClients> clients_;
  std::array<int, kMaxAttachClients> polled_{};  // client index per pollfd after the listener
  size_t polledCount_ = 0;
};

}  // namespace berth::agent::shim
