// A Handler for the tests: every call echoes part of its request into its
// reply, so a round trip proves the request arrived intact; streams produce
// a known sequence. Plus a fixture that serves it on one end of a socketpair.
#pragma once

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <string>
#include <thread>

#include "agent/api/client.h"
#include "agent/api/connection.h"

namespace berth::agent::api::testing {

class FakeHandler : public Handler {
 public:
  CallResult<pb::ImagePullReply> imagePull(const pb::ImagePullRequest& request,
                                           StreamWriter<pb::PullProgress>& progress) override {
    for (std::uint64_t i = 1; i <= 3; ++i) {
      pb::PullProgress item;
      item.set_id("sha256:layer");
      item.set_status("downloading");
      item.set_current(i * 10);
      item.set_total(30);
      if (!progress.send(item)) return CallError(pb::CANCELLED, "client gone");
    }
    pb::ImagePullReply reply;
    reply.mutable_image()->add_references(request.reference());
    reply.mutable_image()->set_platform(request.platform());
    return reply;
  }
  CallResult<pb::ImageImportReply> imageImport(const pb::ImageImportRequest& request) override {
    pb::ImageImportReply reply;
    reply.add_images()->set_id(request.path() + "|" + request.reference());
    return reply;
  }
  CallResult<pb::ImageListReply> imageList(const pb::ImageListRequest& request) override {
    pb::ImageListReply reply;
    reply.add_images()->set_id(request.all() ? "all" : "tagged");
    return reply;
  }
  CallResult<pb::ImageInfo> imageInspect(const pb::ImageInspectRequest& request) override {
    if (request.reference() == "missing") {
      return sys::Error(ENOENT, "image missing");  // a sys::Error maps to NOT_FOUND
    }
    pb::ImageInfo info;
    info.mutable_summary()->set_id(request.reference());
    (*info.mutable_labels())["a"] = "b";
    return info;
  }
  CallResult<pb::ImageRemoveReply> imageRemove(const pb::ImageRemoveRequest& request) override {
    pb::ImageRemoveReply reply;
    reply.add_untagged(request.reference() + (request.force() ? "!" : ""));
    return reply;
  }
  CallResult<pb::ImagePruneReply> imagePrune(const pb::ImagePruneRequest& request) override {
    pb::ImagePruneReply reply;
    reply.set_reclaimed_bytes(request.all() ? 2 : 1);
    return reply;
  }
  CallResult<pb::ContainerCreateReply> containerCreate(
      const pb::ContainerCreateRequest& request) override {
    if (request.spec().name() == "taken") return CallError(pb::ALREADY_EXISTS, "name taken");
    lastSpec = request.spec();
    pb::ContainerCreateReply reply;
    reply.set_id("id-" + request.spec().name());
    reply.set_name(request.spec().name());
    // "bin" carries non-UTF-8 argv: echoing it into a `string` would be invalid.
    if (request.spec().name() != "bin") reply.add_warnings(describe(request.spec()));
    return reply;
  }
  CallResult<pb::ContainerRunReply> containerRun(const pb::ContainerRunRequest& request) override {
    pb::ContainerRunReply reply;
    reply.set_id("run-" + request.spec().name());
    reply.add_warnings(describe(request.spec()));
    return reply;
  }
  CallResult<pb::ContainerStartReply> containerStart(
      const pb::ContainerStartRequest& request) override {
    last = "start " + request.id();
    return pb::ContainerStartReply();
  }
  CallResult<pb::ContainerStopReply> containerStop(
      const pb::ContainerStopRequest& request) override {
    last = "stop " + request.id() +
           (request.has_timeout_seconds() ? " " + std::to_string(request.timeout_seconds()) : "");
    return pb::ContainerStopReply();
  }
  CallResult<pb::ContainerRestartReply> containerRestart(
      const pb::ContainerRestartRequest& request) override {
    last = "restart " + request.id();
    return pb::ContainerRestartReply();
  }
  CallResult<pb::ContainerRemoveReply> containerRemove(
      const pb::ContainerRemoveRequest& request) override {
    last = "rm " + request.id() + (request.force() ? " -f" : "");
    return pb::ContainerRemoveReply();
  }
  CallResult<pb::ContainerListReply> containerList(
      const pb::ContainerListRequest& request) override {
    pb::ContainerListReply reply;
    auto* c = reply.add_containers();
    c->set_name(request.all() ? "all" : "running");
    c->set_state(pb::STATE_RUNNING);
    c->set_restart_count(3);
    return reply;
  }
  CallResult<pb::ContainerInfo> containerInspect(
      const pb::ContainerInspectRequest& request) override {
    pb::ContainerInfo info;
    info.mutable_summary()->set_id(request.id());
    info.set_oom_killed(true);
    return info;
  }
  CallResult<pb::ContainerUpdateReply> containerUpdate(
      const pb::ContainerUpdateRequest& request) override {
    pb::ContainerUpdateReply reply;
    reply.add_warnings(std::string(request.has_memory_bytes() ? "mem " : "") +
                       std::to_string(request.memory_bytes()) +
                       (request.has_pids_limit() ? " pids" : " nopids"));
    return reply;
  }
  CallResult<pb::StreamEnd> logs(const pb::LogsRequest& request,
                                 StreamWriter<pb::LogEntry>& entries) override {
    for (int i = 0; i < 5; ++i) {
      pb::LogEntry entry;
      entry.set_timestamp_ns(1000 + i);
      entry.set_stream(i % 2 ? pb::OUTPUT_STDERR : pb::OUTPUT_STDOUT);
      entry.set_data("line " + std::to_string(i) + "\n");
      if (!entries.send(entry)) return CallError(pb::CANCELLED, "client gone");
    }
    if (!request.follow()) return pb::StreamEnd();
    // Follow: wait for the client to go, as a real follow loop polls cancelFd.
    pollfd pfd{entries.cancelFd(), POLLIN, 0};
    int ready = ::poll(&pfd, 1, 10'000);
    followSawCancel = ready == 1 && entries.cancelled();
    return CallError(pb::CANCELLED, "client cancelled");
  }
  CallResult<pb::StreamEnd> stats(const pb::StatsRequest& request,
                                  StreamWriter<pb::StatsBatch>& batches) override {
    pb::StatsBatch batch;
    auto* s = batch.add_containers();
    s->set_id(request.ids_size() > 0 ? request.ids(0) : "");
    s->set_cpu_percent(12.5);
    s->set_memory_usage(1 << 20);
    s->set_pids(4);
    if (!batches.send(batch)) return CallError(pb::CANCELLED, "client gone");
    return pb::StreamEnd();
  }
  // Echoes stdin back (stdout) until close_stdin; resizes and signals are
  // reported on stderr; the exit code is the number of inputs seen.
  CallResult<pb::ExitStatus> exec(const pb::ExecStart& request, BidiStream& stream) override {
    if (request.id() == "stopped") return CallError(pb::FAILED_PRECONDITION, "not running");
    int inputs = 0;
    pb::StreamInput input;
    while (stream.receive(&input)) {
      ++inputs;
      pb::ExecOutput out;
      if (input.has_stdin()) {
        out.set_stream(pb::OUTPUT_STDOUT);
        out.set_data(input.stdin());
      } else if (input.has_resize()) {
        out.set_stream(pb::OUTPUT_STDERR);
        out.set_data("resize " + std::to_string(input.resize().rows()) + "x" +
                     std::to_string(input.resize().cols()));
      } else if (input.has_signal()) {
        out.set_stream(pb::OUTPUT_STDERR);
        out.set_data("signal " + std::to_string(input.signal()));
      } else {
        break;  // close_stdin
      }
      if (!stream.send(out)) break;
    }
    execSawCancel = stream.cancelled();
    pb::ExitStatus status;
    status.set_code(inputs);
    return status;
  }
  CallResult<pb::ExitStatus> attach(const pb::AttachStart& request, BidiStream& stream) override {
    pb::ExecOutput out;
    out.set_data("attached " + request.id() + (request.start() ? " started" : ""));
    (void)stream.send(out);
    pb::ExitStatus status;
    status.set_code(137);
    status.set_signal(9);
    return status;
  }

  std::string last;
  pb::ContainerSpec lastSpec;
  std::atomic<bool> followSawCancel{false};
  std::atomic<bool> execSawCancel{false};

 private:
  static std::string describe(const pb::ContainerSpec& spec) {
    std::string out = spec.image();
    for (const auto& e : spec.env()) out += " env:" + e;
    if (spec.has_entrypoint())
      out += " entrypoint:" + std::to_string(spec.entrypoint().values_size());
    for (const auto& c : spec.cmd()) out += " cmd:" + c;
    out += " mem:" + std::to_string(spec.memory_bytes());
    out += " cpus:" + std::to_string(spec.nano_cpus());
    out += " restart:" + std::to_string(spec.restart().kind()) + "/" +
           std::to_string(spec.restart().max_retries());
    for (const auto& [k, v] : spec.labels()) out += " label:" + k + "=" + v;
    if (spec.has_stop_timeout()) out += " stop:" + std::to_string(spec.stop_timeout());
    for (const auto& v : spec.volumes()) out += " vol:" + v;
    return out;
  }
};

// Serves `handler` on one end of a socketpair in a thread; client() is the
// other end. Teardown waits for the server to finish.
class ServedPair {
 public:
  explicit ServedPair(Handler& handler, ServerOptions options = {}) {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    clientFd_ = sys::UniqueFd(fds[0]);
    sys::UniqueFd server(fds[1]);
    thread_ = std::thread([&handler, options, fd = std::move(server)]() mutable {
      serveConnection(std::move(fd), handler, options);
    });
  }
  ~ServedPair() {
    clientFd_.reset();
    thread_.join();
  }
  sys::UniqueFd takeClientFd() { return std::move(clientFd_); }
  int clientFd() const { return clientFd_.get(); }
  // Waits for the server to end the conversation on its own.
  void join() {
    thread_.join();
    thread_ = std::thread([] {});
  }

 private:
  sys::UniqueFd clientFd_;
  std::thread thread_;
};

}  // namespace berth::agent::api::testing
