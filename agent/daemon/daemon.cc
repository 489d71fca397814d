// berthd's life cycle; see daemon.h.
#include "agent/daemon/daemon.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "agent/api/socket.h"
#include "agent/daemon/daemon_handler.h"
#include "agent/daemon/log.h"
#include "agent/daemon/options.h"
#include "agent/daemon/sd_notify.h"
#include "agent/daemon/server.h"

namespace berth::agent::daemon {
namespace {

// berth-shim and berth-runtime are installed beside berthd (make install,
// or the build tree), so one berthd always drives its own release's helpers.
std::string besideSelf(const std::string& name) {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return name;
  std::string sibling = (self.parent_path() / name).string();
  if (::access(sibling.c_str(), X_OK) == 0) return sibling;
  // The build tree keeps each binary in its own folder.
  for (const char* dir : {"../shim", "../../runtime", "../runtime"}) {
    std::string candidate = (self.parent_path() / dir / name).lexically_normal().string();
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return sibling;
}

sys::Result<void> makeDir(const std::string& path, mode_t mode) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return sys::Error(ec.value(), "create " + path);
  if (::chmod(path.c_str(), mode) < 0) return sys::Error::fromErrno("chmod " + path);
  return {};
}

// flock on <root>/berthd.lock, held for the daemon's life: two daemons on one
// data root would fight over every container.
sys::Result<sys::UniqueFd> lockDataRoot(const std::string& root) {
  std::string path = root + "/berthd.lock";
  sys::UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd) return sys::Error::fromErrno("open " + path);
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) < 0) {
    if (errno == EWOULDBLOCK) {
      return sys::Error(EBUSY, "another berthd already uses the data root " + root);
    }
    return sys::Error::fromErrno("lock " + path);
  }
  return fd;
}

// SIGTERM and SIGINT end the daemon through a signalfd the accept loop polls;
// SIGPIPE is ignored (a client that hangs up mid-reply is an EPIPE, not a death).
sys::Result<sys::UniqueFd> blockStopSignals() {
  ::signal(SIGPIPE, SIG_IGN);
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  if (::pthread_sigmask(SIG_BLOCK, &mask, nullptr) != 0) {
    return sys::Error::fromErrno("block SIGTERM/SIGINT");
  }
  sys::UniqueFd fd(::signalfd(-1, &mask, SFD_CLOEXEC));
  if (!fd) return sys::Error::fromErrno("signalfd");
  return fd;
}

engine::DaemonPaths pathsFrom(const DaemonOptions& o) {
  engine::DaemonPaths paths;
  paths.dataRoot = o.dataRoot;
  paths.runRoot = o.runRoot;
  paths.cgroupParent = o.cgroupParent;
  paths.shimBinary = besideSelf("berth-shim");
  paths.runtimeBinary = besideSelf("berth-runtime");
  return paths;
}

// Every project network costs berthd a UDP and a TCP DNS socket and every
// client a connection: 1024 open files (the usual soft limit) is ~400
// containers. The hard limit is ours to take; containers do not inherit it
// (the runtime sets theirs from the OCI config).
void raiseOpenFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
  limit.rlim_cur = limit.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    std::fprintf(stderr, "berthd: raise the open-file limit: %s\n", std::strerror(errno));
  }
}

sys::Result<int> serve(const DaemonOptions& o) {
  engine::DaemonPaths paths = pathsFrom(o);
  raiseOpenFileLimit();
  BERTH_TRY(makeDir(o.dataRoot, 0711));
  BERTH_TRY(makeDir(o.runRoot, 0711));
  sys::UniqueFd rootLock = BERTH_TRY(lockDataRoot(o.dataRoot));
  // Before any thread exists, so every thread inherits the blocked mask.
  sys::UniqueFd stopFd = BERTH_TRY(blockStopSignals());

  images::ImageServiceOptions imageOptions;
  imageOptions.insecureRegistries = o.insecureRegistries;
  imageOptions.caFile = o.registryCa;
  imageOptions.authFile = o.authFile;
  auto images = BERTH_TRY_CTX(images::ImageService::open(o.dataRoot, imageOptions), "open the image store");

  // In berthd's own network namespace: the node's bridges, rules and DNS.
  net::network::NetworkOptions networkOptions;
  networkOptions.dataRoot = o.dataRoot;
  networkOptions.runRoot = o.runRoot;
  networkOptions.pool = o.networkPool;
  networkOptions.prefix = o.networkPrefix;
  auto networks = BERTH_TRY_CTX(net::network::ProjectNetworks::open(networkOptions), "open the project networks");

  engine::EngineOptions engineOptions;
  engineOptions.paths = paths;
  engineOptions.networks = networks.get();
  engineOptions.restartBackoffCap = o.restartBackoffCap;
  engineOptions.logMaxSize = o.logMaxSize;
  engineOptions.logMaxFiles = o.logMaxFiles;
  auto engine = BERTH_TRY_CTX(engine::ContainerEngine::open(engineOptions, *images), "open the container engine");
  images->setInUse([&engine] { return engine->inUse(); });
  BERTH_TRY_CTX(engine->recover(), "recover containers");

  DaemonHandler handler(*images, *engine, streams::ExecTools{paths.runtimeBinary}, networks.get());
  api::ListenOptions listen;
  listen.path = o.socketPath;
  listen.group = o.socketGroup;
  api::Listener listener = BERTH_TRY(api::listenUnix(listen));
  api::AccessPolicy policy = BERTH_TRY(api::accessPolicy(o.socketGroup));
  std::string where = listener.path;
  Server server(std::move(listener), policy, handler);

  if (auto ready = sdNotify("READY=1"); !ready) logWarn(ready.error().what());
  logInfo("berthd " BERTH_VERSION " ready on " + where + " (data " + o.dataRoot + ", run " + o.runRoot + ")");
  BERTH_TRY(server.run(stopFd.get()));

  logInfo("stopping: containers keep running under their shims");
  (void)sdNotify("STOPPING=1");
  ::unlink(where.c_str());
  engine->shutdown();
  if (!server.drain(std::chrono::seconds(5))) {
    // A handler is stuck in a slow call; its thread still uses the services,
    // so leave without running their destructors.
    logWarn("some connections did not finish within 5 s; exiting anyway");
    std::fflush(nullptr);
    ::_exit(0);
  }
  return 0;
}

}  // namespace

int daemonMain(int argc, char** argv) {
  auto parsed = parseDaemonArgs(std::vector<std::string>(argv + 1, argv + argc));
  if (!parsed) {
    std::fprintf(stderr, "berthd: %s\n", parsed.error().what().c_str());
    return 2;
  }
  if (parsed->help) {
    std::fputs(daemonUsage(), stdout);
    return 0;
  }
  if (parsed->version) {
    std::printf("berthd %s (protocol %u)\n", BERTH_VERSION, api::kProtocolVersion);
    return 0;
  }
  setLogLevel(parsed->logLevel);
  auto result = serve(*parsed);
  if (!result) {
    logError(result.error().what());
    return 1;
  }
  return *result;
}

}  // namespace berth::agent::daemon
