// The stream calls' integration harness; see harness.h.
#include "tests/integration/agent_streams/harness.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "agent/shim/exit_status.h"
#include "agent/shim/shim.h"
#include "runtime/container/lifecycle.h"
#include "runtime/sys/fs.h"
#include "runtime/sys/syscall.h"
#include "tests/support/shared_bundle.h"

namespace berth::tests::streams {
namespace {

// Before any test (single-threaded, as unshare requires): everything after
// happens in our own mount and network namespaces.
class PrivateNamespaces : public ::testing::Environment {
 public:
  void SetUp() override {
    if (::geteuid() != 0) return;
    ASSERT_EQ(::unshare(CLONE_NEWNS | CLONE_NEWNET), 0) << "unshare mount+network namespaces";
    ASSERT_EQ(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr), 0);
  }
};
[[maybe_unused]] auto* const kEnv = ::testing::AddGlobalTestEnvironment(new PrivateNamespaces);



std::string shimBinary() {
  if (const char* env = std::getenv("BERTH_SHIM")) return env;
  return std::string(BERTH_BUILD_DIR) + "/agent/berth-shim";
}

}  // namespace



sys::UniqueFd RealAccess::shimPidfd(const std::string& id) {
  auto it = views.find(id);
  if (it == views.end() || it->second.shimPid <= 0) return {};
  return sys::UniqueFd(sys::pidfdOpen(it->second.shimPid));
}

CallResult<pb::ExitStatus> RealAccess::lastExit(const std::string& id) {
  auto it = views.find(id);
  if (it == views.end()) return CallError(pb::NOT_FOUND, "no such container: " + id);
  auto status = agent::shim::readExitFile(it->second.dir);
  if (!status) return CallError(pb::FAILED_PRECONDITION, status.error().str());
  pb::ExitStatus out;
  out.set_code(status->exitCode);
  out.set_signal(status->signal);
  return out;
}

void StreamsTest::SetUp() {
  if (::geteuid() != 0) GTEST_SKIP() << "the stream integration tests need root";
  id_ = "streams-" + testNameSlug(40) + "-" + std::to_string(::getpid());
  dir_ = "/tmp/berth-" + id_;
  bundle_ = dir_ + "/bundle";
  stateRoot_ = dir_ + "/state";
  ctrDir_ = dir_ + "/ctr";
  ASSERT_TRUE(sys::mkdirAll(bundle_));
  ASSERT_TRUE(sys::mkdirAll(ctrDir_));
  if (::access(runtimeBinary().c_str(), X_OK) != 0 || ::access(shimBinary().c_str(), X_OK) != 0) {
    GTEST_SKIP() << "build berth-runtime and berth-shim first";
  }
  access_.launcher = [this](const std::string&) { return launch(); };
}

std::string StreamsTest::runtimeBinary() const {
  if (const char* env = std::getenv("BERTH_RUNTIME")) return env;
  return std::string(BERTH_BUILD_DIR) + "/runtime/berth-runtime";
}

void StreamsTest::writeBundle(const std::vector<std::string>& args, bool tty, bool openStdin) {
  std::string shared = sharedBusyboxBundle("streams-test-bundle");
  auto text = sys::readFile(shared + "/config.json");
  ASSERT_TRUE(text) << text.error().str();
  auto config = nlohmann::json::parse(*text);
  config["process"]["args"] = args;
  config["process"]["terminal"] = tty;
  config["root"] = {{"path", shared + "/rootfs"}, {"readonly", true}};
  config["linux"]["cgroupsPath"] = "/berth-test/" + id_;
  ASSERT_TRUE(sys::writeFileAtomic(bundle_ + "/config.json", config.dump()));
  tty_ = tty;
  openStdin_ = openStdin;
  rootfs_ = shared + "/rootfs";
  ContainerView v;
  v.id = id_;
  v.name = "n-" + id_;
  v.runtimeId = id_;
  v.stateRoot = stateRoot_;
  v.dir = ctrDir_;
  v.bundle = bundle_;
  v.rootfs = rootfs_;
  v.cgroupsPath = "/berth-test/" + id_;
  v.state = pb::STATE_CREATED;
  v.tty = tty;
  v.stdinOpen = openStdin;
  v.env = config["process"]["env"].get<std::vector<std::string>>();
  v.user = "0:0";
  v.workdir = "/";
  access_.views[id_] = v;
}

CallResult<ContainerView> StreamsTest::launch() {
  agent::shim::ShimOptions o;
  o.id = id_;
  o.bundle = bundle_;
  o.stateRoot = stateRoot_;
  o.dir = ctrDir_;
  o.tty = tty_;
  o.openStdin = openStdin_;
  agent::shim::LaunchOptions l;
  l.binary = shimBinary();
  auto r = agent::shim::launchShim(l, o);
  if (!r) return r.error();
  shimPid_ = r->shimPid;
  auto& v = access_.views[id_];
  v.state = pb::STATE_RUNNING;
  v.initPid = r->initPid;
  v.shimPid = r->shimPid;
  v.startedNs = agent::shim::realtimeNowNs();
  return v;
}

void StreamsTest::launchOrFail() {
  auto r = launch();
  ASSERT_TRUE(r) << r.error().str();
}

bool StreamsTest::waitForExit(std::chrono::milliseconds timeout) const {
  return waitUntil([&] { return shimPid_ > 0 && !processAlive(shimPid_); }, timeout);
}

void StreamsTest::TearDown() {
  if (::geteuid() != 0 || dir_.empty()) return;
  (void)runtime::container::deleteContainer(stateRoot_, id_, /*force=*/true, nullptr);
  if (shimPid_ > 0 && !waitUntil([&] { return !processAlive(shimPid_); }, 10s)) {
    ::kill(shimPid_, SIGKILL);
    ADD_FAILURE() << "the shim did not exit after its container was deleted";
  }
  EXPECT_FALSE(sys::pathExists(stateRoot_ + "/" + id_)) << "runtime state left";
  for (const char* controller : {"memory", "pids", "cpu", "devices"}) {
    std::string cg = std::string("/sys/fs/cgroup/") + controller + "/berth-test/" + id_;
    EXPECT_FALSE(sys::pathExists(cg)) << cg << " left";
  }
  EXPECT_TRUE(sys::removeAll(dir_));
}

}  // namespace berth::tests::streams
