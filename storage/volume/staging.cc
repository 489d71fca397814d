// Staging directories for copy-up and import; see staging.h.
#include "storage/volume/staging.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "runtime/sys/fd.h"
#include "storage/rootfs/remove_tree.h"
#include "storage/volume/tree.h"

namespace berth::storage::volume {
namespace {

std::string stagingName() {
  uint64_t value = 0;
  if (::getrandom(&value, sizeof(value), 0) != sizeof(value)) value = static_cast<uint64_t>(::getpid());
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(value));
  return std::string(kStagingPrefix) + buf;
}

sys::Result<std::string> realPath(const std::string& path) {
  std::unique_ptr<char, decltype(&std::free)> resolved(::realpath(path.c_str(), nullptr), &std::free);
  if (!resolved) return sys::Error::fromErrno("resolve " + path);
  return std::string(resolved.get());
}

sys::Result<void> moveChildren(int stagingFd, int dataFd, const std::string& stagingPath) {
  auto names = BERTH_TRY(listNames(stagingFd, stagingPath));
  for (const auto& name : names) {
    if (::renameat2(stagingFd, name.c_str(), dataFd, name.c_str(), RENAME_NOREPLACE) < 0) {
      return sys::Error::fromErrno("move " + stagingPath + "/" + name + " into place");
    }
  }
  return sys::ok();
}

}  // namespace

sys::Result<bool> isEmptyData(int dataFd, const std::string& dataPath, bool sizeLimited) {
  auto names = BERTH_TRY(listNames(dataFd, dataPath));
  bool empty = true;
  for (const auto& name : names) {
    if (name.rfind(kStagingPrefix, 0) == 0) {
      BERTH_TRY(rootfs::removeTree(dataPath + "/" + name));
    } else if (sizeLimited && name == "lost+found" && ::unlinkat(dataFd, name.c_str(), AT_REMOVEDIR) == 0) {
      continue;
    } else {
      empty = false;
    }
  }
  return empty;
}

sys::Result<void> fillFromStaging(
    int dataFd, const std::string& dataPath,
    const std::function<sys::Result<void>(int stagingFd, const std::string& stagingPath)>& fill) {
  // Resolved once: libarchive's symlink checks walk the whole absolute path,
  // and a data root reached through a symlink (/var/lib -> /srv) is fine.
  std::string realData = BERTH_TRY(realPath(dataPath));
  std::string name = stagingName();
  std::string stagingPath = realData + "/" + name;
  if (::mkdirat(dataFd, name.c_str(), 0700) < 0) return sys::Error::fromErrno("mkdir " + stagingPath);
  auto run = [&]() -> sys::Result<void> {
    sys::UniqueFd staging = BERTH_TRY(openChildDir(dataFd, name, stagingPath));
    BERTH_TRY(fill(staging.get(), stagingPath));
    BERTH_TRY(moveChildren(staging.get(), dataFd, stagingPath));
    if (::unlinkat(dataFd, name.c_str(), AT_REMOVEDIR) < 0) return sys::Error::fromErrno("rmdir " + stagingPath);
    return sys::ok();
  };
  auto result = run();
  if (!result) (void)rootfs::removeTree(stagingPath);
  return result;
}

}  // namespace berth::storage::volume
