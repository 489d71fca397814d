// The berth-shim test harness; see harness.h.
#include <map>

#include "harness.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "agent/logs/reader.h"
#include "agent/shim/exit_status.h"
#include "agent/shim/shim.h"
#include "runtime/container/lifecycle.h"
#include "runtime/sys/fs.h"
#include "tests/support/shared_bundle.h"

namespace berth::tests::shim {
namespace {



}  // namespace

bool isRoot() { return ::geteuid() == 0; }



long statusKib(pid_t pid, const char* field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  std::string prefix = std::string(field) + ":";
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) return std::strtol(line.c_str() + prefix.size(), nullptr, 10);
  }
  return -1;
}

std::vector<pid_t> pidsWithCwd(const std::string& dir) {
  std::vector<pid_t> pids;
  DIR* d = ::opendir("/proc");
  if (!d) return pids;
  while (auto* e = ::readdir(d)) {
    pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
    if (pid <= 0) continue;
    char target[PATH_MAX];
    ssize_t n = ::readlink(("/proc/" + std::string(e->d_name) + "/cwd").c_str(), target, sizeof(target) - 1);
    if (n > 0 && std::string(target, static_cast<size_t>(n)) == dir) pids.push_back(pid);
  }
  ::closedir(d);
  return pids;
}

void ShimTest::SetUp() {
  if (!isRoot()) GTEST_SKIP() << "berth-shim integration tests need root";
  id_ = "shim-" + testNameSlug() + "-" + std::to_string(::getpid());
  dir_ = "/tmp/berth-" + id_;
  bundle_ = dir_ + "/bundle";
  stateRoot_ = dir_ + "/state";
  ctrDir_ = dir_ + "/ctr";
  ASSERT_TRUE(sys::mkdirAll(bundle_));
}

void ShimTest::writeBundle(const std::vector<std::string>& args, bool terminal) {
  std::string shared = sharedBusyboxBundle("shim-test-bundle");
  auto text = sys::readFile(shared + "/config.json");
  ASSERT_TRUE(text) << text.error().str();
  auto config = nlohmann::json::parse(*text);
  config["process"]["args"] = args;
  config["process"]["terminal"] = terminal;
  config["root"] = {{"path", shared + "/rootfs"}, {"readonly", true}};
  config["linux"]["cgroupsPath"] = "/berth-test/" + id_;
  ASSERT_TRUE(sys::writeFileAtomic(bundle_ + "/config.json", config.dump()));
}

agent::shim::ShimOptions ShimTest::shimOptions() const {
  agent::shim::ShimOptions o;
  o.id = id_;
  o.bundle = bundle_;
  o.stateRoot = stateRoot_;
  o.dir = ctrDir_;
  return o;
}

agent::shim::LaunchOptions ShimTest::launchOptions() const {
  agent::shim::LaunchOptions l;
  std::vector<std::string> candidates;
  // BERTH_SHIM_INPROCESS=1 tests the library's entry function even when a
  // binary exists.
  if (const char* inProcess = std::getenv("BERTH_SHIM_INPROCESS"); inProcess && *inProcess == '1') {
    l.entry = agent::shim::shimMain;
    return l;
  }
  if (const char* env = std::getenv("BERTH_SHIM")) candidates.push_back(env);
  candidates.push_back(std::string(BERTH_BUILD_DIR) + "/agent/berth-shim");
  candidates.push_back(std::string(BERTH_BUILD_DIR) + "/berth-shim");
  for (const auto& c : candidates) {
    if (::access(c.c_str(), X_OK) == 0) {
      l.binary = c;
      return l;
    }
  }
  l.entry = agent::shim::shimMain;
  return l;
}

sys::Result<agent::shim::LaunchReport> ShimTest::launch(bool tty, bool openStdin) {
  auto o = shimOptions();
  o.tty = tty;
  o.openStdin = openStdin;
  auto r = agent::shim::launchShim(launchOptions(), o);
  if (r) shimPid_ = r->shimPid;
  return r;
}

std::vector<LoggedLine> ShimTest::logLines() const {
  // A line the container wrote in pieces arrives as partial records: join
  // them per stream, as `berth logs` does, so tests see whole lines.
  std::vector<LoggedLine> lines;
  std::map<int, size_t> open;  // stream -> index of its unfinished line
  auto r = agent::logs::readLogs(ctrDir_, agent::shim::kLogBaseName, {}, [&](const agent::logs::LogLine& l) {
    int key = static_cast<int>(l.stream);
    if (auto it = open.find(key); it != open.end()) {
      lines[it->second].text += std::string(l.bytes);
      if (!l.partial) open.erase(it);
      return true;
    }
    lines.push_back({l.stream, std::string(l.bytes), l.timeNs});
    if (l.partial) open[key] = lines.size() - 1;
    return true;
  });
  EXPECT_TRUE(r) << r.error().str();
  return lines;
}

bool ShimTest::waitForExitFile(std::chrono::milliseconds timeout) const {
  return waitUntil([&] { return sys::pathExists(ctrDir_ + "/" + agent::shim::kExitFileName); }, timeout);
}

void ShimTest::TearDown() {
  if (!isRoot() || dir_.empty()) return;
  // Deleting with force kills the container; the shim then records the
  // exit and leaves on its own.
  (void)runtime::container::deleteContainer(stateRoot_, id_, /*force=*/true, nullptr);
  if (shimPid_ > 0 && !waitUntil([&] { return !processAlive(shimPid_); }, 10s)) {
    ::kill(shimPid_, SIGKILL);
    ADD_FAILURE() << "the shim did not exit after its container was deleted";
  }
  EXPECT_TRUE(waitUntil([&] { return pidsWithCwd(ctrDir_).empty(); }, 5s)) << "a shim process is left";
  EXPECT_FALSE(sys::pathExists(stateRoot_ + "/" + id_)) << "runtime state left";
  for (const char* controller : {"memory", "pids", "cpu", "devices"}) {
    std::string cg = std::string("/sys/fs/cgroup/") + controller + "/berth-test/" + id_;
    EXPECT_FALSE(sys::pathExists(cg)) << cg << " left";
  }
  EXPECT_TRUE(sys::removeAll(dir_));
}

}  // namespace berth::tests::shim
