// Removing a container directory without ever leaving it. The tree holds
// whatever the container wrote (its upper dir): symlinks to /etc, deep
// nests deeper than PATH_MAX, directories with mode 000. Removal is
// descriptor-relative, never follows a symlink, and refuses to descend into
// anything mounted inside the tree (a rootfs still mounted, a volume),
// rather than deleting through it.
#pragma once

#include <string>

#include "runtime/sys/result.h"

namespace berth::storage::rootfs {

// rm -rf `path` (the final component is not followed if it is a symlink;
// a missing path is fine). EBUSY when a mount point is found inside.
sys::Result<void> removeTree(const std::string& path);

}  // namespace berth::storage::rootfs
