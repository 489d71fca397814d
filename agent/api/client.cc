// The berthd client: connection, hello, unary and streaming calls.
#include "agent/api/client.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <cstdlib>

#include "agent/api/socket.h"

namespace berth::agent::api {

namespace detail {
struct Channel {
  Channel(sys::UniqueFd socket, const FrameOptions& options)
      : fd(std::move(socket)), reader(fd.get(), options), writer(fd.get(), options) {}
  sys::UniqueFd fd;
  FrameReader reader;
  FrameWriter writer;
};
}  // namespace detail

namespace {

using detail::Channel;

CallError lost(const std::string& what) {
  return CallError(pb::UNAVAILABLE, "connection to berthd lost: " + what);
}

// Reads one reply frame. A daemon that refused us may have closed before
// reading our request (so our write failed): its reply is still there.
CallResult<pb::Response> readReply(Channel& channel) {
  pb::Response response;
  ReadStatus status = channel.reader.read(&response);
  if (status == ReadStatus::kOk) return response;
  if (status == ReadStatus::kEof) return lost("berthd closed the connection");
  return lost(channel.reader.lastError());
}

CallResult<pb::Response> roundTrip(Channel& channel, const pb::Request& request) {
  auto written = channel.writer.write(request);
  auto reply = readReply(channel);
  if (!reply.ok() && !written.ok()) return lost(written.error().str());
  return reply;
}

CallError unexpected(const pb::Response& response) {
  if (response.has_error()) return CallError::fromProto(response.error());
  return CallError(pb::INTERNAL, "berthd sent an unexpected reply (field " +
                                     std::to_string(static_cast<int>(response.reply_case())) + ")");
}

CallError connectError(const std::string& path, const sys::Error& error) {
  // The path is said once: the errno's text is enough after it.
  std::string why = error.code() != 0 ? std::strerror(error.code()) : error.what();
  if (error.code() == EACCES || error.code() == EPERM) {
    return CallError(pb::PERMISSION_DENIED, "cannot connect to berthd at " + path + ": " + why +
                                                " (run as root or join group \"" + kSocketGroup +
                                                "\")");
  }
  return CallError(pb::UNAVAILABLE, "cannot connect to berthd at " + path + ": " + why +
                                        " (is berthd running? set --socket or BERTH_SOCKET)");
}

}  // namespace

std::string resolveSocketPath(const std::string& flag) {
  if (!flag.empty()) return flag;
  const char* env = std::getenv("BERTH_SOCKET");
  if (env != nullptr && *env != '\0') return env;
  return kDefaultSocketPath;
}

// ------------------------------------------------------------ InteractiveSession

InteractiveSession::InteractiveSession(std::unique_ptr<Channel> channel)
    : channel_(std::move(channel)) {}
InteractiveSession::InteractiveSession(InteractiveSession&&) noexcept = default;
InteractiveSession& InteractiveSession::operator=(InteractiveSession&&) noexcept = default;
InteractiveSession::~InteractiveSession() = default;

bool InteractiveSession::send(const pb::StreamInput& input) {
  if (!channel_) return false;
  pb::Request request;
  *request.mutable_stream_input() = input;
  return channel_->writer.write(request).ok();
}

bool InteractiveSession::sendStdin(std::string_view data) {
  // Frames stay well under the limit whatever the caller hands us.
  constexpr std::size_t kChunk = 256 * 1024;
  while (!data.empty()) {
    pb::StreamInput input;
    std::size_t n = std::min(kChunk, data.size());
    input.set_stdin(std::string(data.substr(0, n)));
    if (!send(input)) return false;
    data.remove_prefix(n);
  }
  return true;
}

bool InteractiveSession::resize(std::uint32_t rows, std::uint32_t cols) {
  pb::StreamInput input;
  input.mutable_resize()->set_rows(rows);
  input.mutable_resize()->set_cols(cols);
  return send(input);
}

bool InteractiveSession::closeStdin() {
  pb::StreamInput input;
  input.mutable_close_stdin();
  return send(input);
}

bool InteractiveSession::signal(int signo) {
  pb::StreamInput input;
  input.set_signal(signo);
  return send(input);
}

CallResult<std::optional<pb::ExecOutput>> InteractiveSession::receive() {
  if (ended_) return std::optional<pb::ExecOutput>();
  if (!channel_) return lost("session closed");
  auto reply = readReply(*channel_);
  if (!reply.ok()) return std::move(reply).error();
  pb::Response& frame = *reply;
  if (frame.has_exec_output()) return std::optional(std::move(*frame.mutable_exec_output()));
  if (frame.has_exit()) {
    exit_ = std::move(*frame.mutable_exit());
    ended_ = true;
    return std::optional<pb::ExecOutput>();
  }
  return unexpected(frame);
}

void InteractiveSession::close() {
  if (channel_) ::shutdown(channel_->fd.get(), SHUT_RDWR);
}

// ------------------------------------------------------------ Client

Client::Client(std::string path, ClientOptions options)
    : path_(std::move(path)), options_(std::move(options)) {}
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;
Client::~Client() = default;

CallResult<Client> Client::connect(const std::string& socketPath, ClientOptions options) {
  Client client(socketPath, std::move(options));
  auto connected = client.ensureConnected();
  if (!connected.ok()) return std::move(connected).error();
  return client;
}

CallResult<Client> Client::overFd(sys::UniqueFd fd, ClientOptions options) {
  Client client("", std::move(options));
  client.channel_ = std::make_unique<Channel>(std::move(fd), client.options_.frames);
  auto greeted = client.hello();
  if (!greeted.ok()) return std::move(greeted).error();
  return client;
}

CallResult<void> Client::hello() {
  pb::Request request;
  request.mutable_hello()->set_client_version(options_.clientVersion);
  request.mutable_hello()->set_protocol_version(options_.protocolVersion);
  auto reply = roundTrip(*channel_, request);
  if (!reply.ok()) {
    channel_.reset();
    return std::move(reply).error();
  }
  if (!reply->has_hello()) {
    channel_.reset();
    return unexpected(*reply);
  }
  if (reply->hello().protocol_version() != options_.protocolVersion) {
    channel_.reset();
    return CallError(pb::VERSION_MISMATCH,
                     "berthd " + reply->hello().daemon_version() + " speaks protocol " +
                         std::to_string(reply->hello().protocol_version()) + " but berth " +
                         options_.clientVersion + " speaks protocol " +
                         std::to_string(options_.protocolVersion) +
                         ": use the berth CLI of the same release as berthd");
  }
  hello_ = std::move(*reply->mutable_hello());
  return {};
}

CallResult<void> Client::ensureConnected() {
  if (channel_) return {};
  if (path_.empty()) return lost("the connection was used up by a streaming call or an error");
  auto fd = connectUnix(path_);
  if (!fd.ok()) return connectError(path_, fd.error());
  channel_ = std::make_unique<Channel>(std::move(fd).value(), options_.frames);
  return hello();
}

CallResult<pb::Response> Client::call(const pb::Request& request) {
  auto connected = ensureConnected();
  if (!connected.ok()) return std::move(connected).error();
  auto reply = roundTrip(*channel_, request);
  if (!reply.ok()) channel_.reset();  // broken; a new call reconnects (connect() clients)
  return reply;
}

template <class Rep>
CallResult<Rep> Client::unary(const pb::Request& request, pb::Response::ReplyCase expected,
                              Rep* (pb::Response::*reply)()) {
  auto response = call(request);
  if (!response.ok()) return std::move(response).error();
  if (response->reply_case() != expected) return unexpected(*response);
  return std::move(*((*response).*reply)());
}

template <class Item, class Terminal>
CallResult<Terminal> Client::stream(const pb::Request& request, pb::Response::ReplyCase itemCase,
                                    const Item& (pb::Response::*item)() const,
                                    pb::Response::ReplyCase terminalCase,
                                    Terminal* (pb::Response::*terminal)(),
                                    const std::function<bool(const Item&)>& onItem) {
  auto connected = ensureConnected();
  if (!connected.ok()) return std::move(connected).error();
  // The stream consumes the connection whatever happens.
  std::unique_ptr<Channel> channel = std::move(channel_);
  auto written = channel->writer.write(request);
  for (;;) {
    auto reply = readReply(*channel);
    if (!reply.ok()) {
      if (!written.ok()) return lost(written.error().str());
      return std::move(reply).error();
    }
    pb::Response& frame = *reply;
    if (frame.reply_case() == terminalCase) return std::move(*(frame.*terminal)());
    if (frame.reply_case() != itemCase) return unexpected(frame);
    if (!onItem((frame.*item)())) {
      pb::Request cancel;
      cancel.mutable_cancel();
      (void)channel->writer.write(cancel).ok();
      return CallError(pb::CANCELLED, "cancelled by the client");
    }
  }
}

CallResult<InteractiveSession> Client::interactive(const pb::Request& request) {
  auto connected = ensureConnected();
  if (!connected.ok()) return std::move(connected).error();
  std::unique_ptr<Channel> channel = std::move(channel_);
  auto written = channel->writer.write(request);
  if (!written.ok()) {
    // Perhaps refused before reading: the reason is in the reply.
    auto reply = readReply(*channel);
    if (reply.ok()) return unexpected(*reply);
    return lost(written.error().str());
  }
  return InteractiveSession(std::move(channel));
}

// ------------------------------------------------------------ typed calls

#define BERTH_API_UNARY(method, Req, Rep, field, Case)                          \
  CallResult<pb::Rep> Client::method(const pb::Req& request) {                  \
    pb::Request envelope;                                                       \
    *envelope.mutable_##field() = request;                                      \
    return unary(envelope, pb::Response::Case, &pb::Response::mutable_##field); \
  }

BERTH_API_UNARY(imageImport, ImageImportRequest, ImageImportReply, image_import, kImageImport)
BERTH_API_UNARY(imageList, ImageListRequest, ImageListReply, image_list, kImageList)
BERTH_API_UNARY(imageInspect, ImageInspectRequest, ImageInfo, image_inspect, kImageInspect)
BERTH_API_UNARY(imageRemove, ImageRemoveRequest, ImageRemoveReply, image_remove, kImageRemove)
BERTH_API_UNARY(imagePrune, ImagePruneRequest, ImagePruneReply, image_prune, kImagePrune)
BERTH_API_UNARY(networkList, NetworkListRequest, NetworkListReply, network_list, kNetworkList)
BERTH_API_UNARY(networkInspect, NetworkInspectRequest, NetworkInfo, network_inspect,
                kNetworkInspect)
BERTH_API_UNARY(networkRemove, NetworkRemoveRequest, NetworkRemoveReply, network_remove,
                kNetworkRemove)
BERTH_API_UNARY(volumeCreate, VolumeCreateRequest, VolumeInfo, volume_create, kVolumeCreate)
BERTH_API_UNARY(volumeList, VolumeListRequest, VolumeListReply, volume_list, kVolumeList)
BERTH_API_UNARY(volumeInspect, VolumeInspectRequest, VolumeInfo, volume_inspect, kVolumeInspect)
BERTH_API_UNARY(volumeRemove, VolumeRemoveRequest, VolumeRemoveReply, volume_remove, kVolumeRemove)
BERTH_API_UNARY(volumePrune, VolumePruneRequest, VolumePruneReply, volume_prune, kVolumePrune)
BERTH_API_UNARY(containerCreate, ContainerCreateRequest, ContainerCreateReply, container_create,
                kContainerCreate)
BERTH_API_UNARY(containerRun, ContainerRunRequest, ContainerRunReply, container_run, kContainerRun)
BERTH_API_UNARY(containerStart, ContainerStartRequest, ContainerStartReply, container_start,
                kContainerStart)
BERTH_API_UNARY(containerStop, ContainerStopRequest, ContainerStopReply, container_stop,
                kContainerStop)
BERTH_API_UNARY(containerRestart, ContainerRestartRequest, ContainerRestartReply, container_restart,
                kContainerRestart)
BERTH_API_UNARY(containerRemove, ContainerRemoveRequest, ContainerRemoveReply, container_remove,
                kContainerRemove)
BERTH_API_UNARY(containerList, ContainerListRequest, ContainerListReply, container_list,
                kContainerList)
BERTH_API_UNARY(containerInspect, ContainerInspectRequest, ContainerInfo, container_inspect,
                kContainerInspect)
BERTH_API_UNARY(containerUpdate, ContainerUpdateRequest, ContainerUpdateReply, container_update,
                kContainerUpdate)
BERTH_API_UNARY(projectDown, ProjectDownRequest, ProjectDownReply, project_down, kProjectDown)

#undef BERTH_API_UNARY

CallResult<pb::ProjectDeployReply> Client::projectDeploy(
    const pb::ProjectDeployRequest& request,
    const std::function<bool(const pb::DeployProgress&)>& onProgress) {
  pb::Request envelope;
  *envelope.mutable_project_deploy() = request;
  return stream(envelope, pb::Response::kDeployProgress, &pb::Response::deploy_progress,
                pb::Response::kProjectDeploy, &pb::Response::mutable_project_deploy, onProgress);
}

CallResult<pb::ImagePullReply> Client::imagePull(
    const pb::ImagePullRequest& request,
    const std::function<bool(const pb::PullProgress&)>& onProgress) {
  pb::Request envelope;
  *envelope.mutable_image_pull() = request;
  return stream(envelope, pb::Response::kPullProgress, &pb::Response::pull_progress,
                pb::Response::kImagePull, &pb::Response::mutable_image_pull, onProgress);
}

CallResult<pb::StreamEnd> Client::logs(const pb::LogsRequest& request,
                                       const std::function<bool(const pb::LogEntry&)>& onEntry) {
  pb::Request envelope;
  *envelope.mutable_logs() = request;
  return stream(envelope, pb::Response::kLog, &pb::Response::log, pb::Response::kStreamEnd,
                &pb::Response::mutable_stream_end, onEntry);
}

CallResult<pb::StreamEnd> Client::stats(const pb::StatsRequest& request,
                                        const std::function<bool(const pb::StatsBatch&)>& onBatch) {
  pb::Request envelope;
  *envelope.mutable_stats() = request;
  return stream(envelope, pb::Response::kStats, &pb::Response::stats, pb::Response::kStreamEnd,
                &pb::Response::mutable_stream_end, onBatch);
}

CallResult<pb::StreamEnd> Client::volumeExport(
    const pb::VolumeExportRequest& request,
    const std::function<bool(const pb::VolumeData&)>& onData) {
  pb::Request envelope;
  *envelope.mutable_volume_export() = request;
  return stream(envelope, pb::Response::kVolumeData, &pb::Response::volume_data,
                pb::Response::kStreamEnd, &pb::Response::mutable_stream_end, onData);
}

CallResult<pb::VolumeImportReply> Client::volumeImport(const pb::VolumeImportRequest& request,
                                                       int inFd) {
  pb::Request envelope;
  *envelope.mutable_volume_import() = request;
  auto session = interactive(envelope);
  if (!session.ok()) return std::move(session).error();
  std::unique_ptr<Channel> channel = std::move(session->channel_);
  // Sent until the input ends or the daemon stops reading (it refused the
  // volume, or the tar): either way its reply says how it went.
  constexpr std::size_t kChunk = 256 * 1024;
  std::string buffer(kChunk, '\0');
  bool sending = true;
  std::optional<CallError> readError;
  while (sending) {
    ssize_t n = ::read(inFd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      readError = CallError(pb::INVALID_ARGUMENT,
                            std::string("read the tar from the input: ") + std::strerror(errno));
      break;
    }
    pb::Request frame;
    if (n == 0) {
      frame.mutable_stream_input()->mutable_close_stdin();
      sending = false;
    } else {
      frame.mutable_stream_input()->set_stdin(buffer.data(), static_cast<std::size_t>(n));
    }
    if (!channel->writer.write(frame).ok()) break;
  }
  if (readError) {
    // Hanging up without close_stdin: the daemon drops what it received.
    ::shutdown(channel->fd.get(), SHUT_RDWR);
    return *readError;
  }
  auto reply = readReply(*channel);
  if (!reply.ok()) return std::move(reply).error();
  if (!reply->has_volume_import()) return unexpected(*reply);
  return std::move(*reply->mutable_volume_import());
}

CallResult<InteractiveSession> Client::exec(const pb::ExecStart& request) {
  pb::Request envelope;
  *envelope.mutable_exec() = request;
  return interactive(envelope);
}

CallResult<InteractiveSession> Client::attach(const pb::AttachStart& request) {
  pb::Request envelope;
  *envelope.mutable_attach() = request;
  return interactive(envelope);
}

CallResult<InteractiveSession> Client::shell(const pb::ShellStart& request) {
  pb::Request envelope;
  *envelope.mutable_shell() = request;
  return interactive(envelope);
}

}  // namespace berth::agent::api
