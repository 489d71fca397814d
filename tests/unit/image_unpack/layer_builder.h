// Test helper: builds layer tarballs in memory with libarchive's writer, so
// every test (and every hostile archive) is generated from code rather than
// checked in as a binary blob. Also compresses (gzip through libarchive's
// raw format, zstd through libzstd), hashes, and makes scratch directories.
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace berth::test {

class LayerBuilder {
 public:
  struct Item {
    std::string path;
    unsigned type = AE_IFREG;  // AE_IF*, or 0 for a hard link
    unsigned mode = 0644;
    int64_t uid = 0, gid = 0;
    std::string data;  // file content
    std::string link;  // symlink / hard link target
    unsigned major = 0, minor = 0;
    int64_t mtime = 1700000000;
    std::vector<std::pair<std::string, std::string>> xattrs;
  };

  LayerBuilder& dir(std::string path, unsigned mode = 0755, int64_t uid = 0, int64_t gid = 0) {
    items_.push_back(Item{std::move(path), AE_IFDIR, mode, uid, gid});
    return *this;
  }
  LayerBuilder& file(std::string path, std::string data, unsigned mode = 0644, int64_t uid = 0,
                     int64_t gid = 0) {
    Item it{std::move(path), AE_IFREG, mode, uid, gid};
    it.data = std::move(data);
    items_.push_back(std::move(it));
    return *this;
  }
  LayerBuilder& symlink(std::string path, std::string target) {
    Item it{std::move(path), AE_IFLNK, 0777};
    it.link = std::move(target);
    items_.push_back(std::move(it));
    return *this;
  }
  LayerBuilder& hardlink(std::string path, std::string target) {
    Item it{std::move(path), 0, 0644};
    it.link = std::move(target);
    items_.push_back(std::move(it));
    return *this;
  }
  LayerBuilder& node(std::string path, unsigned type, unsigned mode, unsigned major = 0,
                     unsigned minor = 0) {
    Item it{std::move(path), type, mode};
    it.major = major;
    it.minor = minor;
    items_.push_back(std::move(it));
    return *this;
  }
  // Applies to the item added last.
  LayerBuilder& xattr(std::string name, std::string value) {
    items_.back().xattrs.emplace_back(std::move(name), std::move(value));
    return *this;
  }
  LayerBuilder& mtime(int64_t t) {
    items_.back().mtime = t;
    return *this;
  }
  LayerBuilder& owner(int64_t uid, int64_t gid) {
    items_.back().uid = uid;
    items_.back().gid = gid;
    return *this;
  }

  // A pax tar (the format docker and buildkit write), as bytes.
  std::string tar() const {
    std::string out;
    struct archive* a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    archive_write_set_bytes_per_block(a, 512);  // no padding to 10 KiB records
    archive_write_open(a, &out, nullptr, &LayerBuilder::append, nullptr);
    for (const auto& it : items_) writeItem(a, it);
    archive_write_close(a);
    archive_write_free(a);
    return out;
  }

 private:
  static la_ssize_t append(struct archive*, void* client, const void* buf, size_t len) {
    static_cast<std::string*>(client)->append(static_cast<const char*>(buf), len);
    return static_cast<la_ssize_t>(len);
  }

  static void writeItem(struct archive* a, const Item& it) {
    struct archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, it.path.c_str());
    if (it.type == 0) {
      archive_entry_set_hardlink(e, it.link.c_str());
      archive_entry_set_filetype(e, AE_IFREG);
    } else {
      archive_entry_set_filetype(e, it.type);
    }
    archive_entry_set_perm(e, it.mode);
    archive_entry_set_uid(e, it.uid);
    archive_entry_set_gid(e, it.gid);
    archive_entry_set_mtime(e, it.mtime, 0);
    if (it.type == AE_IFLNK) archive_entry_set_symlink(e, it.link.c_str());
    if (it.type == AE_IFCHR || it.type == AE_IFBLK) {
      archive_entry_set_rdevmajor(e, it.major);
      archive_entry_set_rdevminor(e, it.minor);
    }
    if (it.type == AE_IFREG) archive_entry_set_size(e, static_cast<la_int64_t>(it.data.size()));
    for (const auto& [name, value] : it.xattrs) {
      archive_entry_xattr_add_entry(e, name.c_str(), value.data(), value.size());
    }
    if (archive_write_header(a, e) != ARCHIVE_OK) {
      throw std::runtime_error(std::string("write header: ") + archive_error_string(a));
    }
    if (it.type == AE_IFREG && !it.data.empty())
      archive_write_data(a, it.data.data(), it.data.size());
    archive_entry_free(e);
  }

  std::vector<Item> items_;
};

// One gzip member holding `data` (libarchive's raw format + gzip filter).
inline std::string gzipMember(const std::string& data) {
  std::string out;
  struct archive* a = archive_write_new();
  archive_write_set_format_raw(a);
  archive_write_add_filter_gzip(a);
  archive_write_set_bytes_per_block(a, 0);  // no block padding after the gzip stream
  archive_write_open(
      a, &out, nullptr,
      [](struct archive*, void* c, const void* b, size_t n) -> la_ssize_t {
        static_cast<std::string*>(c)->append(static_cast<const char*>(b), n);
        return static_cast<la_ssize_t>(n);
      },
      nullptr);
  struct archive_entry* e = archive_entry_new();
  archive_entry_set_pathname(e, "data");
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_size(e, static_cast<la_int64_t>(data.size()));
  archive_write_header(a, e);
  archive_write_data(a, data.data(), data.size());
  archive_entry_free(e);
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

// `data` split into `members` gzip members, concatenated (as pigz may write).
inline std::string gzip(const std::string& data, size_t members = 1) {
  std::string out;
  size_t step = data.size() / members + 1;
  for (size_t i = 0; i < members; ++i) {
    size_t start = std::min(data.size(), i * step);
    out += gzipMember(data.substr(start, std::min(step, data.size() - start)));
  }
  return out;
}

// `data` as `frames` zstd frames, concatenated.
inline std::string zstd(const std::string& data, size_t frames = 1) {
  std::string out;
  size_t step = data.size() / frames + 1;
  for (size_t i = 0; i < frames; ++i) {
    size_t start = std::min(data.size(), i * step);
    std::string part = data.substr(start, std::min(step, data.size() - start));
    std::string buf(ZSTD_compressBound(part.size()), '\0');
    size_t n = ZSTD_compress(buf.data(), buf.size(), part.data(), part.size(), 3);
    out.append(buf.data(), n);
  }
  return out;
}

inline std::string sha256Digest(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  std::string out = "sha256:";
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

// An fd reading `data` from its start (a memfd, like a blob file).
inline int blobFd(const std::string& data) {
  int fd = memfd_create("layer", MFD_CLOEXEC);
  if (fd < 0 || ::write(fd, data.data(), data.size()) != static_cast<ssize_t>(data.size())) {
    throw std::runtime_error("memfd");
  }
  ::lseek(fd, 0, SEEK_SET);
  return fd;
}

}  // namespace berth::test
