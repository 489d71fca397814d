// Running e2fsprogs (mkfs.ext4, resize2fs) for storage/disk: posix_spawn
// with an explicit argv and environment (no shell, no PATH lookup in the
// daemon's environment), stderr captured so a failure says what the tool said.
#include "storage/disk/e2fs_tools.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>

#include "runtime/sys/fd.h"
#include "runtime/sys/fs.h"

namespace berth::storage::disk {
namespace {

// Debian ships e2fsprogs in /sbin (= /usr/sbin after usrmerge); mke2fs with
// "-t ext4" is the same program as mkfs.ext4.
constexpr std::array<const char*, 4> kMkfsCandidates = {"/usr/sbin/mkfs.ext4", "/sbin/mkfs.ext4",
                                                        "/usr/sbin/mke2fs", "/sbin/mke2fs"};
constexpr std::array<const char*, 2> kResize2fsCandidates = {"/usr/sbin/resize2fs",
                                                             "/sbin/resize2fs"};
constexpr size_t kMaxCapturedStderr = 4096;

template <size_t N>
sys::Result<std::string> findTool(const std::array<const char*, N>& candidates) {
  for (const char* path : candidates) {
    if (::access(path, X_OK) == 0) return std::string(path);
  }
  return sys::Error(ENOENT, std::string(candidates[0]) + " not found (install e2fsprogs)");
}

class SpawnActions {
 public:
  SpawnActions() { ::posix_spawn_file_actions_init(&actions_); }
  ~SpawnActions() { ::posix_spawn_file_actions_destroy(&actions_); }
  SpawnActions(const SpawnActions&) = delete;
  SpawnActions& operator=(const SpawnActions&) = delete;
  posix_spawn_file_actions_t* get() { return &actions_; }

 private:
  posix_spawn_file_actions_t actions_;
};

std::string readAll(int fd) {
  std::string out;
  char buf[512];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (out.size() < kMaxCapturedStderr) out.append(buf, static_cast<size_t>(n));
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  for (char& c : out) {
    if (c == '\n') c = ' ';
  }
  return out;
}

// Runs args[0] with args, stdin/stdout on /dev/null, and waits for it.
sys::Result<void> run(std::vector<std::string> args) {
  const std::string& tool = args[0];
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  // A fixed environment: the daemon's own (locale, MKE2FS_CONFIG, ...) must
  // not change the filesystem made or the language of the errors.
  char path[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
  char locale[] = "LC_ALL=C";
  char* envp[] = {path, locale, nullptr};

  int pipeFds[2];
  if (::pipe2(pipeFds, O_CLOEXEC) < 0) return sys::Error::fromErrno("pipe for " + tool);
  sys::UniqueFd readEnd(pipeFds[0]);
  sys::UniqueFd writeEnd(pipeFds[1]);
  SpawnActions actions;
  ::posix_spawn_file_actions_addopen(actions.get(), 0, "/dev/null", O_RDONLY, 0);
  ::posix_spawn_file_actions_addopen(actions.get(), 1, "/dev/null", O_WRONLY, 0);
  ::posix_spawn_file_actions_adddup2(actions.get(), writeEnd.get(), 2);
  // The daemon's other descriptors (sockets, container fds) are none of its business.
  ::posix_spawn_file_actions_addclosefrom_np(actions.get(), 3);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, tool.c_str(), actions.get(), nullptr, argv.data(), envp);
  if (rc != 0) return sys::Error(rc, "spawn " + tool);
  writeEnd.reset();  // so the read below ends when the tool exits
  std::string stderrText = readAll(readEnd.get());
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return sys::Error::fromErrno("wait for " + tool);
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return sys::ok();
  std::string how = WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                      : "signal " + std::to_string(WTERMSIG(status));
  std::string what = tool + " failed (" + how + ")";
  if (!stderrText.empty()) what += ": " + stderrText;
  return sys::Error::invalid(what);
}

}  // namespace

sys::Result<void> runMkfs(const std::string& imagePath, uint64_t bytes) {
  std::string mkfs = BERTH_TRY(findTool(kMkfsCandidates));
  return run(mkfsArgv(mkfs, imagePath, bytes));
}

sys::Result<void> runResize2fs(const std::string& imagePath, uint64_t bytes) {
  std::string resize2fs = BERTH_TRY(findTool(kResize2fsCandidates));
  // -f: skip resize2fs's demand for a fresh e2fsck; the image was unmounted
  // cleanly by us (a mounted image never takes this path). Size in KiB so the
  // number cannot be read as blocks of another size.
  return run({resize2fs, "-f", imagePath, std::to_string(bytes / 1024) + "K"});
}

}  // namespace berth::storage::disk
