// Copy-up of an image directory into a volume: regular files, directories,
// symlinks, device nodes, fifos and sockets as they are, with owners, modes,
// xattrs and times. The source is a container's rootfs (untrusted image
// content): the walk is descriptor-relative and never follows a symlink or
// crosses a mount. Hard links are copied as separate files.
#pragma once

#include <string>

#include "runtime/sys/result.h"

namespace berth::storage::volume {

// Copies the contents of the open directory `srcDir` into the (empty) open
// directory `dstDir`; `where` names the source in errors. The attributes of
// the two directories themselves are left to the caller.
[[nodiscard]] sys::Result<void> copyTree(int srcDir, int dstDir, const std::string& where);

}  // namespace berth::storage::volume
