// Harness implementation: process spawning with captured output and a
// deadline, the shared busybox fixture, per-test bundles and teardown.
#include "tests/integration/cli/harness.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "runtime/sys/fd.h"
#include "runtime/sys/fs.h"
#include "runtime/sys/syscall.h"

namespace berth::tests::cli {
namespace {

using sys::UniqueFd;

// Every mounted hierarchy (v1 controllers, name=systemd, the unified v2 one).
std::vector<std::string> cgroupHierarchies() {
  std::vector<std::string> names;
  DIR* dir = ::opendir("/sys/fs/cgroup");
  if (dir == nullptr) return names;
  while (dirent* e = ::readdir(dir)) {
    if (e->d_name[0] != '.' && e->d_type == DT_DIR) names.emplace_back(e->d_name);
  }
  ::closedir(dir);
  return names;
}

std::string lowerAlnum(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c))) out += static_cast<char>(std::tolower(c));
  }
  return out;
}

// Runs in the forked child: wire stdio, drop every other inherited fd (so
// the runtime cannot be blamed for fds the test binary leaked), exec.
// Allocates nothing: the test may have other threads (one may hold the
// malloc lock at fork time).
[[noreturn]] void execChild(char* const* argv, const SpawnOptions& opts, int in, int out, int err) {
  ::dup2(in, 0);
  ::dup2(out, 1);
  ::dup2(err, 2);
  sys::closeRange(3, ~0U, 0);
  ::signal(SIGPIPE, SIG_DFL);
  if (!opts.cwd.empty() && ::chdir(opts.cwd.c_str()) != 0) ::_exit(126);
  ::execv(argv[0], argv);
  ::_exit(127);
}

void drainNonBlocking(int fd, std::string& into) {
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return;
    into.append(buf, static_cast<size_t>(n));
  }
}

int decodeStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

std::string makeTempDir(const std::string& name) {
  std::string pattern = "/tmp/berth-cli-" + name + "-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) return {};
  return pattern;
}

}  // namespace

std::string ProcessResult::describe() const {
  std::ostringstream s;
  s << (timedOut ? "TIMED OUT, " : "") << "exit " << exitCode << "\n--- stdout:\n"
    << out << "\n--- stderr:\n"
    << err;
  return s.str();
}

ProcessResult spawnAndWait(const std::vector<std::string>& argv, const SpawnOptions& opts) {
  ProcessResult result;
  int inPipe[2], outPipe[2], errPipe[2];
  if (::pipe2(inPipe, O_CLOEXEC) != 0 || ::pipe2(outPipe, O_CLOEXEC | O_NONBLOCK) != 0 ||
      ::pipe2(errPipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    result.err = std::string("pipe: ") + std::strerror(errno);
    return result;
  }
  UniqueFd inR(inPipe[0]), inW(inPipe[1]), outR(outPipe[0]), outW(outPipe[1]), errR(errPipe[0]),
      errW(errPipe[1]);
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) {
    result.err = std::string("fork: ") + std::strerror(errno);
    return result;
  }
  if (pid == 0) execChild(cargv.data(), opts, inR.get(), outW.get(), errW.get());
  inR.reset();
  outW.reset();
  errW.reset();
  // Small inputs fit the pipe buffer; the runtime (or container) reads them later.
  if (!opts.input.empty() && ::write(inW.get(), opts.input.data(), opts.input.size()) < 0) {
    result.err = "write stdin failed; ";
  }
  inW.reset();

  auto deadline = std::chrono::steady_clock::now() + opts.timeout;
  int status = 0;
  for (;;) {
    pid_t done = ::waitpid(pid, &status, WNOHANG);
    drainNonBlocking(outR.get(), result.out);
    drainNonBlocking(errR.get(), result.err);
    if (done == pid) break;
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      result.timedOut = true;
      break;
    }
    pollfd fds[2] = {{outR.get(), POLLIN, 0}, {errR.get(), POLLIN, 0}};
    ::poll(fds, 2, 10);
  }
  // A foreground container's last writes are in the pipe before the runtime exits.
  drainNonBlocking(outR.get(), result.out);
  drainNonBlocking(errR.get(), result.err);
  // A timeout must never pass for "killed by SIGKILL" (137).
  result.exitCode = result.timedOut ? -1 : decodeStatus(status);
  return result;
}

std::string runtimePath() {
  if (const char* env = std::getenv("BERTH_TEST_RUNTIME"); env != nullptr && *env != '\0') {
    return env;
  }
  return BERTH_BUILD_DIR "/runtime/berth-runtime";
}

bool runtimeIsRunc() {
  std::string path = runtimePath();
  auto slash = path.rfind('/');
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  return base == "runc";
}

bool skipForRunc() {
  return runtimeIsRunc() && std::getenv("BERTH_TEST_NO_RUNC_SKIPS") == nullptr;
}

const BusyboxFixture& busyboxFixture() {
  static std::once_flag once;
  static BusyboxFixture fixture;
  std::call_once(once, [] {
    std::string dir = BERTH_BUILD_DIR "/fixtures/busybox";
    if (!sys::mkdirAll(dir)) return;
    // Parallel test processes share the fixture: one builds it, the others
    // wait on the lock; reading config.json under the lock never sees it torn.
    UniqueFd lock(::open((dir + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    if (!lock || ::flock(lock.get(), LOCK_EX) != 0) return;
    if (!sys::pathExists(dir + "/rootfs/bin/busybox") || !sys::pathExists(dir + "/config.json")) {
      auto built =
          spawnAndWait({"/bin/sh", BERTH_SOURCE_DIR "/hack/mkbundle", dir}, {.timeout = 120s});
      if (built.exitCode != 0) {
        ADD_FAILURE() << "hack/mkbundle " << dir << " failed: " << built.describe();
        return;
      }
    }
    auto text = sys::readFile(dir + "/config.json");
    if (!text) return;
    fixture.config = Json::parse(*text, nullptr, false);
    fixture.rootfs = dir + "/rootfs";
  });
  return fixture;
}

bool waitUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
}

std::string readFileOr(const std::string& path, const std::string& fallback) {
  auto text = sys::readFile(path);
  return text ? *text : fallback;
}

void writeFileOrFail(const std::string& path, const std::string& data, mode_t mode) {
  std::ofstream f(path, std::ios::trunc);
  f << data;
  f.close();
  if (!f) ADD_FAILURE() << "write " << path;
  ::chmod(path.c_str(), mode);
}

template <class Fn>
static std::vector<pid_t> scanProcs(Fn matches) {
  std::vector<pid_t> pids;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return pids;
  while (dirent* e = ::readdir(proc)) {
    if (!std::isdigit(static_cast<unsigned char>(e->d_name[0]))) continue;
    pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
    if (matches(pid)) pids.push_back(pid);
  }
  ::closedir(proc);
  return pids;
}

std::vector<pid_t> pidsInCgroup(const std::string& cgroupsPath) {
  return scanProcs([&](pid_t pid) {
    std::istringstream lines(readFileOr("/proc/" + std::to_string(pid) + "/cgroup"));
    for (std::string line; std::getline(lines, line);) {
      auto colon = line.rfind(':');
      if (colon != std::string::npos && line.substr(colon + 1) == cgroupsPath) return true;
    }
    return false;
  });
}

std::vector<pid_t> pidsWithCwd(const std::string& dir) {
  return scanProcs([&](pid_t pid) {
    char buf[4096];
    std::string link = "/proc/" + std::to_string(pid) + "/cwd";
    ssize_t n = ::readlink(link.c_str(), buf, sizeof buf - 1);
    return n > 0 && std::string(buf, static_cast<size_t>(n)) == dir;
  });
}

std::vector<std::string> mountPoints(const std::string& mountinfo) {
  std::vector<std::string> points;
  std::istringstream lines(mountinfo);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, point;
    if (fields >> id >> parent >> dev >> root >> point) points.push_back(point);
  }
  return points;
}

std::string cgroupDir(const std::string& controller, const std::string& cgroupsPath) {
  return "/sys/fs/cgroup/" + controller + cgroupsPath;
}

bool processAlive(pid_t pid) {
  std::string stat = readFileOr("/proc/" + std::to_string(pid) + "/stat");
  if (stat.empty()) return false;
  auto close = stat.rfind(')');
  return close == std::string::npos || close + 2 >= stat.size() || stat[close + 2] != 'Z';
}

// ---------------------------------------------------------------- RuntimeTest

void RuntimeTest::SetUp() {
  if (::geteuid() != 0)
    GTEST_SKIP() << "the runtime CLI tests need root (namespaces, cgroups, mounts)";
  std::string runtime = runtimePath();
  if (::access(runtime.c_str(), X_OK) != 0) {
    if (std::getenv("BERTH_TEST_RUNTIME") != nullptr) {
      FAIL() << "BERTH_TEST_RUNTIME=" << runtime << " is not executable";
    }
    GTEST_SKIP() << runtime << " is not built; build berth-runtime or set BERTH_TEST_RUNTIME";
  }
  ::signal(SIGPIPE, SIG_IGN);
  const auto& fixture = busyboxFixture();
  ASSERT_FALSE(fixture.rootfs.empty()) << "the busybox fixture could not be built";

  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = lowerAlnum(info->name());
  id_ = name.substr(0, 40) + "-" + std::to_string(::getpid());
  temp_ = makeTempDir(name.substr(0, 40));
  ASSERT_FALSE(temp_.empty()) << "mkdtemp: " << std::strerror(errno);
  root_ = temp_ + "/root";
  bundle_ = temp_ + "/bundle";
  ctl_ = temp_ + "/ctl";
  ASSERT_TRUE(sys::mkdirAll(root_, 0700));
  ASSERT_TRUE(sys::mkdirAll(bundle_));
  ASSERT_TRUE(sys::mkdirAll(ctl_));
  ::chmod(ctl_.c_str(), 0777);
  ::chmod(temp_.c_str(), 0755);

  config_ = fixture.config;
  config_["root"] = {{"path", fixture.rootfs}, {"readonly", true}};
  // Never the host's network namespace: the container gets its own.
  config_["linux"]["namespaces"].push_back({{"type", "network"}});
  setCgroupsPathFor(id_);
  addBindMount(ctl_, kCtlInside);
  ids_.push_back(id_);
  ready_ = true;
}

void RuntimeTest::TearDown() {
  if (!ready_) return;
  for (const auto& id : ids_) {
    forceDelete(id);
    expectNoTraces(id);
    reclaimCgroup(cgroupsPathOf(id));
  }
  if (auto removed = sys::removeAll(temp_); !removed) {
    ADD_FAILURE() << "remove " << temp_ << ": " << removed.error().str();
  }
}

// After a runtime failed to clean up (the test has already failed for it),
// the test still leaves the host clean: its cgroupsPath is unique to it, so
// whatever runs there is its own.
void RuntimeTest::reclaimCgroup(const std::string& cgroupsPath) {
  for (const auto& h : cgroupHierarchies()) {
    std::string dir = cgroupDir(h, cgroupsPath);
    if (!sys::pathExists(dir)) continue;
    if (h == "freezer") (void)sys::writeFile(dir + "/freezer.state", "THAWED");
    waitUntil(
        [&] {
          std::istringstream procs(readFileOr(dir + "/cgroup.procs"));
          for (pid_t pid; procs >> pid;) ::kill(pid, SIGKILL);
          return ::rmdir(dir.c_str()) == 0 || errno == ENOENT;
        },
        3s);
  }
}

void RuntimeTest::forceDelete(const std::string& id) {
  if (!sys::pathExists(root_ + "/" + id)) return;
  auto r = runtime({"delete", "--force", id});
  if (r.exitCode != 0) ADD_FAILURE() << "delete --force " << id << ": " << r.describe();
}

void RuntimeTest::expectNoTraces(const std::string& id) {
  EXPECT_FALSE(sys::pathExists(root_ + "/" + id)) << "state dir of " << id << " left under --root";
  std::string cgroups = cgroupsPathOf(id);
  // The runtime reaps asynchronously to our check; give the kernel a moment.
  bool gone = waitUntil(
      [&] {
        for (const auto& h : cgroupHierarchies()) {
          if (sys::pathExists(cgroupDir(h, cgroups))) return false;
        }
        return pidsInCgroup(cgroups).empty();
      },
      3s);
  EXPECT_TRUE(gone) << "cgroup dirs or processes of " << cgroups << " left behind";
  EXPECT_TRUE(waitUntil([&] { return pidsWithCwd(bundle_).empty(); }, 3s))
      << "a process is still running in the bundle dir " << bundle_;
}

std::string RuntimeTest::newId(const std::string& suffix) {
  std::string id = id_ + "-" + suffix;
  ids_.push_back(id);
  return id;
}

void RuntimeTest::setArgs(const std::vector<std::string>& args) {
  config_["process"]["args"] = args;
}

void RuntimeTest::addBindMount(const std::string& source, const std::string& destination,
                               bool readonly) {
  Json options = {"rbind", readonly ? "ro" : "rw"};
  config_["mounts"].push_back(
      {{"destination", destination}, {"type", "bind"}, {"source", source}, {"options", options}});
}

void RuntimeTest::setCgroupsPathFor(const std::string& id) {
  config_["linux"]["cgroupsPath"] = cgroupsPathOf(id);
}

void RuntimeTest::writeConfig(const std::string& bundleDir) {
  std::string dir = bundleDir.empty() ? bundle_ : bundleDir;
  writeFileOrFail(dir + "/config.json", config_.dump(2));
}

ProcessResult RuntimeTest::runtime(const std::vector<std::string>& args, const SpawnOptions& opts) {
  std::vector<std::string> argv = {runtimePath(), "--root", root_};
  argv.insert(argv.end(), args.begin(), args.end());
  SpawnOptions o = opts;
  if (o.cwd.empty()) o.cwd = bundle_;
  return spawnAndWait(argv, o);
}

ProcessResult RuntimeTest::runContainer(const SpawnOptions& opts) {
  writeConfig();
  return runtime({"run", "--bundle", bundle_, id_}, opts);
}

void RuntimeTest::createContainer(const std::string& id, const std::vector<std::string>& extra) {
  setCgroupsPathFor(id);
  writeConfig();
  std::vector<std::string> args = {"create", "--bundle", bundle_};
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back(id);
  auto r = runtime(args);
  ASSERT_EQ(r.exitCode, 0) << "create " << id << ": " << r.describe();
}

void RuntimeTest::startContainer(const std::string& id) {
  ASSERT_NO_FATAL_FAILURE(createContainer(id));
  auto r = runtime({"start", id});
  ASSERT_EQ(r.exitCode, 0) << "start " << id << ": " << r.describe();
  ASSERT_TRUE(waitForStatus(id, "running", 2s)) << "status " << status(id);
}

std::optional<Json> RuntimeTest::tryState(const std::string& id) {
  auto r = runtime({"state", id});
  if (r.exitCode != 0) return std::nullopt;
  Json parsed = Json::parse(r.out, nullptr, false);
  if (parsed.is_discarded()) return std::nullopt;
  return parsed;
}

Json RuntimeTest::state(const std::string& id) {
  auto r = runtime({"state", id});
  EXPECT_EQ(r.exitCode, 0) << "state " << id << ": " << r.describe();
  Json parsed = Json::parse(r.out, nullptr, false);
  EXPECT_FALSE(parsed.is_discarded()) << "state output is not JSON: " << r.out;
  return parsed.is_discarded() ? Json::object() : parsed;
}

std::string RuntimeTest::status(const std::string& id) {
  auto s = tryState(id);
  if (!s || !s->contains("status")) return "<no state>";
  return (*s)["status"].get<std::string>();
}

bool RuntimeTest::waitForStatus(const std::string& id, const std::string& want,
                                std::chrono::milliseconds timeout) {
  return waitUntil([&] { return status(id) == want; }, timeout);
}

}  // namespace berth::tests::cli
