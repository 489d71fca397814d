// The content store: blobs (manifests, configs, layers) addressed by their
// sha256 digest under <root>/blobs/sha256/<hex>.
//
// A blob becomes visible only once its content has been verified against the
// digest it was announced with: writers stream into a temp file, the digest
// is computed on the way (OpenSSL EVP), and commit() fsyncs and renames. Two
// processes writing the same blob race harmlessly: both verify, the second
// rename replaces identical bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/sys/fd.h"
#include "runtime/sys/result.h"

namespace berth::image::store {

// "sha256:<64 hex>" — validated on construction, so a Digest never holds a path trick.
class Digest {
 public:
  static sys::Result<Digest> parse(std::string_view text);
  static Digest ofSha256Hex(std::string hex);  // hex must be 64 lowercase hex chars
  const std::string& str() const { return text_; }   // "sha256:..."
  std::string_view hex() const { return std::string_view(text_).substr(7); }
  bool operator==(const Digest&) const = default;
  bool operator<(const Digest& o) const { return text_ < o.text_; }

 private:
  std::string text_;
};

// Streaming sha256 (OpenSSL EVP).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, size_t len);
  Digest finish();

 private:
  void* ctx_;
};

class BlobWriter {
 public:
  virtual ~BlobWriter() = default;
  virtual sys::Result<void> write(const void* data, size_t len) = 0;
  // Verifies size (when known) and digest, then publishes the blob. On any
  // mismatch nothing is published and the error names both digests.
  virtual sys::Result<void> commit() = 0;
  virtual uint64_t written() const = 0;
  // The digest the blob was published under, once commit() succeeded.
  virtual std::optional<Digest> committed() const { return std::nullopt; }
};

// sha256 of a byte string held in memory.
Digest sha256Of(std::string_view data);

class ContentStore {
 public:
  // `root` is the data root (e.g. /var/lib/berth); blobs live in root/blobs.
  static sys::Result<ContentStore> open(const std::string& root);

  bool has(const Digest& d) const;
  std::string blobPath(const Digest& d) const;
  sys::Result<std::string> readBlob(const Digest& d, uint64_t maxSize = 64 << 20) const;
  sys::Result<sys::UniqueFd> openBlob(const Digest& d) const;
  // expectedSize: -1 when unknown.
  sys::Result<std::unique_ptr<BlobWriter>> writer(const Digest& expected, int64_t expectedSize) const;
  // Convenience: verify and store a small blob held in memory.
  sys::Result<void> put(const Digest& expected, std::string_view content) const;
  sys::Result<void> remove(const Digest& d) const;
  sys::Result<std::vector<Digest>> list() const;
  const std::string& root() const { return root_; }

  // Added by the store implementation (not in the original interface):
  // A writer for content whose digest is learnt by hashing it (docker-archive
  // members, synthesized manifests); committed() tells where it went.
  sys::Result<std::unique_ptr<BlobWriter>> ingester(int64_t expectedSize = -1) const;
  // Stores `content` under its own digest.
  sys::Result<Digest> putAny(std::string_view content) const;
  sys::Result<uint64_t> size(const Digest& d) const;
  // Re-hashes a stored blob (fsck); the error names both digests.
  sys::Result<void> verify(const Digest& d) const;
  // Removes temp files of writers that died (crash, kill -9) older than
  // `olderThanSeconds`; returns the bytes freed.
  sys::Result<uint64_t> removeStaleTemps(int64_t olderThanSeconds) const;

 private:
  explicit ContentStore(std::string root) : root_(std::move(root)) {}
  sys::Result<std::unique_ptr<BlobWriter>> makeWriter(std::optional<Digest> expected,
                                                      int64_t expectedSize) const;
  std::string root_;
};

// Serializes garbage collection against writers: importers and pullers hold
// it shared from their first blob write until the image is named in the
// index; GC holds it exclusive, so it never deletes a blob that is written
// but not yet referenced. An flock on <root>/blobs/gc.lock, released when the
// object dies (or the process does).
class StoreLock {
 public:
  enum class Mode { kShared, kExclusive };
  static sys::Result<StoreLock> acquire(const std::string& root, Mode mode);

 private:
  explicit StoreLock(sys::UniqueFd fd) : fd_(std::move(fd)) {}
  sys::UniqueFd fd_;
};

}  // namespace berth::image::store
