// Reading what the project file points at, confined to the project directory.
#include "agent/project/source_files.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/sys/fd.h"
#include "runtime/sys/fs.h"
#include "runtime/sys/syscall.h"

namespace berth::agent::project::detail {
namespace {

sys::Result<std::string> realDir(const std::string& projectDir) {
  char buffer[PATH_MAX];
  if (::realpath(projectDir.empty() ? "." : projectDir.c_str(), buffer) == nullptr) {
    return sys::Error::fromErrno("resolve the project directory " + projectDir);
  }
  return std::string(buffer);
}

// openat2 beneath the project directory: neither "..", nor an absolute
// symlink, nor a relative one that climbs out can leave it (EXDEV).
sys::Result<sys::UniqueFd> openBeneath(const std::string& projectDir, const std::string& relative,
                                       uint64_t flags) {
  sys::UniqueFd dir(::open(projectDir.empty() ? "." : projectDir.c_str(),
                           O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return sys::Error::fromErrno("open the project directory " + projectDir);
  struct open_how how {};
  how.flags = flags | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  int fd = sys::openat2(dir.get(), relative.c_str(), &how);
  if (fd < 0) {
    if (errno == EXDEV) {
      return sys::Error::invalid("'" + relative +
                                 "' leads outside the project directory (through '..' or a symlink)");
    }
    if (errno == ENOENT) {
      return sys::Error(ENOENT, "'" + relative + "' does not exist in the project directory");
    }
    return sys::Error::fromErrno("open '" + relative + "' in the project directory");
  }
  return sys::UniqueFd(fd);
}

std::string_view trimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

}  // namespace

sys::Result<std::string> relativeInside(const std::string& projectDir, std::string_view path) {
  if (path.empty()) return sys::Error::invalid("empty path");
  if (path.front() == '/') {
    std::string root = BERTH_TRY(realDir(projectDir));
    std::string cleaned = sys::cleanPath(path);
    if (cleaned == root) return std::string(".");
    if (!cleaned.starts_with(root + "/")) {
      return sys::Error::invalid("'" + std::string(path) + "' is outside the project directory " + root);
    }
    return cleaned.substr(root.size() + 1);
  }
  // cleanPath clamps ".." at the start of a relative path; an escape must be
  // refused instead, so count the depth first.
  int depth = 0;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    std::string_view part = path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (part == "..") {
      if (--depth < 0) {
        return sys::Error::invalid("'" + std::string(path) + "' climbs out of the project directory");
      }
    } else if (!part.empty() && part != ".") {
      ++depth;
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  std::string cleaned = sys::cleanPath(path);
  return cleaned.empty() ? std::string(".") : cleaned;
}

sys::Result<std::string> readInside(const std::string& projectDir, std::string_view path) {
  std::string relative = BERTH_TRY(relativeInside(projectDir, path));
  sys::UniqueFd fd = BERTH_TRY(openBeneath(projectDir, relative, O_RDONLY | O_NOCTTY | O_NONBLOCK));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return sys::Error::fromErrno("stat '" + relative + "'");
  if (!S_ISREG(st.st_mode)) return sys::Error::invalid("'" + relative + "' is not a regular file");
  if (static_cast<uint64_t>(st.st_size) > kMaxSourceFileBytes) {
    return sys::Error::invalid("'" + relative + "' is larger than 1 MiB");
  }
  std::string data;
  char buffer[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys::Error::fromErrno("read '" + relative + "'");
    if (n == 0) break;
    data.append(buffer, static_cast<size_t>(n));
    if (data.size() > kMaxSourceFileBytes) return sys::Error::invalid("'" + relative + "' is larger than 1 MiB");
  }
  return data;
}

sys::Result<std::string> bindSourceInside(const std::string& projectDir, std::string_view path) {
  std::string relative = BERTH_TRY(relativeInside(projectDir, path));
  std::string root = BERTH_TRY(realDir(projectDir));
  auto fd = openBeneath(projectDir, relative, O_PATH);
  if (!fd) {
    if (fd.error().code() == ENOENT) return relative == "." ? root : root + "/" + relative;
    return std::move(fd).error();
  }
  char buffer[PATH_MAX];
  std::string link = "/proc/self/fd/" + std::to_string(fd->get());
  ssize_t n = ::readlink(link.c_str(), buffer, sizeof(buffer) - 1);
  if (n < 0) return sys::Error::fromErrno("resolve '" + relative + "'");
  return std::string(buffer, static_cast<size_t>(n));
}

sys::Result<std::vector<std::string>> parseEnvFile(std::string_view content, std::string_view name) {
  std::vector<std::string> out;
  size_t lineNumber = 0;
  size_t start = 0;
  while (start < content.size()) {
    size_t end = content.find('\n', start);
    if (end == std::string_view::npos) end = content.size();
    std::string_view line = trimSpaces(content.substr(start, end - start));
    start = end + 1;
    ++lineNumber;
    if (line.empty() || line.front() == '#') continue;
    size_t eq = line.find('=');
    std::string_view key = eq == std::string_view::npos ? line : trimSpaces(line.substr(0, eq));
    bool keyOk = !key.empty() && !(key[0] >= '0' && key[0] <= '9');
    for (char c : key) {
      keyOk = keyOk && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_');
    }
    if (eq == std::string_view::npos || !keyOk) {
      return sys::Error::invalid(std::string(name) + ":" + std::to_string(lineNumber) +
                                 ": expected KEY=VALUE (KEY of letters, digits and '_')");
    }
    std::string_view value = trimSpaces(line.substr(eq + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    }
    out.push_back(std::string(key) + "=" + std::string(value));
  }
  return out;
}

}  // namespace berth::agent::project::detail
