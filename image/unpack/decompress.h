// Streaming decompression of a layer blob read from a file descriptor:
// gzip (isa-l's igzip, several times faster than zlib's inflate), zstd
// (libzstd) or none. The format is found from the first bytes (magic), so a
// docker-archive layer labelled "tar.gzip" but stored plain still unpacks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "runtime/sys/result.h"

namespace berth::image::unpack {

enum class Compression { kNone, kGzip, kZstd };

std::string_view compressionName(Compression c);

// The compression the first bytes of a blob announce: gzip 1f 8b, zstd
// 28 b5 2f fd, anything else is taken as a plain tar.
Compression detectCompression(const uint8_t* head, size_t len);

// Refuses layer media types berth cannot unpack (encrypted layers, foreign
// formats). An empty media type, or any tar / tar+gzip / tar+zstd type of
// OCI or Docker, is accepted; the bytes then decide the compression.
sys::Result<void> checkLayerMediaType(std::string_view mediaType);

class Decompressor {
 public:
  // Reads the first bytes of `fd` to pick the format. The descriptor is
  // borrowed and read sequentially from its current offset (a pipe works).
  static sys::Result<std::unique_ptr<Decompressor>> open(int fd, size_t inputChunk = 1 << 20);
  virtual ~Decompressor() = default;

  // Fills `out` with up to `cap` bytes of the uncompressed stream; returns 0
  // only at its end. Truncated or corrupt input is an error.
  virtual sys::Result<size_t> read(uint8_t* out, size_t cap) = 0;

  virtual Compression compression() const = 0;
  // Bytes consumed from the descriptor so far.
  virtual uint64_t compressedBytes() const = 0;
};

}  // namespace berth::image::unpack
