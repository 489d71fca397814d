// The pure decisions of layer unpack: how an archive path becomes a place
// inside the layer directory, and which names are OCI whiteouts. No system
// calls here, so every rule is unit-tested without a filesystem.
//
// Layer tar paths are untrusted. The image-spec says they are relative;
// docker and containerd accept "/x" as "x", and so do we, but a ".."
// component is refused outright rather than cleaned: a layer that needs one
// is either broken or an attack, and refusing keeps the rule simple to audit.
#pragma once

#include <string>
#include <string_view>

#include "runtime/sys/result.h"

namespace berth::image::unpack {

// An archive path split into its parent directory and final name, both
// relative to the layer root: "usr/bin/ls" -> {"usr/bin", "ls"}. The root
// itself ("", "/", "./") has an empty dir and an empty name.
struct EntryPath {
  std::string dir;   // "" for the layer root
  std::string name;  // "" only for the root itself
  bool isRoot() const { return name.empty(); }
  std::string full() const { return dir.empty() ? name : dir + "/" + name; }
};

// Normalizes an archive path: leading "/" and "./" are dropped, "." and empty
// components are removed. A ".." component anywhere is an error, as is a
// path longer than PATH_MAX.
sys::Result<EntryPath> parseEntryPath(std::string_view raw);

// What an entry's name means to overlayfs (image-spec layer.md, "Whiteouts").
enum class WhiteoutKind {
  kNone,     // an ordinary entry
  kOpaque,   // ".wh..wh..opq": hide everything below this directory in lower layers
  kFile,     // ".wh.<name>": <name> was deleted
  kIgnored,  // other ".wh..wh.*" names: aufs bookkeeping, skipped
};
struct Whiteout {
  WhiteoutKind kind = WhiteoutKind::kNone;
  std::string target;  // kFile: the name that is whited out
};

// Classifies a final path component. A ".wh." name whose target would be
// "", "." or ".." is an error.
sys::Result<Whiteout> classifyWhiteout(std::string_view name);

inline constexpr std::string_view kWhiteoutPrefix = ".wh.";
inline constexpr std::string_view kOpaqueMarker = ".wh..wh..opq";

}  // namespace berth::image::unpack
