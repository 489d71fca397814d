// berth-shim as berthd uses it: launched, detached, logging, reaping,
// recording the exit, surviving its launcher, serving attach.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <thread>

#include "agent/shim/attach_client.h"
#include "agent/shim/exit_status.h"
#include "agent/shim/shim.h"
#include "harness.h"
#include "runtime/container/lifecycle.h"
#include "runtime/sys/fs.h"

namespace berth::tests::shim {
namespace {

using agent::logs::Stream;
using agent::shim::FrameType;
namespace rc = berth::runtime::container;

TEST_F(ShimTest, ReportsPidsLogsBothStreamsInOrderAndRecordsExitCode) {
  writeBundle({"sh", "-c", "echo out1; sleep 0.2; echo err1 >&2; sleep 0.2; echo out2; sleep 0.2; "
                           "echo err2 >&2; exit 3"});
  auto r = launch();
  ASSERT_TRUE(r) << r.error().str();
  EXPECT_GT(r->initPid, 0);
  EXPECT_GT(r->shimPid, 0);
  EXPECT_NE(r->shimPid, ::getpid());
  auto pidText = sys::readFile(ctrDir_ + "/shim.pid");
  ASSERT_TRUE(pidText);
  EXPECT_EQ(std::stoi(*pidText), r->shimPid);

  ASSERT_TRUE(waitForExitFile());
  auto status = agent::shim::readExitFile(ctrDir_);
  ASSERT_TRUE(status) << status.error().str();
  EXPECT_EQ(status->exitCode, 3);
  EXPECT_EQ(status->signal, 0);
  EXPECT_LE(std::abs(status->finishedAtNs - agent::shim::realtimeNowNs()), 60'000'000'000);

  // exit.json is written after the log is complete.
  auto lines = logLines();
  ASSERT_EQ(lines.size(), 4u);
  const std::pair<Stream, const char*> want[] = {
      {Stream::kStdout, "out1"}, {Stream::kStderr, "err1"}, {Stream::kStdout, "out2"}, {Stream::kStderr, "err2"}};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(lines[i].stream, want[i].first) << i;
    EXPECT_EQ(lines[i].text, want[i].second) << i;
    if (i > 0) {
      EXPECT_GE(lines[i].timeNs, lines[i - 1].timeNs);
    }
  }
  // The shim leaves once the exit is recorded, and takes its files along.
  EXPECT_TRUE(waitUntil([&] { return !processAlive(r->shimPid); }));
  EXPECT_FALSE(sys::pathExists(ctrDir_ + "/shim.pid"));
  EXPECT_FALSE(sys::pathExists(ctrDir_ + "/attach.sock"));
  // It does not delete the container: berthd decides.
  auto info = rc::inspectContainer(stateRoot_, id_);
  ASSERT_TRUE(info) << info.error().str();
  EXPECT_EQ(info->status, rc::Status::kStopped);
}

TEST_F(ShimTest, RecordsTheSignalThatKilledTheInit) {
  writeBundle({"sleep", "100"});
  auto r = launch();
  ASSERT_TRUE(r) << r.error().str();
  ASSERT_TRUE(rc::killContainer(stateRoot_, id_, SIGKILL, false));
  ASSERT_TRUE(waitForExitFile());
  auto status = agent::shim::readExitFile(ctrDir_);
  ASSERT_TRUE(status) << status.error().str();
  EXPECT_EQ(status->signal, 9);
  EXPECT_EQ(status->exitCode, 137);
}

TEST_F(ShimTest, ACreateErrorComesBackStructuredAndLeavesNothing) {
  writeBundle({"/no/such/binary"});
  auto r = launch();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().what().find("/no/such/binary"), std::string::npos) << r.error().str();
  EXPECT_EQ(r.error().code(), ENOENT) << r.error().str();
  EXPECT_FALSE(sys::pathExists(ctrDir_ + "/shim.pid"));
  EXPECT_FALSE(sys::pathExists(ctrDir_ + "/attach.sock"));
  EXPECT_FALSE(sys::pathExists(ctrDir_ + "/exit.json"));
}

// The launcher (berthd) is SIGKILLed with its whole process group: the
// container runs on and its output keeps reaching the log.
TEST_F(ShimTest, SurvivesTheDeathOfItsLauncher) {
  writeBundle({"sh", "-c", "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.05; done"});
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t launcher = ::fork();
  ASSERT_GE(launcher, 0);
  if (launcher == 0) {
    ::setpgid(0, 0);
    ::close(fds[0]);
    auto r = launch();
    std::string line = r ? agent::shim::encodeStartedReport(*r) : agent::shim::encodeErrorReport(r.error());
    agent::shim::sendReport(fds[1], line);
    ::close(fds[1]);
    ::pause();
    ::_exit(0);
  }
  ::close(fds[1]);
  char buf[512] = {};
  ssize_t n = ::read(fds[0], buf, sizeof(buf) - 1);
  ::close(fds[0]);
  auto report = agent::shim::parseLaunchReport(std::string(buf, n > 0 ? static_cast<size_t>(n) : 0));
  ASSERT_TRUE(report) << report.error().str();
  shimPid_ = report->shimPid;
  EXPECT_NE(::getpgid(shimPid_), launcher);
  EXPECT_NE(::getsid(shimPid_), ::getsid(launcher));

  ASSERT_EQ(::kill(-launcher, SIGKILL), 0);
  ASSERT_EQ(::waitpid(launcher, nullptr, 0), launcher);
  size_t before = logLines().size();
  std::this_thread::sleep_for(600ms);
  EXPECT_TRUE(processAlive(shimPid_));
  EXPECT_TRUE(processAlive(report->initPid));
  size_t after = logLines().size();
  EXPECT_GT(after, before + 3) << "the log stopped growing after the launcher died";

  // No line lost: the ticks are consecutive from 0.
  auto lines = logLines();
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(lines[i].text, "tick " + std::to_string(i));
    if (lines[i].text != "tick " + std::to_string(i)) break;
  }
  long rss = statusKib(shimPid_, "VmRSS"), hwm = statusKib(shimPid_, "VmHWM");
  std::printf("berth-shim (%s) while its container runs: VmRSS %ld KiB, VmHWM %ld KiB\n",
              launchOptions().binary.empty() ? "forked test binary" : "binary", rss, hwm);
  RecordProperty("shim_vmrss_kib", static_cast<int>(rss));
  RecordProperty("shim_vmhwm_kib", static_cast<int>(hwm));
}

TEST_F(ShimTest, AttachReceivesOutputAndSendsStdin) {
  writeBundle({"sh", "-c", "echo ready; cat; echo bye >&2"});
  auto r = launch(/*tty=*/false, /*openStdin=*/true);
  ASSERT_TRUE(r) << r.error().str();
  auto sock = agent::shim::connectAttach(ctrDir_);
  ASSERT_TRUE(sock) << sock.error().str();
  ASSERT_TRUE(agent::shim::sendFrame(sock->get(), FrameType::kStdin, "hello "));
  ASSERT_TRUE(agent::shim::sendFrame(sock->get(), FrameType::kStdin, "shim\n"));
  ASSERT_TRUE(agent::shim::sendFrame(sock->get(), FrameType::kCloseStdin, ""));
  std::string out, err, exitJson;
  while (true) {
    auto f = agent::shim::readFrame(sock->get());
    ASSERT_TRUE(f) << f.error().str() << " (stdout so far: " << out << ")";
    if (f->type == FrameType::kStdout) out += f->payload;
    if (f->type == FrameType::kStderr) err += f->payload;
    if (f->type == FrameType::kExit) {
      exitJson = f->payload;
      break;
    }
  }
  // "ready" may have been printed before we connected: history is the log's job.
  EXPECT_NE(out.find("hello shim\n"), std::string::npos) << out;
  EXPECT_EQ(err, "bye\n");
  auto status = agent::shim::parseExitJson(exitJson);
  ASSERT_TRUE(status) << exitJson;
  EXPECT_EQ(status->exitCode, 0);
  auto end = agent::shim::readFrame(sock->get());
  EXPECT_FALSE(end);
  auto lines = logLines();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].text, "ready");
  EXPECT_EQ(lines[1].text, "hello shim");
  EXPECT_EQ(lines[2].text, "bye");
}

TEST_F(ShimTest, TtyContainerResizesAndTakesInput) {
  writeBundle({"sh"}, /*terminal=*/true);
  auto r = launch(/*tty=*/true, /*openStdin=*/true);
  ASSERT_TRUE(r) << r.error().str();
  auto sock = agent::shim::connectAttach(ctrDir_);
  ASSERT_TRUE(sock) << sock.error().str();
  ASSERT_TRUE(agent::shim::sendResize(sock->get(), {40, 100}));
  ASSERT_TRUE(agent::shim::sendFrame(sock->get(), FrameType::kStdin, "stty size; tty; exit 5\n"));
  std::string out;
  std::string exitJson;
  while (exitJson.empty()) {
    auto f = agent::shim::readFrame(sock->get());
    ASSERT_TRUE(f) << f.error().str() << " (output so far: " << out << ")";
    EXPECT_NE(f->type, FrameType::kStderr);  // a terminal has one stream
    if (f->type == FrameType::kStdout) out += f->payload;
    if (f->type == FrameType::kExit) exitJson = f->payload;
  }
  EXPECT_NE(out.find("40 100\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("/dev/pts/0"), std::string::npos) << out;
  auto status = agent::shim::parseExitJson(exitJson);
  ASSERT_TRUE(status) << exitJson;
  EXPECT_EQ(status->exitCode, 5);
  bool logged = false;
  for (const auto& l : logLines()) logged |= l.text.find("40 100") != std::string::npos;
  EXPECT_TRUE(logged);
}

TEST_F(ShimTest, ReapsOrphansAndDrainsOutputAfterTheInitExits) {
  // The init exits while a background child still writes: the child dies
  // with the pid namespace, and everything written before is in the log.
  writeBundle({"sh", "-c", "(sleep 0.1; echo from-child) & sleep 0.3; echo last; exit 0"});
  auto r = launch();
  ASSERT_TRUE(r) << r.error().str();
  ASSERT_TRUE(waitForExitFile());
  auto lines = logLines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].text, "from-child");
  EXPECT_EQ(lines[1].text, "last");
}

}  // namespace
}  // namespace berth::tests::shim
