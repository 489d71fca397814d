// Test harness for the black-box tests of the OCI runtime command line.
//
// The suite drives any runc-compatible binary (BERTH_TEST_RUNTIME, default
// the berth-runtime of this build tree) exactly as podman or containerd
// would: through its command line, a bundle directory and --root. Nothing
// here links the runtime library, so the same tests validate runc and berth.
//
// Isolation: every test gets its own temp directory (bundle, --root, a
// control directory shared with the container), container ids made of the
// test name and pid, and its own cgroupsPath /berth-test/<id>. The busybox
// rootfs is built once per build tree (hack/mkbundle, guarded by a lock file
// so parallel ctest runs do not race) and mounted read-only by every test.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace berth::tests::cli {

using Json = nlohmann::json;
using namespace std::chrono_literals;

// What a user of the command line observes: exit code and output.
struct ProcessResult {
  int exitCode = -1;  // the exit status, 128 + signal like a shell reports it, -1 on timeout
  bool timedOut = false;
  std::string out;
  std::string err;

  // "exit 1, stdout: ..., stderr: ..." for assertion messages.
  std::string describe() const;
};

struct SpawnOptions {
  std::string cwd;                          // empty: the test's cwd
  std::string input;                        // written to stdin, then closed
  std::chrono::milliseconds timeout = 15s;  // the process is SIGKILLed after it
};

// Runs argv (argv[0] is a path) with stdout/stderr captured and stdin from
// `input` (or /dev/null). Returns once the process has exited; what it left
// in the pipes is drained but the harness never waits for EOF, because a
// detached container inherits the pipes and keeps them open.
ProcessResult spawnAndWait(const std::vector<std::string>& argv, const SpawnOptions& opts = {});

// The runtime under test and whether it is runc (for documented deviations).
std::string runtimePath();
bool runtimeIsRunc();
// True when a test documented as failing on runc should be skipped: the
// runtime is runc and BERTH_TEST_NO_RUNC_SKIPS is unset (set it to see the
// deviation fail).
bool skipForRunc();

// The shared read-only busybox rootfs and the config.json mkbundle wrote for it.
struct BusyboxFixture {
  std::string rootfs;  // absolute
  Json config;
};
const BusyboxFixture& busyboxFixture();

// Polls `done` every 20ms until it returns true or `timeout` passes.
bool waitUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout = 5s);

std::string readFileOr(const std::string& path, const std::string& fallback = "");
void writeFileOrFail(const std::string& path, const std::string& data, mode_t mode = 0644);

// Host pids whose cgroup (any v1 hierarchy) is exactly `cgroupsPath`.
std::vector<pid_t> pidsInCgroup(const std::string& cgroupsPath);
// Host pids whose cwd is `dir` (a runtime process left behind in the bundle).
std::vector<pid_t> pidsWithCwd(const std::string& dir);
// Mount points (field 5) of a mountinfo text, one per line as they appear.
std::vector<std::string> mountPoints(const std::string& mountinfo);
// The v1 hierarchy directory of a cgroupsPath for one controller.
std::string cgroupDir(const std::string& controller, const std::string& cgroupsPath);
bool processAlive(pid_t pid);  // exists and is not a zombie

// Marks the test as skipped for runc only, with the reason: runc deviates
// from the runtime-spec there, while berth-runtime must pass.
#define BERTH_SKIP_FOR_RUNC(why)                                                        \
  do {                                                                                  \
    if (::berth::tests::cli::skipForRunc()) GTEST_SKIP() << "runc deviates: " << (why); \
  } while (0)

// One test = one temp dir, one (or a few) container ids, all torn down.
class RuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // The test's main container id, and further ids (also torn down).
  const std::string& id() const { return id_; }
  std::string newId(const std::string& suffix);
  static std::string cgroupsPathOf(const std::string& id) { return "/berth-test/" + id; }

  const std::string& bundle() const { return bundle_; }
  const std::string& stateRoot() const { return root_; }
  const std::string& tempDir() const { return temp_; }
  // A host directory (mode 0777) bind-mounted read-write at kCtlInside in
  // the container, for files both sides read and write.
  const std::string& ctlDir() const { return ctl_; }
  static constexpr const char* kCtlInside = "/tmp/ctl";

  // The bundle's config.json, edited by the test before the runtime runs.
  Json& config() { return config_; }
  void setArgs(const std::vector<std::string>& args);
  void setShell(const std::string& script) { setArgs({"sh", "-c", script}); }
  void addBindMount(const std::string& source, const std::string& destination,
                    bool readonly = false);
  void setCgroupsPathFor(const std::string& id);
  void writeConfig(const std::string& bundleDir = "");

  // `runtime --root <root> args...` with cwd = the bundle.
  ProcessResult runtime(const std::vector<std::string>& args, const SpawnOptions& opts = {});
  // Writes config.json and `run --bundle <bundle> <id>` (foreground).
  ProcessResult runContainer(const SpawnOptions& opts = {});
  // Writes config.json and `create --bundle <bundle> [extra...] <id>`; fails the test on error.
  void createContainer(const std::string& id, const std::vector<std::string>& extra = {});
  // create + start of a container whose process keeps running.
  void startContainer(const std::string& id);

  std::optional<Json> tryState(const std::string& id);
  Json state(const std::string& id);  // fails the test when `state` fails
  std::string status(const std::string& id);
  bool waitForStatus(const std::string& id, const std::string& status,
                     std::chrono::milliseconds timeout = 5s);

  // Asserts nothing of `id` remains: no state dir, no cgroup dir, no process.
  void expectNoTraces(const std::string& id);

 private:
  void forceDelete(const std::string& id);
  void reclaimCgroup(const std::string& cgroupsPath);

  std::string id_;
  std::string temp_;
  std::string root_;
  std::string bundle_;
  std::string ctl_;
  Json config_;
  std::vector<std::string> ids_;
  bool ready_ = false;
};

}  // namespace berth::tests::cli
