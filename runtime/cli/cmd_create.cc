// `create`, `start` and `run`.
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>

#include "runtime/cli/foreground.h"
#include "runtime/cli/globals.h"
#include "runtime/container/create.h"
#include "runtime/container/handshake.h"
#include "runtime/container/lifecycle.h"

namespace berth::runtime::cli {
namespace {

const std::vector<FlagSpec> kCreateFlags = {
    {"bundle", "b", true, "path to the bundle directory (default: current directory)"},
    {"console-socket", nullptr, true, "unix socket that receives the pty master of a terminal"},
    {"pid-file", nullptr, true, "write the container's pid to this file"},
    {"no-pivot", nullptr, false, "use MS_MOVE + chroot instead of pivot_root (ramdisk roots)"},
    {"no-new-keyring", nullptr, false, "keep the caller's session keyring"},
    {"preserve-fds", nullptr, true, "pass N extra fds (from 3) to the container"},
};

std::vector<FlagSpec> runFlags() {
  auto flags = kCreateFlags;
  flags.push_back({"detach", "d", false, "return after starting; do not wait for the process"});
  flags.push_back({"keep", nullptr, false, "do not delete the container when it exits"});
  return flags;
}

sys::Result<container::CreateOptions> createOptions(const Globals& g, const Args& args, const std::string& id) {
  container::CreateOptions o;
  o.id = id;
  o.bundle = args.value("bundle", ".");
  o.stateRoot = g.root;
  o.pidFile = args.value("pid-file");
  o.consoleSocket = args.value("console-socket");
  o.noPivot = args.flag("no-pivot");
  o.noNewKeyring = args.flag("no-new-keyring");
  std::string fds = args.value("preserve-fds", "0");
  char* end = nullptr;
  long n = std::strtol(fds.c_str(), &end, 10);
  if (*end || n < 0 || n > 65536) return sys::Error::invalid("--preserve-fds: not a count: " + fds);
  o.preserveFds = static_cast<int>(n);
  // LISTEN_FDS from socket activation are passed on like runc does.
  if (const char* lf = std::getenv("LISTEN_FDS"); lf && o.preserveFds == 0) o.preserveFds = std::atoi(lf);
  return o;
}

}  // namespace

int cmdCreate(const Globals& g, const std::vector<std::string>& argv, size_t first) {
  Args args;
  int rc = 0;
  if (!parseCommandArgs(g, commands()[0], kCreateFlags, argv, first, &args, &rc)) return rc;
  std::string id;
  if (!takeContainerId(g, args, &id, &rc)) return rc;
  auto opts = createOptions(g, args, id);
  if (!opts) return fail(g, opts.error());
  auto created = container::createContainer(*opts);
  if (!created) return fail(g, created.error());
  return 0;
}

int cmdStart(const Globals& g, const std::vector<std::string>& argv, size_t first) {
  Args args;
  int rc = 0;
  if (!parseCommandArgs(g, commands()[1], {}, argv, first, &args, &rc)) return rc;
  std::string id;
  if (!takeContainerId(g, args, &id, &rc)) return rc;
  std::string warnings;
  auto r = container::startContainer(g.root, id, &warnings);
  if (!warnings.empty()) warn(g, warnings);
  if (!r) return fail(g, r.error());
  return 0;
}

int cmdRun(const Globals& g, const std::vector<std::string>& argv, size_t first) {
  Args args;
  int rc = 0;
  if (!parseCommandArgs(g, commands()[2], runFlags(), argv, first, &args, &rc)) return rc;
  std::string id;
  if (!takeContainerId(g, args, &id, &rc)) return rc;
  auto opts = createOptions(g, args, id);
  if (!opts) return fail(g, opts.error());
  bool detach = args.flag("detach");

  // A foreground terminal without a console socket: we hold the pty ourselves.
  LocalConsole console;
  if (!detach && opts->consoleSocket.empty()) {
    auto lc = makeLocalConsole();
    if (!lc) return fail(g, lc.error());
    console = std::move(*lc);
    opts->consoleSocketFd = console.sendEnd.get();
  }
  if (!detach) blockForwardedSignals();
  auto created = container::createContainer(*opts);
  if (!created) return fail(g, created.error());
  console.sendEnd.reset();

  sys::UniqueFd master;
  auto startAndTakeConsole = [&]() -> sys::Result<void> {
    std::string warnings;
    auto r = container::startContainer(g.root, id, &warnings);
    if (!warnings.empty()) warn(g, warnings);
    BERTH_TRY(std::move(r));
    return sys::ok();
  };
  // The pty master was sent during create; collect it before start.
  if (console.receiveEnd) {
    // Non-blocking: without a terminal nothing was sent, and the init still
    // holds the other end until it execs.
    ::fcntl(console.receiveEnd.get(), F_SETFL, O_NONBLOCK);
    auto m = container::receiveFd(console.receiveEnd.get());
    if (m) master = std::move(*m);
  }
  if (auto r = startAndTakeConsole(); !r) {
    std::string ignored;
    (void)container::deleteContainer(g.root, id, true, &ignored);
    return fail(g, r.error());
  }
  if (detach) return 0;

  int code = runForeground(created->state.pid, created->pidfd.get(), master.get());
  if (!args.flag("keep")) {
    std::string warnings;
    auto r = container::deleteContainer(g.root, id, true, &warnings);
    if (!warnings.empty()) warn(g, warnings);
    if (!r) warn(g, "delete " + id + ": " + r.error().str());
  }
  return code;
}

}  // namespace berth::runtime::cli
