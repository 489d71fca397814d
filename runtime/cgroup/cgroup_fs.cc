// Shared cgroup directory operations: see cgroup_fs.h.
#include "runtime/cgroup/cgroup_fs.h"

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <charconv>

#include "runtime/sys/fs.h"

namespace berth::runtime::cgroup {
namespace {

constexpr int kRemoveTimeoutMs = 5000;

std::vector<std::string> subdirs(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    if (e->d_type == DT_DIR && std::string_view(e->d_name) != "." &&
        std::string_view(e->d_name) != "..") {
      out.push_back(sys::joinPath(dir, e->d_name));
    }
  }
  ::closedir(d);
  return out;
}

sys::Result<void> rmdirRetrying(const std::string& dir) {
  for (int waited = 0, step = 1;; waited += step, step = std::min(step * 2, 100)) {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return sys::ok();
    if (errno != EBUSY || waited >= kRemoveTimeoutMs) return sys::Error::fromErrno("rmdir " + dir);
    timespec ts{0, step * 1000000L};
    ::nanosleep(&ts, nullptr);
  }
}

std::optional<uint64_t> parseNumber(std::string_view text) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end == text.data()) return std::nullopt;
  return value;
}

}  // namespace

namespace {

sys::Result<std::vector<std::string>> makeCgroupDirsOnce(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0755) == 0) return std::vector<std::string>{dir};
  if (errno == EEXIST) return std::vector<std::string>{};
  if (errno != ENOENT) return sys::Error::fromErrno("mkdir " + dir);
  auto slash = dir.rfind('/');
  if (slash == std::string::npos || slash == 0) return sys::Error::fromErrno("mkdir " + dir);
  auto created = BERTH_TRY(makeCgroupDirsOnce(dir.substr(0, slash)));
  if (::mkdir(dir.c_str(), 0755) < 0 && errno != EEXIST) return sys::Error::fromErrno("mkdir " + dir);
  created.push_back(dir);
  return created;
}

}  // namespace

sys::Result<std::vector<std::string>> makeCgroupDirs(const std::string& dir) {
  std::vector<std::string> created;
  for (int attempt = 0;; ++attempt) {
    auto more = makeCgroupDirsOnce(dir);
    if (more) {
      created.insert(created.end(), more->begin(), more->end());
      return created;
    }
    // ENOENT after making the parent: a concurrent removal of the (then
    // empty) parent won the race. Bounded, since each round makes progress.
    if (more.error().code() != ENOENT || attempt >= 8) return std::move(more).error();
  }
}

sys::Result<std::vector<pid_t>> readProcs(const std::string& dir) {
  auto text = sys::readFile(sys::joinPath(dir, "cgroup.procs"));
  if (!text) {
    if (text.error().code() == ENOENT && !sys::pathExists(dir)) return std::vector<pid_t>{};
    return std::move(text).error();
  }
  std::vector<pid_t> pids;
  std::string_view rest = *text;
  while (!rest.empty()) {
    auto line = rest.substr(0, rest.find('\n'));
    rest.remove_prefix(std::min(rest.size(), line.size() + 1));
    if (auto pid = parseNumber(line)) pids.push_back(static_cast<pid_t>(*pid));
  }
  for (const auto& sub : subdirs(dir)) {
    auto more = BERTH_TRY(readProcs(sub));
    pids.insert(pids.end(), more.begin(), more.end());
  }
  return pids;
}

sys::Result<void> signalPids(const std::vector<pid_t>& pids, int signal) {
  for (pid_t pid : pids) {
    if (::kill(pid, signal) < 0 && errno != ESRCH) {
      return sys::Error::fromErrno("kill " + std::to_string(pid) + " with signal " +
                                   std::to_string(signal));
    }
  }
  return sys::ok();
}

sys::Result<void> removeCgroupDir(const std::string& dir, int emptyParents) {
  for (const auto& sub : subdirs(dir)) BERTH_TRY(removeCgroupDir(sub));
  BERTH_TRY(rmdirRetrying(dir));
  // A parent still holding another container's cgroup (EBUSY/ENOTEMPTY) or
  // already gone ends the walk; neither is an error.
  std::string parent = dir;
  for (int i = 0; i < emptyParents; ++i) {
    auto slash = parent.rfind('/');
    if (slash == std::string::npos || slash == 0) break;
    parent.resize(slash);
    if (::rmdir(parent.c_str()) < 0) break;
  }
  return sys::ok();
}

sys::Result<std::optional<uint64_t>> readCounter(const std::string& path) {
  auto text = BERTH_TRY(sys::readFile(path));
  std::string_view value = text;
  while (!value.empty() && (value.back() == '\n' || value.back() == ' ')) value.remove_suffix(1);
  if (value == "max") return std::optional<uint64_t>{};
  auto number = parseNumber(value);
  if (!number) return sys::Error(EINVAL, "parse " + path + ": \"" + std::string(value) + "\"");
  return std::optional<uint64_t>{*number};
}

sys::Result<uint64_t> readKeyed(const std::string& path, std::string_view key) {
  auto text = BERTH_TRY(sys::readFile(path));
  std::string_view rest = text;
  while (!rest.empty()) {
    auto line = rest.substr(0, rest.find('\n'));
    rest.remove_prefix(std::min(rest.size(), line.size() + 1));
    if (line.starts_with(key) && line.size() > key.size() && line[key.size()] == ' ') {
      if (auto n = parseNumber(line.substr(key.size() + 1))) return *n;
    }
  }
  return sys::Error(ENOENT, "no \"" + std::string(key) + "\" in " + path);
}

}  // namespace berth::runtime::cgroup
