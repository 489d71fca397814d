// The fake berthd of the CLI tests (fake_daemon.h).
#include "fake_daemon.h"

#include <fcntl.h>

#include <map>

namespace berth::agent::cli::testing {

namespace {

const std::string kId = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
constexpr int64_t kNow = 1'700'000'000'000'000'000;
constexpr int64_t kHour = 3600'000'000'000;

pb::ImageSummary debianImage() {
  pb::ImageSummary image;
  image.set_id("sha256:aaaaaaaaaaaabbbbbbbbbbbbcccccccccccc");
  image.add_references("docker.io/library/debian:12");
  image.set_size(74'800'000);
  image.set_created_ns(kNow - 3 * kHour);
  image.set_platform("linux/amd64");
  return image;
}

}  // namespace

CallResult<pb::ImagePullReply> FakeHandler::imagePull(
    const pb::ImagePullRequest& request, api::StreamWriter<pb::PullProgress>& progress) {
  record("imagePull " + request.reference() + " " + request.platform());
  if (request.reference() == "missing") return CallError(pb::NOT_FOUND, "manifest unknown");
  for (uint64_t i = 1; i <= 2; ++i) {
    pb::PullProgress p;
    p.set_id("sha256:0123456789abcdef");
    p.set_status("downloading");
    p.set_current(i * 500'000);
    p.set_total(1'000'000);
    progress.send(p);
  }
  pb::ImagePullReply reply;
  *reply.mutable_image() = debianImage();
  reply.mutable_image()->set_manifest_digest("sha256:manifest");
  return reply;
}

CallResult<pb::ImageImportReply> FakeHandler::imageImport(const pb::ImageImportRequest& request) {
  record("imageImport " + request.path() + " " + request.reference());
  pb::ImageImportReply reply;
  auto* image = reply.add_images();
  image->set_id("sha256:imported");
  if (!request.reference().empty()) image->add_references(request.reference());
  return reply;
}

CallResult<pb::ImageListReply> FakeHandler::imageList(const pb::ImageListRequest& request) {
  pb::ImageListReply reply;
  *reply.add_images() = debianImage();
  if (request.all()) {
    auto* untagged = reply.add_images();
    untagged->set_id("sha256:dddddddddddd0000");
    untagged->set_size(1000);
  }
  return reply;
}

CallResult<pb::ImageInfo> FakeHandler::imageInspect(const pb::ImageInspectRequest& request) {
  if (request.reference() == "missing") return CallError(pb::NOT_FOUND, "no such image: missing");
  pb::ImageInfo info;
  *info.mutable_summary() = debianImage();
  info.add_cmd("bash");
  info.set_os("linux");
  return info;
}

CallResult<pb::ImageRemoveReply> FakeHandler::imageRemove(const pb::ImageRemoveRequest& request) {
  record("imageRemove " + request.reference() + (request.force() ? " force" : ""));
  if (request.reference() == "used") {
    return CallError(pb::CONFLICT, "image is used by container web (use -f)");
  }
  pb::ImageRemoveReply reply;
  reply.add_untagged(request.reference());
  reply.add_deleted("sha256:aaaa");
  return reply;
}

CallResult<pb::ImagePruneReply> FakeHandler::imagePrune(const pb::ImagePruneRequest& request) {
  record(std::string("imagePrune") + (request.all() ? " all" : ""));
  pb::ImagePruneReply reply;
  reply.add_deleted("sha256:dead");
  reply.set_reclaimed_bytes(1'500'000);
  return reply;
}

CallResult<pb::ContainerCreateReply> FakeHandler::containerCreate(
    const pb::ContainerCreateRequest& request) {
  record("containerCreate " + request.spec().image());
  if (request.spec().image() == "missing") {
    return CallError(pb::NOT_FOUND, "no such image: missing (pull it first)");
  }
  if (request.spec().name() == "taken") return CallError(pb::ALREADY_EXISTS, "name taken");
  {
    std::lock_guard lock(mutex);
    lastSpec = request.spec();
  }
  pb::ContainerCreateReply reply;
  reply.set_id(kId);
  reply.set_name("web");
  if (request.spec().memory_bytes() == 1) reply.add_warnings("memory limit too small");
  return reply;
}

CallResult<pb::ContainerRunReply> FakeHandler::containerRun(
    const pb::ContainerRunRequest& request) {
  record("containerRun " + request.spec().image());
  {
    std::lock_guard lock(mutex);
    lastSpec = request.spec();
  }
  pb::ContainerRunReply reply;
  reply.set_id(kId);
  reply.set_name("web");
  return reply;
}

CallResult<pb::ContainerStartReply> FakeHandler::containerStart(
    const pb::ContainerStartRequest& request) {
  record("containerStart " + request.id());
  if (request.id() == "missing") return noSuch(request.id());
  std::lock_guard lock(mutex);
  stopped.erase(request.id());
  return pb::ContainerStartReply();
}

CallResult<pb::ContainerStopReply> FakeHandler::containerStop(
    const pb::ContainerStopRequest& request) {
  record("containerStop " + request.id());
  if (request.id() == "missing") return noSuch(request.id());
  std::lock_guard lock(mutex);
  lastStop = request;
  stopped.insert(request.id());
  return pb::ContainerStopReply();
}

CallResult<pb::ContainerRemoveReply> FakeHandler::containerRemove(
    const pb::ContainerRemoveRequest& request) {
  record("containerRemove " + request.id() + (request.force() ? " force" : ""));
  if (request.id() == "missing") return noSuch(request.id());
  return pb::ContainerRemoveReply();
}

CallResult<pb::ContainerListReply> FakeHandler::containerList(
    const pb::ContainerListRequest& request) {
  pb::ContainerListReply reply;
  if (!request.label_filter().empty()) {
    std::lock_guard lock(mutex);
    for (const pb::ContainerSummary& c : projectContainers) {
      bool match = true;
      for (const auto& [key, value] : request.label_filter()) {
        auto it = c.labels().find(key);
        match = match && it != c.labels().end() && it->second == value;
      }
      if (match) *reply.add_containers() = c;
    }
    return reply;
  }
  auto* web = reply.add_containers();
  web->set_id(kId);
  web->set_name("web");
  web->set_image("debian:12");
  web->add_command("sh");
  web->add_command("-c");
  web->add_command("while true; do sleep 1; done");
  web->set_created_ns(kNow - 2 * kHour);
  web->set_state(pb::STATE_RUNNING);
  web->set_started_ns(kNow - 5 * 60'000'000'000);
  web->set_restart_count(2);
  if (request.all()) {
    auto* old = reply.add_containers();
    old->set_id("fedcba9876543210fedcba9876543210");
    old->set_name("old");
    old->set_image("busybox");
    old->add_command("true");
    old->set_created_ns(kNow - 50 * kHour);
    old->set_state(pb::STATE_EXITED);
    old->set_exit_code(1);
    old->set_finished_ns(kNow - 30'000'000'000);
  }
  return reply;
}

CallResult<pb::ContainerInfo> FakeHandler::containerInspect(
    const pb::ContainerInspectRequest& request) {
  if (request.id() == "missing") return noSuch(request.id());
  pb::ContainerInfo info;
  info.mutable_summary()->set_id(kId);
  info.mutable_summary()->set_name(request.id());
  {
    std::lock_guard lock(mutex);
    info.mutable_summary()->set_state(inspectState);
  }
  info.mutable_spec()->set_image("debian:12");
  info.add_effective_args("sh");
  info.set_effective_workdir("/");
  return info;
}

CallResult<pb::ContainerUpdateReply> FakeHandler::containerUpdate(
    const pb::ContainerUpdateRequest& request) {
  record("containerUpdate " + request.id());
  std::lock_guard lock(mutex);
  lastUpdate = request;
  updates.push_back(request);
  // Like berthd here: a disk grows only while its container is stopped.
  if (diskUpdateError && request.has_disk_bytes() && !stopped.contains(request.id())) {
    return *diskUpdateError;
  }
  return pb::ContainerUpdateReply();
}

CallResult<pb::StreamEnd> FakeHandler::logs(const pb::LogsRequest& request,
                                            api::StreamWriter<pb::LogEntry>& entries) {
  if (request.id() == "missing") return noSuch(request.id());
  std::vector<pb::LogEntry> canned;
  {
    std::lock_guard lock(mutex);
    lastLogs = request;
    auto it = logsById.find(request.id());
    if (it != logsById.end()) {
      logRequests.push_back(request);
      canned = it->second;
    }
  }
  if (!canned.empty()) {
    for (const pb::LogEntry& e : canned) {
      bool inRange = e.timestamp_ns() >= request.since_ns() &&
                     (request.until_ns() == 0 || e.timestamp_ns() <= request.until_ns());
      if (inRange) entries.send(e);
    }
    return pb::StreamEnd();
  }
  auto entry = [&](int64_t t, pb::OutputStream s, const std::string& data, bool partial) {
    pb::LogEntry e;
    e.set_timestamp_ns(t);
    e.set_stream(s);
    e.set_data(data);
    e.set_partial(partial);
    entries.send(e);
  };
  entry(kNow, pb::OUTPUT_STDOUT, "line one", false);
  entry(kNow + 1, pb::OUTPUT_STDERR, "an error", false);
  entry(kNow + 500'000'000, pb::OUTPUT_STDOUT, "par", true);
  entry(kNow + 600'000'000, pb::OUTPUT_STDOUT, "tial", false);
  return pb::StreamEnd();
}

CallResult<pb::StreamEnd> FakeHandler::stats(const pb::StatsRequest& request,
                                             api::StreamWriter<pb::StatsBatch>& batches) {
  record("stats " + std::to_string(request.ids_size()) + (request.stream() ? " stream" : ""));
  pb::StatsBatch batch;
  auto* s = batch.add_containers();
  s->set_id(kId);
  s->set_name("web");
  s->set_cpu_percent(12.5);
  s->set_memory_usage(64 * 1024 * 1024);
  s->set_memory_limit(512 * 1024 * 1024);
  s->set_pids(3);
  batches.send(batch);
  if (request.stream()) batches.send(batch);
  return pb::StreamEnd();
}

CallResult<pb::ExitStatus> FakeHandler::session(bool readStdin, const std::string& out,
                                                const std::string& err, api::BidiStream& stream) {
  pb::StreamInput input;
  while (readStdin && stream.receive(&input)) {
    if (input.has_close_stdin()) {
      std::lock_guard lock(mutex);
      sawCloseStdin = true;
      break;
    }
    if (input.input_case() == pb::StreamInput::kStdin) {
      {
        std::lock_guard lock(mutex);
        stdinReceived += input.stdin();
      }
      pb::ExecOutput echo;
      echo.set_stream(pb::OUTPUT_STDOUT);
      echo.set_data("echo:" + input.stdin());
      stream.send(echo);
      if (endAfterFirstInput) break;  // a raw terminal never sends EOF
    }
    if (input.input_case() == pb::StreamInput::kResize) {
      std::lock_guard lock(mutex);
      resizes.push_back(input.resize());
    }
  }
  pb::ExecOutput o;
  o.set_stream(pb::OUTPUT_STDOUT);
  o.set_data(out);
  stream.send(o);
  pb::ExecOutput e;
  e.set_stream(pb::OUTPUT_STDERR);
  e.set_data(err);
  stream.send(e);
  pb::ExitStatus status;
  status.set_code(exitCode);
  return status;
}

CallResult<pb::ExitStatus> FakeHandler::exec(const pb::ExecStart& request,
                                             api::BidiStream& stream) {
  if (request.id() == "missing") return noSuch(request.id());
  {
    std::lock_guard lock(mutex);
    lastExec = request;
  }
  return session(request.stdin(), "exec " + request.cmd(0) + "\n", "", stream);
}

CallResult<pb::ExitStatus> FakeHandler::attach(const pb::AttachStart& request,
                                               api::BidiStream& stream) {
  {
    std::lock_guard lock(mutex);
    lastAttach = request;
  }
  record("attach " + request.id() + (request.start() ? " start" : ""));
  return session(request.stdin(), "hello from the container\n", "to stderr\n", stream);
}

CallResult<pb::ExitStatus> FakeHandler::shell(const pb::ShellStart& request,
                                              api::BidiStream& stream) {
  {
    std::lock_guard lock(mutex);
    lastShell = request;
  }
  return session(true, "bye\n", "", stream);
}

// ------------------------------------------------------------ FakeDaemon

FakeDaemon::FakeDaemon(FakeHandler& handler, api::ServerOptions options)
    : handler_(handler), options_(std::move(options)) {
  static std::atomic<int> counter{0};
  dir_ = std::filesystem::temp_directory_path() /
         ("berth-cli-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  std::filesystem::create_directories(dir_);
  path_ = (dir_ / "berthd.sock").string();
  api::ListenOptions listen;
  listen.path = path_;
  listen.group = "";
  auto listener = api::listenUnix(listen);
  if (!listener.ok()) {
    ADD_FAILURE() << listener.error().str();
    return;
  }
  listener_ = std::move(listener).value();
  acceptor_ = std::thread([this] { acceptLoop(); });
}

void FakeDaemon::acceptLoop() {
  for (;;) {
    auto fd = api::acceptConnection(listener_.fd.get());
    if (stopping_ || !fd.ok()) return;
    std::lock_guard lock(threadsMutex_);
    connections_.emplace_back([this, conn = std::move(fd).value()]() mutable {
      api::serveConnection(std::move(conn), handler_, options_);
    });
  }
}

FakeDaemon::~FakeDaemon() {
  stopping_ = true;
  if (acceptor_.joinable()) {
    // Wake the blocked accept with a connection of our own.
    auto wake = api::connectUnix(path_);
    acceptor_.join();
  }
  for (auto& t : connections_) t.join();
  listener_.fd.reset();
  listener_.lock.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

CliRun runCli(const std::vector<std::string>& args, const CliOptions& options) {
  std::vector<std::string> storage = args;
  storage.insert(storage.begin(), "berth");
  std::vector<char*> argv;
  for (auto& a : storage) argv.push_back(a.data());
  argv.push_back(nullptr);

  int fds[2];
  EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  sys::UniqueFd in(fds[0]);
  {
    sys::UniqueFd writeEnd(fds[1]);
    EXPECT_EQ(::write(writeEnd.get(), options.stdinData.data(), options.stdinData.size()),
              static_cast<ssize_t>(options.stdinData.size()));
  }
  std::ostringstream out;
  std::ostringstream err;
  Io io;
  io.out = &out;
  io.err = &err;
  io.stdinFd = in.get();
  io.stdoutFd = -1;
  io.env = [env = options.env](const std::string& name) -> std::optional<std::string> {
    for (const auto& [k, v] : env) {
      if (k == name) return v;
    }
    return std::nullopt;
  };
  io.nowNs = [now = options.nowNs] { return now; };
  io.readFile = [files = options.files](const std::string& path) -> sys::Result<std::string> {
    auto it = files.find(path);
    if (it == files.end()) return sys::Error(ENOENT, "open " + path);
    return it->second;
  };
  CliRun run;
  run.code = cliMain(static_cast<int>(storage.size()), argv.data(), io);
  run.out = out.str();
  run.err = err.str();
  return run;
}

}  // namespace berth::agent::cli::testing
