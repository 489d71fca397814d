// unpackLayer: the blob is inflated (tar_stream), parsed by libarchive from
// our own read callback (its built-in decompression filters are slower than
// isa-l), and each entry handed to the TreeWriter.
#include "image/unpack/unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <unistd.h>

#include <memory>
#include <optional>

#include "image/unpack/tar_stream.h"
#include "image/unpack/tree_writer.h"

namespace berth::image::unpack {
namespace {

struct ArchiveFree {
  void operator()(struct archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<struct archive, ArchiveFree>;

// What libarchive's read callback needs, and the error it could not carry.
struct Feed {
  TarStream* stream;
  std::optional<sys::Error> error;
};

la_ssize_t readCallback(struct archive* a, void* client, const void** buffer) {
  auto* feed = static_cast<Feed*>(client);
  auto piece = feed->stream->next();
  if (!piece) {
    feed->error = std::move(piece).error();
    archive_set_error(a, EIO, "layer stream failed");
    return -1;
  }
  *buffer = piece->data();
  return static_cast<la_ssize_t>(piece->size());
}

sys::Error archiveError(struct archive* a, const Feed& feed, const std::string& what) {
  if (feed.error) return sys::Error(*feed.error).context(what);
  const char* text = archive_error_string(a);
  return sys::Error::invalid(what + ": " + (text ? text : "malformed tar"));
}

class ArchiveData final : public DataSource {
 public:
  ArchiveData(struct archive* a, const Feed& feed) : a_(a), feed_(feed) {}
  sys::Result<bool> nextBlock(const void** data, size_t* len, int64_t* offset) override {
    la_int64_t off = 0;
    int rc = archive_read_data_block(a_, data, len, &off);
    if (rc == ARCHIVE_EOF) return false;
    if (rc < ARCHIVE_WARN) return archiveError(a_, feed_, "read file data");
    *offset = off;
    return true;
  }

 private:
  struct archive* a_;
  const Feed& feed_;
};

const char* pathOf(struct archive_entry* e) {
  const char* p = archive_entry_pathname(e);
  return p ? p : archive_entry_pathname_utf8(e);
}

// Fills `out` from the header; false for entry types a layer cannot hold
// meaningfully (sockets), which are skipped.
sys::Result<bool> readEntry(struct archive_entry* ae, Entry& out) {
  const char* path = pathOf(ae);
  if (path == nullptr) return sys::Error::invalid("entry without a path");
  out.path = path;
  out.link.clear();
  out.xattrs.clear();
  if (const char* hard = archive_entry_hardlink(ae)) {
    out.type = EntryType::kHardlink;
    out.link = hard;
  } else {
    switch (archive_entry_filetype(ae)) {
      case AE_IFREG:
        out.type = EntryType::kFile;
        break;
      case AE_IFDIR:
        out.type = EntryType::kDir;
        break;
      case AE_IFLNK:
        out.type = EntryType::kSymlink;
        break;
      case AE_IFCHR:
        out.type = EntryType::kCharDevice;
        break;
      case AE_IFBLK:
        out.type = EntryType::kBlockDevice;
        break;
      case AE_IFIFO:
        out.type = EntryType::kFifo;
        break;
      default:
        return false;
    }
    if (out.type == EntryType::kSymlink) {
      const char* target = archive_entry_symlink(ae);
      if (target == nullptr) target = archive_entry_symlink_utf8(ae);
      if (target == nullptr) return sys::Error::invalid("symlink " + out.path + " has no target");
      out.link = target;
    }
  }
  la_int64_t uid = archive_entry_uid(ae);
  la_int64_t gid = archive_entry_gid(ae);
  if (uid < 0 || gid < 0 || uid >= UINT32_MAX || gid >= UINT32_MAX) {
    return sys::Error::invalid("entry " + out.path + " has an invalid owner");
  }
  out.uid = static_cast<uint32_t>(uid);
  out.gid = static_cast<uint32_t>(gid);
  out.mode = archive_entry_perm(ae) & 07777;
  out.size = archive_entry_size(ae);
  out.rdev = archive_entry_rdev(ae);
  out.mtime = {archive_entry_mtime(ae), archive_entry_mtime_nsec(ae)};
  out.atime = archive_entry_atime_is_set(ae)
                  ? timespec{archive_entry_atime(ae), archive_entry_atime_nsec(ae)}
                  : out.mtime;
  if (out.mtime.tv_nsec < 0 || out.mtime.tv_nsec > 999999999) out.mtime.tv_nsec = 0;
  if (out.atime.tv_nsec < 0 || out.atime.tv_nsec > 999999999) out.atime.tv_nsec = 0;
  if (archive_entry_xattr_reset(ae) > 0) {
    const char* name;
    const void* value;
    size_t size;
    while (archive_entry_xattr_next(ae, &name, &value, &size) == ARCHIVE_OK) {
      out.xattrs.emplace_back(name, std::string(static_cast<const char*>(value), size));
    }
  }
  return true;
}

sys::Result<uint64_t> extractAll(TarStream& stream, TreeWriter& writer) {
  ArchivePtr a(archive_read_new());
  if (!a) return sys::Error(ENOMEM, "create tar reader");
  // Only tar: a layer is a tar stream, whatever else libarchive could parse.
  archive_read_support_format_tar(a.get());
  archive_read_support_format_empty(a.get());
  Feed feed{&stream, std::nullopt};
  if (archive_read_open(a.get(), &feed, nullptr, readCallback, nullptr) != ARCHIVE_OK) {
    return archiveError(a.get(), feed, "read tar");
  }
  Entry entry;
  uint64_t count = 0;
  for (;;) {
    struct archive_entry* ae = nullptr;
    int rc = archive_read_next_header(a.get(), &ae);
    if (rc == ARCHIVE_EOF) break;
    if (rc < ARCHIVE_WARN) return archiveError(a.get(), feed, "read tar header");
    if (!BERTH_TRY(readEntry(ae, entry))) continue;
    ArchiveData data(a.get(), feed);
    BERTH_TRY(writer.apply(entry, data));
    ++count;
  }
  return count;
}

}  // namespace

sys::Result<UnpackResult> unpackLayer(int blobFd, const std::string& mediaType,
                                      const std::string& destDir, const UnpackOptions& options) {
  const std::string what = "unpack layer into " + destDir;
  BERTH_TRY_CTX(checkLayerMediaType(mediaType), what);
  auto source = BERTH_TRY_CTX(Decompressor::open(blobFd, options.chunkSize), what);
  TarStream stream(std::move(source), options.chunkSize, options.chunks, options.pipeline);
  WriterOptions wopts;
  wopts.chown = options.chown.value_or(::geteuid() == 0);
  wopts.userXattrs = options.userXattrs;
  wopts.threads = options.writerThreads;
  auto writer = BERTH_TRY_CTX(TreeWriter::open(destDir, wopts), what);
  UnpackResult result;
  result.entries = BERTH_TRY_CTX(extractAll(stream, *writer), what);
  BERTH_TRY_CTX(writer->finish(), what);
  result.diffId = BERTH_TRY_CTX(stream.finish(), what);
  result.compression = stream.compression();
  result.compressedSize = stream.compressedBytes();
  result.uncompressedSize = stream.uncompressedBytes();
  if (!options.expectedDiffId.empty() && options.expectedDiffId != result.diffId) {
    return sys::Error::invalid(what + ": layer DiffID is " + result.diffId + ", the image says " +
                               options.expectedDiffId);
  }
  return result;
}

}  // namespace berth::image::unpack
