// Volume import from an untrusted tar; see tar.h.
//
// Two layers of defence. libarchive's writer runs with
// ARCHIVE_EXTRACT_SECURE_SYMLINKS and _SECURE_NODOTDOT. Before it sees an
// entry, our own checks run: the name is cleaned (absolute paths and ".."
// are refused, not rewritten), and the entry's parent is opened inside the
// staging directory with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), so
// a symlink made by an earlier entry cannot carry a later one outside. The
// names handed to libarchive are absolute (staging path + entry): berthd is
// multi-threaded and cannot chdir into the staging directory, which is why
// ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS is replaced by our own check.
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "runtime/sys/fd.h"
#include "runtime/sys/syscall.h"
#include "storage/volume/tar.h"

namespace berth::storage::volume {
namespace {

struct ReadFree {
  void operator()(struct archive* a) const { archive_read_free(a); }
};
struct WriteFree {
  void operator()(struct archive* a) const { archive_write_free(a); }
};

constexpr int kExtractFlags = ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME |
                              ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                              ARCHIVE_EXTRACT_SECURE_NODOTDOT;

sys::Error archiveError(struct archive* a, const std::string& what) {
  const char* msg = archive_error_string(a);
  int code = archive_errno(a);
  return sys::Error(code > 0 ? code : 0, what + ": " + (msg ? msg : "libarchive error"));
}

std::string parentOf(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}
std::string baseOf(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The parent directory of `path` as it is on disk inside staging, or an
// invalid fd when it does not exist yet (libarchive then creates it, and a
// directory that did not exist cannot contain a symlink).
sys::Result<sys::UniqueFd> openParent(int stagingFd, const std::string& path, const std::string& entry) {
  struct open_how how {};
  how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS;
  std::string parent = parentOf(path);
  int fd;
  do {
    fd = sys::openat2(stagingFd, parent.c_str(), &how);
  } while (fd < 0 && errno == EAGAIN);
  if (fd >= 0) return sys::UniqueFd(fd);
  if (errno == ENOENT) return sys::UniqueFd();
  if (errno == ELOOP) {
    return sys::Error(ELOOP, "entry \"" + entry + "\" would be written through a symlink");
  }
  if (errno == ENOTDIR) return sys::Error(ENOTDIR, "entry \"" + entry + "\": a parent is not a directory");
  return sys::Error::fromErrno("entry \"" + entry + "\": open its parent");
}

// Refuses what the entry's type or target makes unsafe; see the file comment.
sys::Result<void> checkEntry(int stagingFd, struct archive_entry* e, const std::string& path,
                             const std::string& raw) {
  mode_t type = archive_entry_filetype(e);
  const char* hardlink = archive_entry_hardlink(e);
  if (hardlink == nullptr) {
    if (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK && type != AE_IFIFO &&
        type != AE_IFCHR && type != AE_IFBLK) {
      return sys::Error::invalid("entry \"" + raw + "\": unsupported file type");
    }
    if ((type == AE_IFCHR || type == AE_IFBLK) && ::geteuid() != 0) {
      return sys::Error(EPERM, "entry \"" + raw + "\": device nodes can only be imported as root");
    }
  }
  sys::UniqueFd parent = BERTH_TRY(openParent(stagingFd, path, raw));
  if (parent) {
    struct stat st {};
    if (::fstatat(parent.get(), baseOf(path).c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        !(S_ISDIR(st.st_mode) && type == AE_IFDIR && hardlink == nullptr)) {
      return sys::Error(EEXIST, "entry \"" + raw + "\": duplicate entry (it would replace what is there)");
    }
  }
  if (hardlink == nullptr) return sys::ok();
  auto target = cleanEntryPath(hardlink);
  if (!target || target->empty()) {
    return sys::Error::invalid("entry \"" + raw + "\": hard link target \"" + hardlink + "\" is outside the volume");
  }
  sys::UniqueFd targetParent = BERTH_TRY(openParent(stagingFd, *target, raw));
  struct stat st {};
  if (!targetParent || ::fstatat(targetParent.get(), baseOf(*target).c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0 ||
      S_ISDIR(st.st_mode)) {
    return sys::Error::invalid("entry \"" + raw + "\": hard link target \"" + hardlink +
                               "\" is not a file extracted before it");
  }
  archive_entry_copy_hardlink(e, target->c_str());
  return sys::ok();
}

void rememberRoot(struct archive_entry* e, TarRoot* root) {
  root->present = true;
  root->st.st_mode = archive_entry_mode(e);
  root->st.st_uid = static_cast<uid_t>(archive_entry_uid(e));
  root->st.st_gid = static_cast<gid_t>(archive_entry_gid(e));
  root->st.st_mtim.tv_sec = archive_entry_mtime(e);
  root->st.st_mtim.tv_nsec = archive_entry_mtime_nsec(e);
  root->st.st_atim = root->st.st_mtim;
  root->xattrs.clear();
  archive_entry_xattr_reset(e);
  const char* name = nullptr;
  const void* value = nullptr;
  size_t size = 0;
  while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
    root->xattrs.emplace_back(name, std::string(static_cast<const char*>(value), size));
  }
}

sys::Result<void> copyData(struct archive* in, struct archive* out, const std::string& raw) {
  for (;;) {
    const void* buf = nullptr;
    size_t size = 0;
    la_int64_t offset = 0;
    int r = archive_read_data_block(in, &buf, &size, &offset);
    if (r == ARCHIVE_EOF) return sys::ok();
    if (r < ARCHIVE_WARN) return archiveError(in, "read entry \"" + raw + "\"");
    if (archive_write_data_block(out, buf, size, offset) < ARCHIVE_WARN) {
      return archiveError(out, "write entry \"" + raw + "\"");
    }
  }
}

}  // namespace

sys::Result<std::string> cleanEntryPath(std::string_view raw) {
  std::string bad = "entry \"" + std::string(raw) + "\": ";
  if (raw.empty()) return sys::Error::invalid(bad + "empty name");
  if (raw.front() == '/') return sys::Error::invalid(bad + "absolute path");
  std::string out;
  size_t pos = 0;
  while (pos <= raw.size()) {
    size_t end = raw.find('/', pos);
    if (end == std::string_view::npos) end = raw.size();
    std::string_view part = raw.substr(pos, end - pos);
    if (part == "..") return sys::Error::invalid(bad + "\"..\" in path");
    if (!part.empty() && part != ".") {
      if (!out.empty()) out += '/';
      out += part;
    }
    pos = end + 1;
  }
  return out;
}

sys::Result<TarRoot> importTree(int stagingFd, const std::string& stagingPath, int inFd) {
  std::unique_ptr<struct archive, ReadFree> in(archive_read_new());
  std::unique_ptr<struct archive, WriteFree> out(archive_write_disk_new());
  if (!in || !out) return sys::Error(ENOMEM, "import: libarchive");
  archive_read_support_format_tar(in.get());
  archive_read_support_filter_gzip(in.get());
  archive_read_support_filter_zstd(in.get());
  archive_write_disk_set_options(out.get(), kExtractFlags);
  if (archive_read_open_fd(in.get(), inFd, 1 << 16) != ARCHIVE_OK) {
    return archiveError(in.get(), "read tar");
  }
  TarRoot root;
  for (;;) {
    struct archive_entry* e = nullptr;
    int r = archive_read_next_header(in.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) return archiveError(in.get(), "read tar");
    const char* rawName = archive_entry_pathname(e);
    std::string raw = rawName ? rawName : "";
    std::string path = BERTH_TRY(cleanEntryPath(raw));
    if (path.empty()) {
      if (archive_entry_filetype(e) != AE_IFDIR) {
        return sys::Error::invalid("entry \"" + raw + "\": the root must be a directory");
      }
      rememberRoot(e, &root);
      continue;
    }
    BERTH_TRY(checkEntry(stagingFd, e, path, raw));
    archive_entry_copy_pathname(e, (stagingPath + "/" + path).c_str());
    if (const char* link = archive_entry_hardlink(e)) {
      archive_entry_copy_hardlink(e, (stagingPath + "/" + link).c_str());
    }
    if (archive_write_header(out.get(), e) < ARCHIVE_WARN) {
      return archiveError(out.get(), "entry \"" + raw + "\"");
    }
    if (archive_entry_size(e) > 0) BERTH_TRY(copyData(in.get(), out.get(), raw));
    if (archive_write_finish_entry(out.get()) < ARCHIVE_WARN) {
      return archiveError(out.get(), "entry \"" + raw + "\"");
    }
  }
  // Applies the deferred directory modes and times.
  if (archive_write_close(out.get()) < ARCHIVE_WARN) return archiveError(out.get(), "finish extraction");
  return root;
}

}  // namespace berth::storage::volume
