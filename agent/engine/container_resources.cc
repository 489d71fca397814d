// Finding and removing a container's pieces; see container_resources.h.
#include "agent/engine/container_resources.h"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <string_view>
#include <vector>

#include "agent/shim/shim.h"
#include "runtime/cgroup/manager.h"
#include "runtime/container/lifecycle.h"
#include "runtime/sys/fs.h"
#include "runtime/sys/syscall.h"
#include "storage/rootfs/rootfs.h"

namespace berth::agent::engine {
namespace {

std::vector<std::string_view> splitNul(std::string_view text) {
  std::vector<std::string_view> parts;
  while (!text.empty()) {
    size_t nul = text.find('\0');
    parts.push_back(text.substr(0, nul));
    if (nul == std::string_view::npos) break;
    text.remove_prefix(nul + 1);
  }
  return parts;
}

}  // namespace

bool isShimCommandLine(const std::string& cmdline, const std::string& id) {
  std::vector<std::string_view> argv = splitNul(cmdline);
  if (argv.empty()) return false;
  std::string_view exe = argv[0];
  if (size_t slash = exe.rfind('/'); slash != std::string_view::npos) exe.remove_prefix(slash + 1);
  if (exe != "berth-shim") return false;
  for (size_t i = 1; i < argv.size(); ++i) {
    if (argv[i] == "--id" && i + 1 < argv.size() && argv[i + 1] == id) return true;
    if (argv[i] == "--id=" + id) return true;
  }
  return false;
}

sys::UniqueFd openShimPid(pid_t pid, const std::string& id) {
  if (pid <= 0) return {};
  // The pidfd first, the check second: once the pidfd is open, the pid
  // cannot be recycled under it, so what the check saw is what we hold.
  sys::UniqueFd pidfd(sys::pidfdOpen(pid));
  if (!pidfd) return {};
  auto cmdline = sys::readFile("/proc/" + std::to_string(pid) + "/cmdline");
  if (!cmdline || !isShimCommandLine(*cmdline, id)) return {};
  // A zombie has an empty cmdline, so it never gets here.
  return pidfd;
}

LiveShim openLiveShim(const std::string& dir, const std::string& id) {
  auto text = sys::readFile(sys::joinPath(dir, shim::kShimPidFileName));
  if (!text) return {};
  pid_t pid = 0;
  const char* begin = text->data();
  const char* end = begin + text->size();
  while (end > begin && (end[-1] == '\n' || end[-1] == ' ')) --end;
  auto [ptr, ec] = std::from_chars(begin, end, pid);
  if (ec != std::errc() || ptr != end) return {};
  sys::UniqueFd pidfd = openShimPid(pid, id);
  if (!pidfd) return {};
  return LiveShim{std::move(pidfd), pid};
}

bool oomKilled(const std::string& cgroupsPath, const std::string& id) {
  auto manager = runtime::cgroup::openManager(cgroupsPath, id);
  if (!manager) return false;
  std::string dir = (*manager)->pathFor("memory");
  if (dir.empty()) return false;
  for (const char* file : {"memory.oom_control", "memory.events"}) {
    auto text = sys::readFile(dir + "/" + file);
    if (!text) continue;
    std::string_view rest = *text;
    while (!rest.empty()) {
      std::string_view line = rest.substr(0, rest.find('\n'));
      rest.remove_prefix(std::min(rest.size(), line.size() + 1));
      constexpr std::string_view kKey = "oom_kill ";
      if (!line.starts_with(kKey)) continue;
      uint64_t count = 0;
      line.remove_prefix(kKey.size());
      std::from_chars(line.data(), line.data() + line.size(), count);
      return count > 0;
    }
  }
  return false;
}

bool waitForExit(int pidfd, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    struct pollfd p {
      pidfd, POLLIN, 0
    };
    int n = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(left.count(), 0)));
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return false;
  }
}

sys::Result<void> deleteRuntimeState(const std::string& stateRoot, const std::string& id) {
  std::string warnings;
  auto deleted = runtime::container::deleteContainer(stateRoot, id, /*force=*/true, &warnings);
  if (!deleted && deleted.error().code() != ENOENT) {
    return std::move(deleted).error().context("delete the runtime state of " + id);
  }
  return sys::ok();
}

sys::Result<void> removeContainerResources(const DaemonPaths& paths, const std::string& id,
                                           const std::string& cgroupsPath) {
  return removeContainerResources(paths, id, cgroupsPath, paths.containerDir(id));
}

sys::Result<void> removeContainerResources(const DaemonPaths& paths, const std::string& id,
                                           const std::string& cgroupsPath, const std::string& dir) {
  sys::Result<void> first;
  auto keep = [&](sys::Result<void> r) {
    if (!r && first) first = std::move(r);
  };
  bool stateLost = !sys::pathExists(sys::joinPath(paths.runtimeStateRoot(), id));
  if (!stateLost) keep(deleteRuntimeState(paths.runtimeStateRoot(), id));
  // The runtime's delete removed the cgroup. The cgroup of a container whose
  // runtime state was lost (a crash between the runtime's mkdir and its
  // state file, a reboot of /run) is still ours.
  if (stateLost && !cgroupsPath.empty()) {
    if (auto cg = runtime::cgroup::openManager(cgroupsPath, id)) {
      keep(std::move((*cg)->destroy()).context("remove the cgroup of " + id));
    }
  }
  if (sys::pathExists(dir)) {
    keep(std::move(storage::rootfs::remove(dir)).context("remove " + dir));
  }
  return first;
}

}  // namespace berth::agent::engine
