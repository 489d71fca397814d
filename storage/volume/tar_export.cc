// Volume export as a pax tar; see tar.h.
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <map>
#include <memory>
#include <vector>

#include "runtime/sys/fd.h"
#include "storage/volume/tar.h"

namespace berth::storage::volume {
namespace {

struct ArchiveFree {
  void operator()(struct archive* a) const { archive_write_free(a); }
};
struct EntryFree {
  void operator()(struct archive_entry* e) const { archive_entry_free(e); }
};
using EntryPtr = std::unique_ptr<struct archive_entry, EntryFree>;

class Exporter {
 public:
  Exporter(struct archive* a, dev_t dev) : a_(a), dev_(dev) {}

  sys::Result<void> writeDir(int dirfd, const std::string& path) {
    auto names = BERTH_TRY(listNames(dirfd, path));
    for (const auto& name : names) BERTH_TRY(writeChild(dirfd, name, path + "/" + name));
    return sys::ok();
  }

  // One entry from its stat: only the fields that describe the content
  // (no atime/ctime), so exporting the same data twice gives the same bytes.
  sys::Result<void> writeEntry(const std::string& path, const struct stat& st, const Xattrs& xattrs,
                               const std::string& symlink, const std::string& hardlink) {
    EntryPtr e(archive_entry_new());
    archive_entry_copy_pathname(e.get(), path.c_str());
    archive_entry_set_mode(e.get(), st.st_mode);
    archive_entry_set_uid(e.get(), st.st_uid);
    archive_entry_set_gid(e.get(), st.st_gid);
    archive_entry_set_mtime(e.get(), st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) archive_entry_set_rdev(e.get(), st.st_rdev);
    if (S_ISLNK(st.st_mode)) archive_entry_copy_symlink(e.get(), symlink.c_str());
    if (!hardlink.empty()) archive_entry_copy_hardlink(e.get(), hardlink.c_str());
    archive_entry_set_size(e.get(), S_ISREG(st.st_mode) && hardlink.empty() ? st.st_size : 0);
    for (const auto& [key, value] : xattrs) {
      archive_entry_xattr_add_entry(e.get(), key.c_str(), value.data(), value.size());
    }
    if (archive_write_header(a_, e.get()) < ARCHIVE_WARN) return archiveError("write " + path);
    return sys::ok();
  }

  sys::Result<void> writeData(int fd, off_t size, const std::string& path) {
    std::vector<char> buf(1 << 16);
    off_t done = 0;
    while (done < size) {
      size_t want = static_cast<size_t>(std::min<off_t>(size - done, static_cast<off_t>(buf.size())));
      ssize_t n = ::read(fd, buf.data(), want);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return sys::Error::fromErrno("read " + path);
      if (n == 0) {
        // The file shrank while we read: the header promised `size` bytes.
        std::fill(buf.begin(), buf.end(), '\0');
        n = static_cast<ssize_t>(want);
      }
      if (archive_write_data(a_, buf.data(), static_cast<size_t>(n)) < 0) {
        return archiveError("write " + path);
      }
      done += n;
    }
    return sys::ok();
  }

  sys::Result<void> archiveError(const std::string& what) {
    const char* msg = archive_error_string(a_);
    int code = archive_errno(a_);
    return sys::Error(code > 0 ? code : 0, what + ": " + (msg ? msg : "libarchive error"));
  }

 private:
  sys::Result<void> writeChild(int dirfd, const std::string& name, const std::string& path) {
    struct stat st {};
    if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
      if (errno == ENOENT) return sys::ok();  // removed while we walk
      return sys::Error::fromErrno("stat " + path);
    }
    if (st.st_dev != dev_) return sys::ok();  // something mounted inside: not volume data
    if (S_ISDIR(st.st_mode)) {
      auto child = openChildDir(dirfd, name, path);
      if (!child && child.error().code() == EXDEV) return sys::ok();  // a mount: not volume data
      if (!child) return std::move(child).error();
      Xattrs xattrs = BERTH_TRY(readXattrs(child->get(), path));
      BERTH_TRY(writeEntry(path + "/", st, xattrs, "", ""));
      return writeDir(child->get(), path);
    }
    if (S_ISREG(st.st_mode)) return writeFile(dirfd, name, st, path);
    std::string target;
    if (S_ISLNK(st.st_mode)) {
      std::vector<char> buf(PATH_MAX + 1);
      ssize_t n = ::readlinkat(dirfd, name.c_str(), buf.data(), buf.size() - 1);
      if (n < 0) return sys::Error::fromErrno("readlink " + path);
      target.assign(buf.data(), static_cast<size_t>(n));
    }
    if (S_ISSOCK(st.st_mode)) return sys::ok();  // tar has no sockets; they are runtime state
    Xattrs xattrs = BERTH_TRY(readXattrsAt(dirfd, name, path));
    return writeEntry(path, st, xattrs, target, "");
  }

  sys::Result<void> writeFile(int dirfd, const std::string& name, const struct stat& st,
                              const std::string& path) {
    if (st.st_nlink > 1) {
      auto [it, first] = links_.try_emplace({st.st_dev, st.st_ino}, path);
      if (!first) return writeEntry(path, st, {}, "", it->second);
    }
    sys::UniqueFd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    if (!fd) return sys::Error::fromErrno("open " + path);
    struct stat now {};
    if (::fstat(fd.get(), &now) < 0) return sys::Error::fromErrno("stat " + path);
    if (now.st_ino != st.st_ino || !S_ISREG(now.st_mode)) {
      return sys::Error(EAGAIN, "export " + path + ": replaced while exporting");
    }
    Xattrs xattrs = BERTH_TRY(readXattrs(fd.get(), path));
    BERTH_TRY(writeEntry(path, now, xattrs, "", ""));
    return writeData(fd.get(), now.st_size, path);
  }

  struct archive* a_;
  dev_t dev_;
  std::map<std::pair<dev_t, ino_t>, std::string> links_;  // first path of each multiply-linked file
};

}  // namespace

sys::Result<void> exportTree(int rootfd, int outFd, const std::string& where) {
  std::unique_ptr<struct archive, ArchiveFree> a(archive_write_new());
  if (!a) return sys::Error(ENOMEM, "export " + where + ": archive_write_new");
  struct stat st {};
  if (::fstat(rootfd, &st) < 0) return sys::Error::fromErrno("stat " + where);
  Exporter exporter(a.get(), st.st_dev);
  // hdrcharset=BINARY: names are stored as the bytes they are on disk, not
  // converted through the (C) locale, which would refuse non-ASCII names.
  if (archive_write_set_format_pax(a.get()) != ARCHIVE_OK ||
      archive_write_set_format_option(a.get(), "pax", "hdrcharset", "BINARY") < ARCHIVE_WARN ||
      archive_write_open_fd(a.get(), outFd) != ARCHIVE_OK) {
    return exporter.archiveError("export " + where);
  }
  Xattrs xattrs = BERTH_TRY(readXattrs(rootfd, where));
  BERTH_TRY(exporter.writeEntry("./", st, xattrs, "", ""));
  BERTH_TRY(exporter.writeDir(rootfd, "."));
  if (archive_write_close(a.get()) != ARCHIVE_OK) return exporter.archiveError("export " + where);
  return sys::ok();
}

}  // namespace berth::storage::volume
