// A fake berthd for black-box tests of whole berth commands: an api::Handler
// with canned answers that records what it was asked, served on a unix
// socket in a temporary directory by a thread of the test process.
#pragma once

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "agent/api/connection.h"
#include "agent/api/socket.h"
#include "agent/cli/cli.h"

namespace berth::agent::cli::testing {

namespace pb = ::berth::api;
using api::CallError;
using api::CallResult;

class FakeHandler : public api::Handler {
 public:
  std::mutex mutex;
  std::vector<std::string> calls;  // "containerStop web", ...
  pb::ContainerSpec lastSpec;
  pb::ContainerUpdateRequest lastUpdate;
  pb::LogsRequest lastLogs;
  pb::ExecStart lastExec;
  pb::ShellStart lastShell;
  pb::AttachStart lastAttach;
  pb::ContainerStopRequest lastStop;
  // A project's containers: listed only by a label filter they match (web
  // and old, unlabelled, only without one); their logs from logsById.
  std::vector<pb::ContainerSummary> projectContainers;
  std::map<std::string, std::vector<pb::LogEntry>> logsById;
  std::vector<pb::LogsRequest> logRequests;  // every logs call of those ids
  pb::ContainerState inspectState = pb::STATE_CREATED;
  std::set<std::string> stopped;  // ids stopped (and not started since)
  std::optional<CallError> diskUpdateError;  // an update with disk_bytes fails so
  std::vector<pb::ContainerUpdateRequest> updates;
  std::string stdinReceived;
  bool sawCloseStdin = false;
  int exitCode = 0;
  bool endAfterFirstInput = false;
  std::vector<pb::TerminalSize> resizes;

  void record(const std::string& call) {
    std::lock_guard lock(mutex);
    calls.push_back(call);
  }
  static CallError noSuch(const std::string& id) {
    return CallError(pb::NOT_FOUND, "no such container: " + id);
  }

  CallResult<pb::ImagePullReply> imagePull(const pb::ImagePullRequest& request,
                                           api::StreamWriter<pb::PullProgress>& progress) override;
  CallResult<pb::ImageImportReply> imageImport(const pb::ImageImportRequest& request) override;
  CallResult<pb::ImageListReply> imageList(const pb::ImageListRequest& request) override;
  CallResult<pb::ImageInfo> imageInspect(const pb::ImageInspectRequest& request) override;
  CallResult<pb::ImageRemoveReply> imageRemove(const pb::ImageRemoveRequest& request) override;
  CallResult<pb::ImagePruneReply> imagePrune(const pb::ImagePruneRequest& request) override;
  CallResult<pb::ContainerCreateReply> containerCreate(
      const pb::ContainerCreateRequest& request) override;
  CallResult<pb::ContainerRunReply> containerRun(const pb::ContainerRunRequest& request) override;
  CallResult<pb::ContainerStartReply> containerStart(
      const pb::ContainerStartRequest& request) override;
  CallResult<pb::ContainerStopReply> containerStop(
      const pb::ContainerStopRequest& request) override;
  CallResult<pb::ContainerRemoveReply> containerRemove(
      const pb::ContainerRemoveRequest& request) override;
  CallResult<pb::ContainerListReply> containerList(
      const pb::ContainerListRequest& request) override;
  CallResult<pb::ContainerInfo> containerInspect(
      const pb::ContainerInspectRequest& request) override;
  CallResult<pb::ContainerUpdateReply> containerUpdate(
      const pb::ContainerUpdateRequest& request) override;
  CallResult<pb::StreamEnd> logs(const pb::LogsRequest& request,
                                 api::StreamWriter<pb::LogEntry>& entries) override;
  CallResult<pb::StreamEnd> stats(const pb::StatsRequest& request,
                                  api::StreamWriter<pb::StatsBatch>& batches) override;
  CallResult<pb::ExitStatus> exec(const pb::ExecStart& request, api::BidiStream& stream) override;
  CallResult<pb::ExitStatus> attach(const pb::AttachStart& request,
                                    api::BidiStream& stream) override;
  CallResult<pb::ExitStatus> shell(const pb::ShellStart& request, api::BidiStream& stream) override;

 private:
  // Echoes stdin back on stdout ("echo:<data>") until close_stdin, then
  // writes `out`/`err` and exits with exitCode.
  CallResult<pb::ExitStatus> session(bool readStdin, const std::string& out, const std::string& err,
                                     api::BidiStream& stream);
};

// Serves a FakeHandler on <tmp>/berthd.sock until destroyed.
class FakeDaemon {
 public:
  explicit FakeDaemon(FakeHandler& handler, api::ServerOptions options = {});
  ~FakeDaemon();
  const std::string& socketPath() const { return path_; }

 private:
  void acceptLoop();

  FakeHandler& handler_;
  api::ServerOptions options_;
  std::filesystem::path dir_;
  std::string path_;
  api::Listener listener_;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex threadsMutex_;
  std::vector<std::thread> connections_;
};

// Runs `berth args...` in-process with captured output.
struct CliRun {
  int code = -1;
  std::string out;
  std::string err;
};

struct CliOptions {
  std::string stdinData;  // fed through a pipe
  std::vector<std::pair<std::string, std::string>> env;
  int64_t nowNs = 1'700'000'000'000'000'000;
  std::map<std::string, std::string> files;  // for --env-file
};

CliRun runCli(const std::vector<std::string>& args, const CliOptions& options = {});

}  // namespace berth::agent::cli::testing
