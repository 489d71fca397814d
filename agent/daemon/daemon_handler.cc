// Call routing; see daemon_handler.h.
#include "agent/daemon/daemon_handler.h"

#include <string>

#include "agent/daemon/log.h"
#include "agent/streams/attach_session.h"
#include "agent/streams/log_stream.h"
#include "agent/streams/stats_stream.h"

namespace berth::agent::daemon {
namespace {

// Calls that change the host are logged at info with their outcome, so the
// journal tells what happened to a container; reads only at debug.
template <class T>
api::CallResult<T> logged(const std::string& what, api::CallResult<T> result,
                          LogLevel okLevel = LogLevel::kInfo) {
  if (result.ok()) {
    log(okLevel, what);
  } else {
    log(LogLevel::kWarn, what + " failed: " + result.error().str());
  }
  return result;
}

}  // namespace

api::CallResult<pb::ImagePullReply> DaemonHandler::imagePull(
    const pb::ImagePullRequest& request, api::StreamWriter<pb::PullProgress>& progress) {
  return logged("image pull " + request.reference(), images_.pull(request, progress));
}

api::CallResult<pb::ImageImportReply> DaemonHandler::imageImport(
    const pb::ImageImportRequest& request) {
  return logged("image import " + request.path(), images_.import(request));
}

api::CallResult<pb::ImageListReply> DaemonHandler::imageList(const pb::ImageListRequest& request) {
  return logged("image list", images_.list(request), LogLevel::kDebug);
}

api::CallResult<pb::ImageInfo> DaemonHandler::imageInspect(const pb::ImageInspectRequest& request) {
  return logged("image inspect " + request.reference(), images_.inspect(request), LogLevel::kDebug);
}

api::CallResult<pb::ImageRemoveReply> DaemonHandler::imageRemove(
    const pb::ImageRemoveRequest& request) {
  return logged("image remove " + request.reference(), images_.remove(request));
}

api::CallResult<pb::ImagePruneReply> DaemonHandler::imagePrune(const pb::ImagePruneRequest& request) {
  return logged("image prune", images_.prune(request));
}

api::CallResult<pb::VolumeInfo> DaemonHandler::volumeCreate(const pb::VolumeCreateRequest& request) {
  return logged("volume create " + request.name(), engine_.volumeCreate(request));
}

api::CallResult<pb::VolumeListReply> DaemonHandler::volumeList(const pb::VolumeListRequest& request) {
  return logged("volume list", engine_.volumeList(request), LogLevel::kDebug);
}

api::CallResult<pb::VolumeInfo> DaemonHandler::volumeInspect(
    const pb::VolumeInspectRequest& request) {
  return logged("volume inspect " + request.name(), engine_.volumeInspect(request),
                LogLevel::kDebug);
}

api::CallResult<pb::VolumeRemoveReply> DaemonHandler::volumeRemove(
    const pb::VolumeRemoveRequest& request) {
  return logged("volume remove " + request.name(), engine_.volumeRemove(request));
}

api::CallResult<pb::VolumePruneReply> DaemonHandler::volumePrune(
    const pb::VolumePruneRequest& request) {
  return logged("volume prune", engine_.volumePrune(request));
}

api::CallResult<pb::StreamEnd> DaemonHandler::volumeExport(
    const pb::VolumeExportRequest& request, api::StreamWriter<pb::VolumeData>& data) {
  return logged("volume export " + request.name(), engine_.volumeExport(request, data));
}

api::CallResult<pb::VolumeImportReply> DaemonHandler::volumeImport(
    const pb::VolumeImportRequest& request, api::BidiStream& stream) {
  return logged("volume import " + request.name(), engine_.volumeImport(request, stream));
}

api::CallResult<pb::ContainerCreateReply> DaemonHandler::containerCreate(
    const pb::ContainerCreateRequest& request) {
  auto reply = engine_.create(request);
  std::string what = "container create " + (reply.ok() ? reply->name() + " " + reply->id()
                                                       : request.spec().image());
  return logged(what, std::move(reply));
}

api::CallResult<pb::ContainerRunReply> DaemonHandler::containerRun(
    const pb::ContainerRunRequest& request) {
  auto reply = engine_.run(request);
  std::string what = "container run " + (reply.ok() ? reply->name() + " " + reply->id()
                                                    : request.spec().image());
  return logged(what, std::move(reply));
}

api::CallResult<pb::ContainerStartReply> DaemonHandler::containerStart(
    const pb::ContainerStartRequest& request) {
  return logged("container start " + request.id(), engine_.start(request));
}

api::CallResult<pb::ContainerStopReply> DaemonHandler::containerStop(
    const pb::ContainerStopRequest& request) {
  return logged("container stop " + request.id(), engine_.stop(request));
}

api::CallResult<pb::ContainerRestartReply> DaemonHandler::containerRestart(
    const pb::ContainerRestartRequest& request) {
  return logged("container restart " + request.id(), engine_.restart(request));
}

api::CallResult<pb::ContainerRemoveReply> DaemonHandler::containerRemove(
    const pb::ContainerRemoveRequest& request) {
  return logged("container remove " + request.id(), engine_.remove(request));
}

api::CallResult<pb::ContainerListReply> DaemonHandler::containerList(
    const pb::ContainerListRequest& request) {
  return logged("container list", engine_.list(request), LogLevel::kDebug);
}

api::CallResult<pb::ContainerInfo> DaemonHandler::containerInspect(
    const pb::ContainerInspectRequest& request) {
  return logged("container inspect " + request.id(), engine_.inspect(request), LogLevel::kDebug);
}

api::CallResult<pb::ContainerUpdateReply> DaemonHandler::containerUpdate(
    const pb::ContainerUpdateRequest& request) {
  return logged("container update " + request.id(), engine_.update(request));
}

api::CallResult<pb::StreamEnd> DaemonHandler::logs(const pb::LogsRequest& request,
                                                   api::StreamWriter<pb::LogEntry>& entries) {
  return logged("logs " + request.id(), streams::streamLogs(engine_, request, entries),
                LogLevel::kDebug);
}

api::CallResult<pb::StreamEnd> DaemonHandler::stats(const pb::StatsRequest& request,
                                                    api::StreamWriter<pb::StatsBatch>& batches) {
  return logged("stats", streams::streamStats(engine_, request, batches), LogLevel::kDebug);
}

api::CallResult<pb::ExitStatus> DaemonHandler::exec(const pb::ExecStart& request,
                                                    api::BidiStream& stream) {
  return logged("exec in " + request.id(), streams::runExec(engine_, tools_, request, stream),
                LogLevel::kDebug);
}

api::CallResult<pb::ExitStatus> DaemonHandler::attach(const pb::AttachStart& request,
                                                      api::BidiStream& stream) {
  return logged("attach " + request.id(), streams::runAttach(engine_, request, stream),
                LogLevel::kDebug);
}

api::CallResult<pb::ExitStatus> DaemonHandler::shell(const pb::ShellStart& request,
                                                     api::BidiStream& stream) {
  return logged("shell in " + request.id(), streams::runShell(engine_, tools_, request, stream),
                LogLevel::kDebug);
}

api::CallResult<pb::ProjectDeployReply> DaemonHandler::projectDeploy(
    const pb::ProjectDeployRequest& request, api::StreamWriter<pb::DeployProgress>& progress) {
  auto reply = projects_.deploy(request, progress);
  std::string what = "deploy " + request.name();
  if (reply.ok()) {
    what += " (" + std::to_string(reply->created_size()) + " created, " +
            std::to_string(reply->recreated_size()) + " recreated, " +
            std::to_string(reply->removed_size()) + " removed, " + std::to_string(reply->elapsed_ms()) +
            " ms)";
  }
  return logged(what, std::move(reply));
}

api::CallResult<pb::ProjectDownReply> DaemonHandler::projectDown(const pb::ProjectDownRequest& request) {
  return logged("down " + request.name(), projects_.down(request));
}

}  // namespace berth::agent::daemon
