// The daemon's api::Handler: routes each call of berth.proto to the service
// that owns it (images, the container engine, the stream modules) and logs
// what changed the host. It holds no state of its own.
#pragma once

#include "agent/api/connection.h"
#include "agent/deploy/project_service.h"
#include "agent/engine/container_engine.h"
#include "agent/images/image_service.h"
#include "agent/streams/exec_session.h"

namespace berth::agent::daemon {

namespace pb = ::berth::api;

class DaemonHandler final : public api::Handler {
 public:
  // `networks` may be null: the network calls then fail as unavailable.
  DaemonHandler(images::ImageService& images, engine::ContainerEngine& engine,
                streams::ExecTools tools, net::network::ProjectNetworks* networks = nullptr)
      : images_(images),
        engine_(engine),
        tools_(std::move(tools)),
        networks_(networks),
        projects_(images, engine, networks) {}

  api::CallResult<pb::ImagePullReply> imagePull(const pb::ImagePullRequest& request,
                                                api::StreamWriter<pb::PullProgress>& progress) override;
  api::CallResult<pb::ImageImportReply> imageImport(const pb::ImageImportRequest& request) override;
  api::CallResult<pb::ImageListReply> imageList(const pb::ImageListRequest& request) override;
  api::CallResult<pb::ImageInfo> imageInspect(const pb::ImageInspectRequest& request) override;
  api::CallResult<pb::ImageRemoveReply> imageRemove(const pb::ImageRemoveRequest& request) override;
  api::CallResult<pb::ImagePruneReply> imagePrune(const pb::ImagePruneRequest& request) override;

  api::CallResult<pb::NetworkListReply> networkList(const pb::NetworkListRequest& request) override;
  api::CallResult<pb::NetworkInfo> networkInspect(const pb::NetworkInspectRequest& request) override;
  api::CallResult<pb::NetworkRemoveReply> networkRemove(
      const pb::NetworkRemoveRequest& request) override;

  api::CallResult<pb::VolumeInfo> volumeCreate(const pb::VolumeCreateRequest& request) override;
  api::CallResult<pb::VolumeListReply> volumeList(const pb::VolumeListRequest& request) override;
  api::CallResult<pb::VolumeInfo> volumeInspect(const pb::VolumeInspectRequest& request) override;
  api::CallResult<pb::VolumeRemoveReply> volumeRemove(const pb::VolumeRemoveRequest& request) override;
  api::CallResult<pb::VolumePruneReply> volumePrune(const pb::VolumePruneRequest& request) override;
  api::CallResult<pb::StreamEnd> volumeExport(const pb::VolumeExportRequest& request,
                                              api::StreamWriter<pb::VolumeData>& data) override;
  api::CallResult<pb::VolumeImportReply> volumeImport(const pb::VolumeImportRequest& request,
                                                      api::BidiStream& stream) override;

  api::CallResult<pb::ContainerCreateReply> containerCreate(
      const pb::ContainerCreateRequest& request) override;
  api::CallResult<pb::ContainerRunReply> containerRun(const pb::ContainerRunRequest& request) override;
  api::CallResult<pb::ContainerStartReply> containerStart(
      const pb::ContainerStartRequest& request) override;
  api::CallResult<pb::ContainerStopReply> containerStop(
      const pb::ContainerStopRequest& request) override;
  api::CallResult<pb::ContainerRestartReply> containerRestart(
      const pb::ContainerRestartRequest& request) override;
  api::CallResult<pb::ContainerRemoveReply> containerRemove(
      const pb::ContainerRemoveRequest& request) override;
  api::CallResult<pb::ContainerListReply> containerList(
      const pb::ContainerListRequest& request) override;
  api::CallResult<pb::ContainerInfo> containerInspect(
      const pb::ContainerInspectRequest& request) override;
  api::CallResult<pb::ContainerUpdateReply> containerUpdate(
      const pb::ContainerUpdateRequest& request) override;

  api::CallResult<pb::StreamEnd> logs(const pb::LogsRequest& request,
                                      api::StreamWriter<pb::LogEntry>& entries) override;
  api::CallResult<pb::StreamEnd> stats(const pb::StatsRequest& request,
                                       api::StreamWriter<pb::StatsBatch>& batches) override;
  api::CallResult<pb::ExitStatus> exec(const pb::ExecStart& request, api::BidiStream& stream) override;
  api::CallResult<pb::ExitStatus> attach(const pb::AttachStart& request,
                                         api::BidiStream& stream) override;
  api::CallResult<pb::ExitStatus> shell(const pb::ShellStart& request, api::BidiStream& stream) override;

  api::CallResult<pb::ProjectDeployReply> projectDeploy(
      const pb::ProjectDeployRequest& request,
      api::StreamWriter<pb::DeployProgress>& progress) override;
  api::CallResult<pb::ProjectDownReply> projectDown(const pb::ProjectDownRequest& request) override;

 private:
  images::ImageService& images_;
  engine::ContainerEngine& engine_;
  streams::ExecTools tools_;
  net::network::ProjectNetworks* networks_;
  deploy::ProjectService projects_;
};

}  // namespace berth::agent::daemon
