// The content store: see content_store.h.
//
// Layout under the data root:
//   blobs/sha256/<hex>   published, verified blobs (mode 0444)
//   blobs/tmp/           writers' temp files; a blob only leaves tmp/ by a
//                        rename after its digest and size were checked, so a
//                        reader never sees partial or unverified content.
//   blobs/gc.lock        shared by writers, exclusive for garbage collection
#include "image/store/content_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>

#include "runtime/sys/fs.h"

namespace berth::image::store {
using sys::Result;
namespace {

constexpr size_t kHexLen = 64;
constexpr std::string_view kPrefix = "sha256:";

bool isLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string sizeText(uint64_t n) { return std::to_string(n) + (n == 1 ? " byte" : " bytes"); }

Result<void> fsyncDir(const std::string& dir) {
  sys::UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return sys::Error::fromErrno("open " + dir);
  if (::fsync(fd.get()) < 0) return sys::Error::fromErrno("fsync " + dir);
  return sys::ok();
}

// A unique temp name: pid + a random suffix, so two processes (or threads)
// writing the same blob never share a temp file.
std::string tempName(std::string_view hint) {
  static thread_local std::mt19937_64 rng(std::random_device{}() ^ static_cast<uint64_t>(::getpid()));
  char suffix[17];
  std::snprintf(suffix, sizeof(suffix), "%016llx", static_cast<unsigned long long>(rng()));
  std::string name(hint.substr(0, 16));
  name += '.';
  name += std::to_string(::getpid());
  name += '.';
  name += suffix;
  return name;
}

class FileBlobWriter final : public BlobWriter {
 public:
  FileBlobWriter(std::string root, std::optional<Digest> expected, int64_t expectedSize,
                 sys::UniqueFd fd, std::string tmpPath)
      : root_(std::move(root)), expected_(std::move(expected)), expectedSize_(expectedSize),
        fd_(std::move(fd)), tmpPath_(std::move(tmpPath)) {}

  ~FileBlobWriter() override {
    // An uncommitted (failed or abandoned) write leaves nothing behind.
    if (!tmpPath_.empty()) ::unlink(tmpPath_.c_str());
  }

  Result<void> write(const void* data, size_t len) override {
    if (!fd_) return sys::Error(EBADF, "write blob " + what() + ": writer already committed or failed");
    // A hostile source announcing a size must not be able to fill the disk.
    if (expectedSize_ >= 0 && written_ + len > static_cast<uint64_t>(expectedSize_)) {
      return fail(sys::Error::invalid("blob " + what() + ": size mismatch: expected " +
                                      sizeText(static_cast<uint64_t>(expectedSize_)) +
                                      ", got more than that"));
    }
    auto* p = static_cast<const char*>(data);
    size_t left = len;
    while (left > 0) {
      ssize_t n = ::write(fd_.get(), p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        return fail(sys::Error::fromErrno("write " + tmpPath_));
      }
      p += n;
      left -= static_cast<size_t>(n);
    }
    hash_.update(data, len);
    written_ += len;
    return sys::ok();
  }

  Result<void> commit() override {
    if (!fd_) return sys::Error(EBADF, "commit blob " + what() + ": writer already committed or failed");
    Digest actual = hash_.finish();
    if (expectedSize_ >= 0 && written_ != static_cast<uint64_t>(expectedSize_)) {
      return fail(sys::Error::invalid("blob " + what() + ": size mismatch: expected " +
                                      sizeText(static_cast<uint64_t>(expectedSize_)) + ", got " +
                                      sizeText(written_) + " (digest " + actual.str() + ")"));
    }
    if (expected_ && actual != *expected_) {
      return fail(sys::Error::invalid("blob digest mismatch: expected " + expected_->str() + " (" +
                                      expectedSizeText() + "), got " + actual.str() + " (" +
                                      sizeText(written_) + ")"));
    }
    if (::fchmod(fd_.get(), 0444) < 0) return fail(sys::Error::fromErrno("chmod " + tmpPath_));
    if (::fsync(fd_.get()) < 0) return fail(sys::Error::fromErrno("fsync " + tmpPath_));
    fd_.reset();
    std::string dir = root_ + "/blobs/sha256";
    std::string final = dir + "/" + std::string(actual.hex());
    // Two writers of the same blob both get here with identical verified
    // bytes; rename is atomic, so readers see one complete copy or the other.
    if (::rename(tmpPath_.c_str(), final.c_str()) < 0) {
      return fail(sys::Error::fromErrno("rename " + tmpPath_ + " to " + final));
    }
    tmpPath_.clear();
    committed_ = actual;
    return fsyncDir(dir);
  }

  uint64_t written() const override { return written_; }
  std::optional<Digest> committed() const override { return committed_; }

 private:
  std::string what() const { return expected_ ? expected_->str() : std::string("(digest unknown)"); }
  std::string expectedSizeText() const {
    return expectedSize_ >= 0 ? sizeText(static_cast<uint64_t>(expectedSize_)) : "size unknown";
  }
  sys::Error fail(sys::Error e) {
    fd_.reset();
    if (!tmpPath_.empty()) ::unlink(tmpPath_.c_str());
    tmpPath_.clear();
    return e;
  }

  std::string root_;
  std::optional<Digest> expected_;
  int64_t expectedSize_;
  sys::UniqueFd fd_;
  std::string tmpPath_;
  Sha256 hash_;
  uint64_t written_ = 0;
  std::optional<Digest> committed_;
};

}  // namespace

// ---- Digest ----

Result<Digest> Digest::parse(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return sys::Error::invalid("invalid digest \"" + std::string(text.substr(0, 100)) + "\": " +
                               std::string(why));
  };
  if (text.substr(0, kPrefix.size()) != kPrefix) return bad("expected \"sha256:\" followed by 64 hex digits");
  std::string_view hex = text.substr(kPrefix.size());
  if (hex.size() != kHexLen) return bad("expected 64 hex digits after \"sha256:\"");
  if (!isLowerHex(hex)) return bad("expected lowercase hex digits after \"sha256:\"");
  Digest d;
  d.text_ = std::string(text);
  return d;
}

Digest Digest::ofSha256Hex(std::string hex) {
  // A contract, not input validation: callers pass hex they computed. A
  // Digest that could hold "../x" would defeat the point of the type.
  if (hex.size() != kHexLen || !isLowerHex(hex)) std::abort();
  Digest d;
  d.text_ = std::string(kPrefix) + hex;
  return d;
}

// ---- Sha256 ----

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_ || EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), EVP_sha256(), nullptr) != 1) std::abort();
}

Sha256::~Sha256() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }

void Sha256::update(const void* data, size_t len) {
  if (len > 0) EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data, len);
}

Digest Sha256::finish() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), md, &n);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * n);
  for (unsigned i = 0; i < n; ++i) {
    hex += kHex[md[i] >> 4];
    hex += kHex[md[i] & 0xf];
  }
  // Ready for another message.
  EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), EVP_sha256(), nullptr);
  return Digest::ofSha256Hex(std::move(hex));
}

Digest sha256Of(std::string_view data) {
  Sha256 h;
  h.update(data.data(), data.size());
  return h.finish();
}

// ---- ContentStore ----

Result<ContentStore> ContentStore::open(const std::string& root) {
  if (root.empty()) return sys::Error::invalid("open content store: empty data root");
  BERTH_TRY_CTX(sys::mkdirAll(root + "/blobs/sha256", 0755), "open content store at " + root);
  BERTH_TRY_CTX(sys::mkdirAll(root + "/blobs/tmp", 0700), "open content store at " + root);
  return ContentStore(root);
}

bool ContentStore::has(const Digest& d) const {
  struct stat st;
  return ::stat(blobPath(d).c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string ContentStore::blobPath(const Digest& d) const {
  return root_ + "/blobs/sha256/" + std::string(d.hex());
}

Result<sys::UniqueFd> ContentStore::openBlob(const Digest& d) const {
  std::string path = blobPath(d);
  sys::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) {
    if (errno == ENOENT) return sys::Error(ENOENT, "blob " + d.str() + " is not in the content store");
    return sys::Error::fromErrno("open blob " + path);
  }
  return fd;
}

Result<uint64_t> ContentStore::size(const Digest& d) const {
  auto fd = BERTH_TRY(openBlob(d));
  struct stat st;
  if (::fstat(fd.get(), &st) < 0) return sys::Error::fromErrno("stat blob " + d.str());
  return static_cast<uint64_t>(st.st_size);
}

Result<std::string> ContentStore::readBlob(const Digest& d, uint64_t maxSize) const {
  auto fd = BERTH_TRY(openBlob(d));
  struct stat st;
  if (::fstat(fd.get(), &st) < 0) return sys::Error::fromErrno("stat blob " + d.str());
  if (static_cast<uint64_t>(st.st_size) > maxSize) {
    return sys::Error(EFBIG, "blob " + d.str() + " is " + sizeText(static_cast<uint64_t>(st.st_size)) +
                                 ", more than the " + sizeText(maxSize) + " allowed here");
  }
  std::string out(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < out.size()) {
    ssize_t n = ::read(fd.get(), out.data() + got, out.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys::Error::fromErrno("read blob " + d.str());
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  out.resize(got);
  return out;
}

Result<void> ContentStore::verify(const Digest& d) const {
  auto fd = BERTH_TRY(openBlob(d));
  Sha256 h;
  char buf[1 << 16];
  uint64_t total = 0;
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys::Error::fromErrno("read blob " + d.str());
    }
    if (n == 0) break;
    h.update(buf, static_cast<size_t>(n));
    total += static_cast<uint64_t>(n);
  }
  Digest actual = h.finish();
  if (actual != d) {
    return sys::Error::invalid("blob " + blobPath(d) + " is corrupt: expected " + d.str() + ", got " +
                               actual.str() + " (" + sizeText(total) + ")");
  }
  return sys::ok();
}

Result<std::unique_ptr<BlobWriter>> ContentStore::makeWriter(std::optional<Digest> expected,
                                                             int64_t expectedSize) const {
  std::string hint = expected ? std::string(expected->hex()) : std::string("ingest");
  std::string tmp = root_ + "/blobs/tmp/" + tempName(hint);
  sys::UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd) return sys::Error::fromErrno("create temp blob " + tmp);
  return std::unique_ptr<BlobWriter>(
      new FileBlobWriter(root_, std::move(expected), expectedSize, std::move(fd), std::move(tmp)));
}

Result<std::unique_ptr<BlobWriter>> ContentStore::writer(const Digest& expected, int64_t expectedSize) const {
  return makeWriter(expected, expectedSize);
}

Result<std::unique_ptr<BlobWriter>> ContentStore::ingester(int64_t expectedSize) const {
  return makeWriter(std::nullopt, expectedSize);
}

Result<void> ContentStore::put(const Digest& expected, std::string_view content) const {
  Digest actual = sha256Of(content);
  if (actual != expected) {
    return sys::Error::invalid("blob digest mismatch: expected " + expected.str() + ", got " + actual.str() +
                               " (" + sizeText(content.size()) + ")");
  }
  if (has(expected)) return sys::ok();
  auto w = BERTH_TRY(writer(expected, static_cast<int64_t>(content.size())));
  BERTH_TRY(w->write(content.data(), content.size()));
  return w->commit();
}

Result<Digest> ContentStore::putAny(std::string_view content) const {
  Digest d = sha256Of(content);
  BERTH_TRY(put(d, content));
  return d;
}

Result<void> ContentStore::remove(const Digest& d) const {
  std::string path = blobPath(d);
  if (::unlink(path.c_str()) < 0 && errno != ENOENT) return sys::Error::fromErrno("remove blob " + path);
  return sys::ok();
}

Result<std::vector<Digest>> ContentStore::list() const {
  std::string dir = root_ + "/blobs/sha256";
  DIR* dp = ::opendir(dir.c_str());
  if (!dp) return sys::Error::fromErrno("list " + dir);
  std::vector<Digest> out;
  while (struct dirent* e = ::readdir(dp)) {
    std::string_view name(e->d_name);
    if (name.size() != kHexLen || !isLowerHex(name)) continue;  // not a blob (stray file)
    out.push_back(Digest::ofSha256Hex(std::string(name)));
  }
  ::closedir(dp);
  std::sort(out.begin(), out.end());
  return out;
}

Result<uint64_t> ContentStore::removeStaleTemps(int64_t olderThanSeconds) const {
  std::string dir = root_ + "/blobs/tmp";
  DIR* dp = ::opendir(dir.c_str());
  if (!dp) return sys::Error::fromErrno("list " + dir);
  uint64_t freed = 0;
  time_t now = ::time(nullptr);
  while (struct dirent* e = ::readdir(dp)) {
    std::string_view name(e->d_name);
    if (name == "." || name == "..") continue;
    struct stat st;
    if (::fstatat(::dirfd(dp), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) continue;
    if (now - st.st_mtime < olderThanSeconds) continue;  // a writer may still be streaming into it
    if (::unlinkat(::dirfd(dp), e->d_name, 0) == 0) freed += static_cast<uint64_t>(st.st_size);
  }
  ::closedir(dp);
  return freed;
}

// ---- StoreLock ----

Result<StoreLock> StoreLock::acquire(const std::string& root, Mode mode) {
  std::string path = root + "/blobs/gc.lock";
  sys::UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd) return sys::Error::fromErrno("open " + path);
  int op = mode == Mode::kExclusive ? LOCK_EX : LOCK_SH;
  while (::flock(fd.get(), op) < 0) {
    if (errno != EINTR) return sys::Error::fromErrno("lock " + path);
  }
  return StoreLock(std::move(fd));
}

}  // namespace berth::image::store
