// Layer unpack: turns one OCI/Docker layer blob into a directory that
// overlayfs can stack as a lower layer.
//
// Each layer is unpacked once into its own directory (layers/<chain id>/)
// and shared read-only by every image and container using it. Whiteouts are
// therefore not applied by deleting anything: ".wh.<name>" becomes a 0:0
// character device <name> and ".wh..wh..opq" the xattr
// trusted.overlay.opaque="y" on its directory, which is what overlayfs
// itself writes and reads.
//
// Layers are untrusted. Every path is resolved inside the destination
// (openat2 RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS for parents, O_NOFOLLOW or
// *at(AT_SYMLINK_NOFOLLOW) for the final name), so ".." paths, writes through
// a symlink the layer made, hard links to anything but an earlier entry of
// the same layer, and directories swapped for symlinks mid-archive are all
// refused, and nothing outside the destination is ever touched.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "image/unpack/decompress.h"
#include "runtime/sys/result.h"

namespace berth::image::unpack {

struct UnpackOptions {
  // Apply the archive's uid/gid. Default: when running as root (an
  // unprivileged unpack keeps its own ids and skips xattrs it may not set).
  std::optional<bool> chown;
  // Mark opaque directories with user.overlay.opaque instead of
  // trusted.overlay.opaque, for overlay mounts with the "userxattr" option.
  bool userXattrs = false;
  // When set ("sha256:<hex>", from the image config's rootfs.diff_ids), a
  // layer whose uncompressed tar hashes differently is an error, and
  // ensureLayer does not publish it.
  std::string expectedDiffId;
  // Inflate on a reader thread, overlapped with writing files.
  bool pipeline = true;
  // Threads creating small regular files while the calling thread parses
  // on (creating inodes is most of an unpack's system time). On a 2-core VM
  // this measured neither faster nor slower; it is for hosts with cores to
  // spare. 0 creates every entry on the calling thread. Only used when
  // destDir is empty.
  size_t writerThreads = 2;
  size_t chunkSize = 1 << 20;
  size_t chunks = 4;
  // ensureLayer: syncfs() the new layer before it is renamed into place, so
  // a power cut cannot leave a published layer with missing data.
  bool durable = true;
};

struct UnpackResult {
  std::string diffId;  // "sha256:<hex>" of the uncompressed tar stream
  Compression compression = Compression::kNone;
  uint64_t compressedSize = 0;    // bytes read from the blob
  uint64_t uncompressedSize = 0;  // bytes of tar
  uint64_t entries = 0;
};

// Unpacks the layer read from `blobFd` (from its current offset; a pipe
// works) into the existing directory `destDir`, which should be empty. The
// compression is detected from the bytes; `mediaType` ("" = unknown) only
// rules out formats berth cannot read. On error destDir may hold a partial
// tree: the caller removes it (ensureLayer does).
sys::Result<UnpackResult> unpackLayer(int blobFd, const std::string& mediaType,
                                      const std::string& destDir,
                                      const UnpackOptions& options = {});

struct EnsuredLayer {
  std::string path;       // <layersRoot>/<chain id hex>
  bool unpacked = false;  // this call did the work (false: it was already there)
  UnpackResult result;    // filled when unpacked
};

// Makes <layersRoot>/<hex of chainId> hold the unpacked layer, exactly once:
// the layer is unpacked into a temporary directory beside it and renamed
// into place, under an flock on <layersRoot>/.<hex>.lock, so concurrent
// callers (threads or processes) unpack it once and a crashed half-unpack is
// never mistaken for a finished layer (its leftovers are removed by the next
// caller). `chainId` is "sha256:<64 hex>" or the bare hex; the directory is
// named by the hex alone, since ':' separates overlayfs lowerdir entries.
sys::Result<EnsuredLayer> ensureLayerReport(const std::string& layersRoot,
                                            const std::string& chainId, int blobFd,
                                            const std::string& mediaType,
                                            const UnpackOptions& options = {});

// ensureLayerReport, returning only the layer's directory.
sys::Result<std::string> ensureLayer(const std::string& layersRoot, const std::string& chainId,
                                     int blobFd, const std::string& mediaType,
                                     const UnpackOptions& options = {});

}  // namespace berth::image::unpack
