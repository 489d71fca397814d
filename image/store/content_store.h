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
};

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

 private:
  explicit ContentStore(std::string root) : root_(std::move(root)) {}
  std::string root_;
};

}  // namespace berth::image::store
