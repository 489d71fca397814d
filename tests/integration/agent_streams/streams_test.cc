// exec, shell, logs, attach and stats against a real container run by a
// real berth-shim and berth-runtime.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstring>

#include <filesystem>
#include <regex>
#include <thread>

#include "agent/streams/attach_session.h"
#include "agent/streams/child_process.h"
#include "agent/streams/exec_session.h"
#include "agent/streams/log_stream.h"
#include "agent/streams/stats_stream.h"
#include "runtime/cgroup/manager.h"
#include "runtime/container/lifecycle.h"
#include "runtime/sys/fs.h"
#include "tests/integration/agent_streams/harness.h"

namespace berth::tests::streams {
namespace {

namespace st = agent::streams;

class ExecTest : public StreamsTest {
 protected:
  void SetUp() override {
    StreamsTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    ASSERT_NO_FATAL_FAILURE(writeBundle({"sleep", "1000"}));
    ASSERT_NO_FATAL_FAILURE(launchOrFail());
    tools_.runtimeBinary = runtimeBinary();
  }

  pb::ExecStart request(const std::vector<std::string>& cmd, bool tty = false, bool stdin = false) {
    pb::ExecStart r;
    r.set_id(id_);
    for (const auto& c : cmd) r.add_cmd(c);
    r.set_tty(tty);
    r.set_stdin(stdin);
    return r;
  }

  size_t pidsInCgroup() {
    auto m = runtime::cgroup::openManager("/berth-test/" + id_, id_);
    if (!m) return 0;
    auto pids = (*m)->pids();
    return pids ? pids->size() : 0;
  }

  st::ExecTools tools_;
  FakeBidi stream_;
};

TEST_F(ExecTest, EchoOutputAndExitCodeZero) {
  auto r = st::runExec(access_, tools_, request({"echo", "hello", "world"}), stream_);
  ASSERT_TRUE(r) << r.error().str();
  EXPECT_EQ(r->code(), 0);
  EXPECT_EQ(stream_.output(), "hello world\n");
  EXPECT_EQ(pidsInCgroup(), 1u) << "only the init is left";
}

TEST_F(ExecTest, ExitCodeAndStderr) {
  auto r = st::runExec(access_, tools_, request({"sh", "-c", "echo bad >&2; exit 3"}), stream_);
  ASSERT_TRUE(r) << r.error().str();
  EXPECT_EQ(r->code(), 3);
  EXPECT_EQ(r->signal(), 0);
  EXPECT_EQ(stream_.output(pb::OUTPUT_STDERR), "bad\n");
}

TEST_F(ExecTest, EnvUserAndWorkdir) {
  auto req = request({"sh", "-c", "echo $FOO:$(id -u):$(pwd)"});
  req.add_env("FOO=bar");
  req.set_user("1000:1000");
  req.set_workdir("/tmp");
  auto r = st::runExec(access_, tools_, req, stream_);
  ASSERT_TRUE(r) << r.error().str();
  EXPECT_EQ(stream_.output(), "bar:1000:/tmp\n");
}

TEST_F(ExecTest, StdinIsPipedToCat) {
  stream_.pushStdin("line one\n");
  stream_.pushStdin("line two\n");
  stream_.pushCloseStdin();
  auto r = st::runExec(access_, tools_, request({"cat"}, false, true), stream_);
  ASSERT_TRUE(r) << r.error().str();
  EXPECT_EQ(r->code(), 0);
  EXPECT_EQ(stream_.output(), "line one\nline two\n");
}

size_t openFds() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

TEST_F(ExecTest, TtyIsAPseudoTerminal) {
  // The first exec opens the one write-protected view of the runtime binary
  // every later call shares (exec_session.cc), held for the process's life.
  FakeBidi warmUp;
  ASSERT_TRUE(st::runExec(access_, tools_, request({"true"}), warmUp));
  size_t fdsBefore = openFds();
  auto r = st::runExec(access_, tools_, request({"tty"}, true), stream_);
  EXPECT_EQ(openFds(), fdsBefore) << "the pty master or console socket leaked";
  ASSERT_TRUE(r) << r.error().str();
  EXPECT_EQ(r->code(), 0);
  EXPECT_TRUE(std::regex_match(stream_.output(), std::regex("/dev/pts/[0-9]+\r\n"))) << stream_.output();
}

TEST_F(ExecTest, TtySizeAndResize) {
  auto req = request({"sh", "-c", "stty size; read x; stty size"}, true, true);
  req.mutable_size()->set_rows(30);
  req.mutable_size()->set_cols(90);
  bool resized = false;
  stream_.onOutput = [&](const pb::ExecOutput&) {
    if (!resized && stream_.output().find("30 90") != std::string::npos) {
      resized = true;
      stream_.pushResize(50, 120);
      stream_.pushStdin("\n");
    }
  };
  auto r = st::runExec(access_, tools_, req, stream_);
  ASSERT_TRUE(r) << r.error().str();
  EXPECT_EQ(r->code(), 0);
  EXPECT_NE(stream_.output().find("30 90\r\n"), std::string::npos) << stream_.output();
  EXPECT_NE(stream_.output().find("50 120\r\n"), std::string::npos) << stream_.output();
}

TEST_F(ExecTest, CtrlCInterruptsThroughThePty) {
  // The echo proves the process runs before ^C is typed.
  auto req = request({"sh", "-c", "echo go; exec sleep 100"}, true, true);
  stream_.onOutput = [&](const pb::ExecOutput&) {
    if (stream_.output().find("go") != std::string::npos) {
      std::thread([&] {
        std::this_thread::sleep_for(200ms);
        stream_.pushStdin("\x03");
      }).detach();
      stream_.onOutput = nullptr;
    }
  };
  auto start = std::chrono::steady_clock::now();
  auto r = st::runExec(access_, tools_, req, stream_);
  ASSERT_TRUE(r) << r.error().str();
  EXPECT_EQ(r->code(), 130);
  EXPECT_EQ(r->signal(), SIGINT);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 20s);
}

TEST_F(ExecTest, ShellRunsTheDefaultShellWithATty) {
  pb::ShellStart req;
  req.set_id(id_);
  stream_.pushStdin("echo shell-$((40+2)); exit 4\n");
  auto r = st::runShell(access_, tools_, req, stream_);
  ASSERT_TRUE(r) << r.error().str();
  EXPECT_EQ(r->code(), 4);
  EXPECT_NE(stream_.output().find("shell-42"), std::string::npos) << stream_.output();
}

TEST_F(ExecTest, ClientGoneKillsTheExecdProcess) {
  stream_.onOutput = [&](const pb::ExecOutput&) { stream_.cancel(); };
  auto r = st::runExec(access_, tools_, request({"sh", "-c", "echo up; exec sleep 100"}), stream_);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, pb::CANCELLED);
  EXPECT_TRUE(waitUntil([&] { return pidsInCgroup() == 1; }, 5s)) << pidsInCgroup();
}

// Writes one byte through `path`; the errno when the kernel refuses.
int writeThrough(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  int err = ::write(fd, "x", 1) == 1 ? 0 : errno;
  ::close(fd);
  return err;
}

// CVE-2019-5736 on the daemon's path: the runtime child is started from a
// write-protected view of its binary (and skips its own re-exec), so an O_PATH
// fd of its /proc/<pid>/exe kept until it is gone still cannot write the file.
TEST_F(ExecTest, TheRuntimeRunsFromAWriteProtectedViewOfItsBinary) {
  std::string copy = dir_ + "/runtime-copy";  // a failure corrupts only this
  auto original = sys::readFile(runtimeBinary());
  ASSERT_TRUE(original);
  ASSERT_TRUE(sys::writeFileReplace(copy, *original, 0755));
  tools_.runtimeBinary = copy;
  int kept = -1;
  stream_.onOutput = [&](const pb::ExecOutput&) {
    // The exec'd process's parent is the runtime, our child.
    auto m = runtime::cgroup::openManager("/berth-test/" + id_, id_);
    auto pids = m ? (*m)->pids() : std::vector<pid_t>{};
    for (pid_t pid : pids ? *pids : std::vector<pid_t>{}) {
      pid_t parent = st::parentOf(pid);
      if (parent > 0 && st::parentOf(parent) == ::getpid()) {
        kept = ::open(("/proc/" + std::to_string(parent) + "/exe").c_str(), O_PATH | O_CLOEXEC);
      }
    }
    stream_.cancel();
  };
  auto r = st::runExec(access_, tools_, request({"sh", "-c", "echo up; exec sleep 100"}), stream_);
  ASSERT_FALSE(r);
  ASSERT_GE(kept, 0) << "the runtime process was not found";
  int err = writeThrough("/proc/self/fd/" + std::to_string(kept));
  ::close(kept);
  EXPECT_TRUE(err == EROFS || err == EPERM) << std::strerror(err);
  auto after = sys::readFile(copy);
  EXPECT_TRUE(after && *after == *original) << "the runtime binary was modified";
}

TEST_F(ExecTest, MissingOrNotExecutableBinaryExits127Or126LikeDocker) {
  auto r = st::runExec(access_, tools_, request({"/no/such/binary"}), stream_);
  ASSERT_TRUE(r) << r.error().str();
  EXPECT_EQ(r->code(), 127);
  EXPECT_EQ(stream_.output(pb::OUTPUT_STDERR), "exec: \"/no/such/binary\": No such file or directory\n");
  auto notInPath = st::runExec(access_, tools_, request({"no-such-command"}), stream_);
  ASSERT_TRUE(notInPath) << notInPath.error().str();
  EXPECT_EQ(notInPath->code(), 127);
  auto notExecutable = st::runExec(access_, tools_, request({"/etc/passwd"}), stream_);
  ASSERT_TRUE(notExecutable) << notExecutable.error().str();
  EXPECT_EQ(notExecutable->code(), 126);
}

TEST_F(ExecTest, StoppedContainerIsAFailedPrecondition) {
  ASSERT_TRUE(runtime::container::killContainer(stateRoot_, id_, SIGKILL, false));
  ASSERT_TRUE(waitForExit());
  // The engine's snapshot may still say running: the runtime's answer counts.
  auto r = st::runExec(access_, tools_, request({"true"}), stream_);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, pb::FAILED_PRECONDITION);
  EXPECT_EQ(r.error().message, "container " + id_ + " is not running");
  access_.views[id_].state = pb::STATE_EXITED;
  auto again = st::runExec(access_, tools_, request({"true"}), stream_);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, pb::FAILED_PRECONDITION);
}

TEST_F(ExecTest, StatsOfARunningContainer) {
  RecordingSink sink;
  agent::api::StreamWriter<pb::StatsBatch> out(sink, &pb::Response::mutable_stats);
  pb::StatsRequest req;
  req.add_ids(id_);
  auto r = st::streamStats(access_, req, out);
  ASSERT_TRUE(r) << r.error().str();
  ASSERT_EQ(sink.frames.size(), 1u);
  ASSERT_EQ(sink.frames[0].stats().containers_size(), 1);
  const auto& s = sink.frames[0].stats().containers(0);
  EXPECT_EQ(s.id(), id_);
  EXPECT_GT(s.memory_usage(), 0u);
  EXPECT_GE(s.pids(), 1u);
  EXPECT_GE(s.cpu_percent(), 0.0);
}

class LogsAttachTest : public StreamsTest {};

TEST_F(LogsAttachTest, FollowEndsWhenTheContainerExits) {
  ASSERT_NO_FATAL_FAILURE(writeBundle({"sh", "-c", "echo a; sleep 0.3; echo b >&2; sleep 0.3; echo c"}));
  ASSERT_NO_FATAL_FAILURE(launchOrFail());
  RecordingSink sink;
  agent::api::StreamWriter<pb::LogEntry> out(sink, &pb::Response::mutable_log);
  pb::LogsRequest req;
  req.set_id(id_);
  req.set_follow(true);
  auto r = st::streamLogs(access_, req, out);
  ASSERT_TRUE(r) << r.error().str();
  std::vector<std::string> lines;
  // An entry holds lines ended by '\n' (log_stream.h); these came one per read.
  for (const auto& f : sink.frames) lines.push_back(f.log().data());
  EXPECT_EQ(lines, (std::vector<std::string>{"a\n", "b\n", "c\n"}));
  ASSERT_EQ(sink.frames.size(), 3u);
  EXPECT_EQ(sink.frames[1].log().stream(), pb::OUTPUT_STDERR);
  EXPECT_GT(sink.frames[0].log().timestamp_ns(), 0);
}

TEST_F(LogsAttachTest, AttachWithStartLosesNoOutputAndReturnsTheExit) {
  ASSERT_NO_FATAL_FAILURE(writeBundle({"sh", "-c", "echo first; echo oops >&2; exit 5"}));
  pb::AttachStart req;
  req.set_id(id_);
  req.set_start(true);
  FakeBidi stream;
  auto r = st::runAttach(access_, req, stream);
  ASSERT_TRUE(r) << r.error().str();
  EXPECT_EQ(r->code(), 5);
  EXPECT_EQ(stream.output(pb::OUTPUT_STDOUT), "first\n");
  EXPECT_EQ(stream.output(pb::OUTPUT_STDERR), "oops\n");
}

TEST_F(LogsAttachTest, AttachStdinReachesTheInit) {
  ASSERT_NO_FATAL_FAILURE(writeBundle({"sh", "-c", "echo ready; read x; echo got-$x; exit 2"}, false, true));
  ASSERT_NO_FATAL_FAILURE(launchOrFail());
  ASSERT_TRUE(waitUntil([&] {
    auto log = sys::readFile(ctrDir_ + "/container.log");
    return log && log->find("ready") != std::string::npos;
  }));
  pb::AttachStart req;
  req.set_id(id_);
  req.set_stdin(true);
  FakeBidi stream;
  std::thread typist([&] {
    std::this_thread::sleep_for(300ms);
    stream.pushStdin("ping\n");
  });
  auto r = st::runAttach(access_, req, stream);
  typist.join();
  ASSERT_TRUE(r) << r.error().str();
  EXPECT_EQ(r->code(), 2);
  // Attached after "ready": only what came later.
  EXPECT_EQ(stream.output(), "got-ping\n");
}

TEST_F(LogsAttachTest, DetachLeavesTheContainerRunning) {
  ASSERT_NO_FATAL_FAILURE(writeBundle({"sleep", "1000"}));
  ASSERT_NO_FATAL_FAILURE(launchOrFail());
  pb::AttachStart req;
  req.set_id(id_);
  FakeBidi stream;
  std::thread detacher([&] {
    std::this_thread::sleep_for(200ms);
    stream.cancel();
  });
  auto r = st::runAttach(access_, req, stream);
  detacher.join();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, pb::CANCELLED);
  EXPECT_TRUE(processAlive(shimPid_));
  EXPECT_TRUE(processAlive(access_.views[id_].initPid));
}

}  // namespace
}  // namespace berth::tests::streams
