// Streaming image tarball reader: see archive.h.
#include "image/oci/archive.h"

#include <archive.h>
#include <archive_entry.h>

#include <unistd.h>

#include <memory>
#include <vector>

#include "image/oci/walk.h"

namespace berth::image::oci {
namespace {

struct ArchiveFree {
  void operator()(struct archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<struct archive, ArchiveFree>;

constexpr std::string_view kBlobDir = "blobs/sha256/";
constexpr int kMaxLinkHops = 16;

bool isDocument(std::string_view name) {
  return name == "index.json" || name == "oci-layout" || name == "manifest.json" || name == "repositories";
}

bool endsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Which members may be image content. Legacy docker-archive members such as
// "<id>/json" and "<id>/VERSION" are not.
bool isContentCandidate(std::string_view name) {
  return name.substr(0, kBlobDir.size()) == kBlobDir || endsWith(name, ".json") || endsWith(name, ".tar");
}

Compression sniff(const unsigned char* p, size_t n) {
  if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b) return Compression::kGzip;
  if (n >= 4 && p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd) return Compression::kZstd;
  return Compression::kNone;
}

sys::Result<Compression> sniffStored(const store::ContentStore& store, const store::Digest& d) {
  auto fd = BERTH_TRY(store.openBlob(d));
  unsigned char head[4];
  ssize_t n = ::pread(fd.get(), head, sizeof(head), 0);
  if (n < 0) return sys::Error::fromErrno("read blob " + d.str());
  return sniff(head, static_cast<size_t>(n));
}

std::vector<std::string_view> components(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) parts.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return parts;
}

std::string join(const std::vector<std::string_view>& parts) {
  std::string out;
  for (auto p : parts) {
    if (!out.empty()) out += '/';
    out += p;
  }
  return out;
}

// A symlink's target, relative to the directory holding the link, as a
// member name; ".." may climb within the archive but never above its top.
sys::Result<std::string> resolveSymlinkTarget(const std::string& link, std::string_view target) {
  if (!target.empty() && target[0] == '/') {
    return sys::Error::invalid("symlink \"" + link + "\" -> \"" + std::string(target) + "\": absolute target");
  }
  auto parts = components(link);
  if (!parts.empty()) parts.pop_back();
  for (auto c : components(target)) {
    if (c == ".") continue;
    if (c == "..") {
      if (parts.empty()) {
        return sys::Error::invalid("symlink \"" + link + "\" -> \"" + std::string(target) +
                                   "\": target escapes the archive");
      }
      parts.pop_back();
      continue;
    }
    parts.push_back(c);
  }
  if (parts.empty()) return sys::Error::invalid("symlink \"" + link + "\": empty target");
  return join(parts);
}

sys::Result<std::string> readDocumentData(struct archive* a, const std::string& name) {
  std::string out;
  const void* buf;
  size_t size;
  la_int64_t offset;
  for (;;) {
    int r = archive_read_data_block(a, &buf, &size, &offset);
    if (r == ARCHIVE_EOF) return out;
    if (r < ARCHIVE_WARN) return sys::Error::invalid("read " + name + ": " + archive_error_string(a));
    if (out.size() + size > kMaxDocumentSize) return sys::Error(EFBIG, name + " is larger than 8 MiB");
    out.append(static_cast<const char*>(buf), size);
  }
}

// Streams the current member into the store, verified against `expected`
// when the member is named by its digest.
sys::Result<ArchiveBlob> storeMember(struct archive* a, const store::ContentStore& store,
                                     std::optional<store::Digest> expected, int64_t size) {
  std::unique_ptr<store::BlobWriter> w;
  if (expected) {
    w = BERTH_TRY(store.writer(*expected, size));
  } else {
    w = BERTH_TRY(store.ingester(size));
  }
  ArchiveBlob blob;
  bool first = true;
  const void* buf;
  size_t n;
  la_int64_t offset;
  for (;;) {
    int r = archive_read_data_block(a, &buf, &n, &offset);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) return sys::Error::invalid(std::string("read: ") + archive_error_string(a));
    if (static_cast<uint64_t>(offset) != w->written()) return sys::Error::invalid("sparse members are not supported");
    if (first && n > 0) {
      blob.compression = sniff(static_cast<const unsigned char*>(buf), n);
      first = false;
    }
    BERTH_TRY(w->write(buf, n));
  }
  BERTH_TRY(w->commit());
  blob.digest = *w->committed();
  blob.size = w->written();
  return blob;
}

sys::Result<void> scanEntry(struct archive* a, struct archive_entry* entry, const store::ContentStore& store,
                            ArchiveScan& scan) {
  const char* raw = archive_entry_pathname(entry);
  if (!raw) return sys::Error::invalid("member with an unreadable name");
  std::string name = BERTH_TRY(cleanMemberName(raw));
  auto ctx = [&](sys::Error e) { return std::move(e).context("member \"" + name + "\""); };

  if (const char* hard = archive_entry_hardlink(entry)) {
    auto target = cleanMemberName(hard);
    if (!target) return ctx(std::move(target).error().context("hard link target"));
    scan.links[name] = *target;
    return sys::ok();
  }
  switch (archive_entry_filetype(entry)) {
    case AE_IFDIR:
      return sys::ok();
    case AE_IFLNK: {
      const char* target = archive_entry_symlink(entry);
      auto resolved = resolveSymlinkTarget(name, target ? target : "");
      if (!resolved) return ctx(std::move(resolved).error());
      scan.links[name] = *resolved;
      return sys::ok();
    }
    case AE_IFREG:
      break;
    default:
      return ctx(sys::Error::invalid("unexpected member type (only files, directories and links belong here)"));
  }
  int64_t size = archive_entry_size_is_set(entry) ? archive_entry_size(entry) : -1;
  if (isDocument(name)) {
    auto text = readDocumentData(a, name);
    if (!text) return ctx(std::move(text).error());
    scan.documents[name] = std::move(*text);
    return sys::ok();
  }
  if (!isContentCandidate(name)) return sys::ok();  // libarchive skips unread data itself
  std::optional<store::Digest> expected;
  if (name.substr(0, kBlobDir.size()) == kBlobDir) {
    auto digest = store::Digest::parse("sha256:" + name.substr(kBlobDir.size()));
    if (!digest) return ctx(sys::Error::invalid("blob name is not a sha256 digest"));
    expected = *digest;
    // Already verified in the store: no need to hash it again.
    if (store.has(*expected)) {
      auto stored = BERTH_TRY(store.size(*expected));
      if (size < 0 || static_cast<uint64_t>(size) == stored) {
        scan.blobs[name] = ArchiveBlob{*expected, stored, BERTH_TRY(sniffStored(store, *expected))};
        return sys::ok();
      }
    }
  }
  auto blob = storeMember(a, store, expected, size);
  if (!blob) return ctx(std::move(blob).error());
  scan.blobs[name] = *blob;
  return sys::ok();
}

}  // namespace

sys::Result<std::string> cleanMemberName(std::string_view name) {
  if (name.empty()) return sys::Error::invalid("member with an empty name");
  if (name[0] == '/') {
    return sys::Error::invalid("member \"" + std::string(name) + "\": absolute names are not allowed");
  }
  std::vector<std::string_view> parts;
  for (auto c : components(name)) {
    if (c == ".") continue;
    if (c == "..") {
      return sys::Error::invalid("member \"" + std::string(name) +
                                 "\": \"..\" components are not allowed (it would name a file outside the archive)");
    }
    parts.push_back(c);
  }
  if (parts.empty()) return std::string(".");
  return join(parts);
}

sys::Result<ArchiveBlob> ArchiveScan::resolve(const std::string& name) const {
  std::string cur = BERTH_TRY(cleanMemberName(name));
  for (int hop = 0; hop <= kMaxLinkHops; ++hop) {
    if (auto it = blobs.find(cur); it != blobs.end()) return it->second;
    auto link = links.find(cur);
    if (link == links.end()) return sys::Error(ENOENT, "member \"" + name + "\" is not in the archive");
    cur = link->second;
  }
  return sys::Error(ELOOP, "member \"" + name + "\": too many levels of links");
}

sys::Result<ArchiveScan> scanArchive(const store::ContentStore& store, const std::string& path) {
  ArchivePtr a(archive_read_new());
  if (!a) return sys::Error(ENOMEM, "archive_read_new");
  archive_read_support_format_tar(a.get());
  archive_read_support_format_gnutar(a.get());
  // What `docker save`, `podman save` and `skopeo copy` write (plain tar),
  // and what people compress them with; not every filter libarchive has
  // (lz4, lzip, uu...), which would pull their libraries into berthd.
  archive_read_support_filter_gzip(a.get());
  archive_read_support_filter_zstd(a.get());
  archive_read_support_filter_xz(a.get());
  archive_read_support_filter_bzip2(a.get());
  if (archive_read_open_filename(a.get(), path.c_str(), 1 << 16) != ARCHIVE_OK) {
    return sys::Error(archive_errno(a.get()), "open archive " + path + ": " + archive_error_string(a.get()));
  }
  ArchiveScan scan;
  for (;;) {
    struct archive_entry* entry;
    int r = archive_read_next_header(a.get(), &entry);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) {
      return sys::Error::invalid(std::string("read archive: ") + archive_error_string(a.get()));
    }
    BERTH_TRY(scanEntry(a.get(), entry, store, scan));
  }
  return scan;
}

}  // namespace berth::image::oci
