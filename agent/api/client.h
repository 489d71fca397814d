// The client side of the berthd API: connect, hello, typed calls.
//
// Used by the berth CLI. Every call returns CallResult: the daemon's error
// (code + message) or, when the daemon cannot be reached or the connection
// breaks, UNAVAILABLE with a message that says what to check. A streaming
// call consumes its connection (berth.proto); a Client made with connect()
// then reconnects on its next call, one made with overFd() is finished.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "agent/api/connection.h"
#include "agent/api/framing.h"
#include "agent/api/status.h"
#include "runtime/sys/fd.h"

namespace berth::agent::api {

// --socket PATH if given, else $BERTH_SOCKET, else kDefaultSocketPath.
std::string resolveSocketPath(const std::string& flag);

struct ClientOptions {
  std::string clientVersion = BERTH_VERSION;
  std::uint32_t protocolVersion = kProtocolVersion;
  FrameOptions frames;
};

namespace detail {
struct Channel;
}

// exec, attach, shell: stdin and terminal events out, output in. send*() and
// receive() may run on different threads (a stdin pump and an output loop);
// FrameReader buffers, so wait for output with receive(), not poll(fd()).
class InteractiveSession {
 public:
  InteractiveSession(InteractiveSession&&) noexcept;
  InteractiveSession& operator=(InteractiveSession&&) noexcept;
  ~InteractiveSession();

  bool sendStdin(std::string_view data);
  bool resize(std::uint32_t rows, std::uint32_t cols);
  bool closeStdin();
  bool signal(int signo);
  bool send(const pb::StreamInput& input);

  // The next output chunk; nullopt once the process ended, exitStatus() then
  // holds how. An error ends the session (the daemon's, or UNAVAILABLE).
  CallResult<std::optional<pb::ExecOutput>> receive();
  const pb::ExitStatus& exitStatus() const { return exit_; }
  // Hangs up: the daemon sees the client gone (cancelled).
  void close();

 private:
  friend class Client;
  explicit InteractiveSession(std::unique_ptr<detail::Channel> channel);

  std::unique_ptr<detail::Channel> channel_;
  pb::ExitStatus exit_;
  bool ended_ = false;
};

class Client {
 public:
  // Connects and says hello; PERMISSION_DENIED, VERSION_MISMATCH or
  // UNAVAILABLE (not running, wrong path) say what to do.
  static CallResult<Client> connect(const std::string& socketPath, ClientOptions options = {});
  // Over an already connected socket (tests, socket activation).
  static CallResult<Client> overFd(sys::UniqueFd fd, ClientOptions options = {});

  Client(Client&&) noexcept;
  Client& operator=(Client&&) noexcept;
  ~Client();

  const pb::HelloReply& daemon() const { return hello_; }

  // One unary round trip with any request; the typed calls below wrap it.
  CallResult<pb::Response> call(const pb::Request& request);

  CallResult<pb::ImageImportReply> imageImport(const pb::ImageImportRequest& request);
  CallResult<pb::ImageListReply> imageList(const pb::ImageListRequest& request);
  CallResult<pb::ImageInfo> imageInspect(const pb::ImageInspectRequest& request);
  CallResult<pb::ImageRemoveReply> imageRemove(const pb::ImageRemoveRequest& request);
  CallResult<pb::ImagePruneReply> imagePrune(const pb::ImagePruneRequest& request);
  CallResult<pb::NetworkListReply> networkList(const pb::NetworkListRequest& request);
  CallResult<pb::NetworkInfo> networkInspect(const pb::NetworkInspectRequest& request);
  CallResult<pb::NetworkRemoveReply> networkRemove(const pb::NetworkRemoveRequest& request);
  CallResult<pb::VolumeInfo> volumeCreate(const pb::VolumeCreateRequest& request);
  CallResult<pb::VolumeListReply> volumeList(const pb::VolumeListRequest& request);
  CallResult<pb::VolumeInfo> volumeInspect(const pb::VolumeInspectRequest& request);
  CallResult<pb::VolumeRemoveReply> volumeRemove(const pb::VolumeRemoveRequest& request);
  CallResult<pb::VolumePruneReply> volumePrune(const pb::VolumePruneRequest& request);
  CallResult<pb::ContainerCreateReply> containerCreate(const pb::ContainerCreateRequest& request);
  CallResult<pb::ContainerRunReply> containerRun(const pb::ContainerRunRequest& request);
  CallResult<pb::ContainerStartReply> containerStart(const pb::ContainerStartRequest& request);
  CallResult<pb::ContainerStopReply> containerStop(const pb::ContainerStopRequest& request);
  CallResult<pb::ContainerRestartReply> containerRestart(
      const pb::ContainerRestartRequest& request);
  CallResult<pb::ContainerRemoveReply> containerRemove(const pb::ContainerRemoveRequest& request);
  CallResult<pb::ContainerListReply> containerList(const pb::ContainerListRequest& request);
  CallResult<pb::ContainerInfo> containerInspect(const pb::ContainerInspectRequest& request);
  CallResult<pb::ContainerUpdateReply> containerUpdate(const pb::ContainerUpdateRequest& request);
  CallResult<pb::ProjectDownReply> projectDown(const pb::ProjectDownRequest& request);

  // Streams: each item goes to the callback; returning false cancels the
  // call (result CANCELLED).
  CallResult<pb::ImagePullReply> imagePull(
      const pb::ImagePullRequest& request,
      const std::function<bool(const pb::PullProgress&)>& onProgress);
  CallResult<pb::StreamEnd> logs(const pb::LogsRequest& request,
                                 const std::function<bool(const pb::LogEntry&)>& onEntry);
  CallResult<pb::StreamEnd> stats(const pb::StatsRequest& request,
                                  const std::function<bool(const pb::StatsBatch&)>& onBatch);

  // The volume's tar, chunk by chunk.
  CallResult<pb::StreamEnd> volumeExport(const pb::VolumeExportRequest& request,
                                         const std::function<bool(const pb::VolumeData&)>& onData);
  // A project deploy: its progress lines, then the summary.
  CallResult<pb::ProjectDeployReply> projectDeploy(
      const pb::ProjectDeployRequest& request,
      const std::function<bool(const pb::DeployProgress&)>& onProgress);

  // Sends what `inFd` holds up to its end as the volume's tar.
  CallResult<pb::VolumeImportReply> volumeImport(const pb::VolumeImportRequest& request, int inFd);

  CallResult<InteractiveSession> exec(const pb::ExecStart& request);
  CallResult<InteractiveSession> attach(const pb::AttachStart& request);
  CallResult<InteractiveSession> shell(const pb::ShellStart& request);

 private:
  Client(std::string path, ClientOptions options);
  CallResult<void> ensureConnected();
  CallResult<void> hello();
  template <class Rep>
  CallResult<Rep> unary(const pb::Request& request, pb::Response::ReplyCase expected,
                        Rep* (pb::Response::*reply)());
  template <class Item, class Terminal>
  CallResult<Terminal> stream(const pb::Request& request, pb::Response::ReplyCase itemCase,
                              const Item& (pb::Response::*item)() const,
                              pb::Response::ReplyCase terminalCase,
                              Terminal* (pb::Response::*terminal)(),
                              const std::function<bool(const Item&)>& onItem);
  CallResult<InteractiveSession> interactive(const pb::Request& request);

  std::string path_;  // empty for overFd(): no reconnecting
  ClientOptions options_;
  std::unique_ptr<detail::Channel> channel_;
  pb::HelloReply hello_;
};

}  // namespace berth::agent::api
