// Loop devices for disk images: attaching an image to a free device, and
// finding the device (and its backing file) behind a mounted filesystem.
// Internal to storage/disk.
#pragma once

#include <sys/types.h>

#include <string>

#include "runtime/sys/fd.h"
#include "runtime/sys/result.h"

namespace berth::storage::disk {

struct LoopDevice {
  sys::UniqueFd fd;  // open on the device; with autoclear, closing the last
                     // reference (this fd, once nothing mounts it) frees it
  std::string path;  // /dev/loopN
};

// Attaches the open image file to a free loop device with LOOP_CONFIGURE
// (autoclear, buffered I/O). Retries when another process takes the device
// LOOP_CTL_GET_FREE returned before we configure it.
[[nodiscard]] sys::Result<LoopDevice> attachLoop(int imageFd, const std::string& imagePath);

// The backing file of the loop device `dev` ("" when `dev` is not a
// configured loop device), as /sys/dev/block/M:m/loop/backing_file shows it.
[[nodiscard]] sys::Result<std::string> loopBackingFile(dev_t dev);

// The loop device ("loopN") whose backing file is `resolvedPath` (an
// absolute path without symlinks), or "" when none is.
[[nodiscard]] sys::Result<std::string> findLoopBackedBy(const std::string& resolvedPath);

// Opens the loop device `dev` (/dev/loopN, found through sysfs).
[[nodiscard]] sys::Result<sys::UniqueFd> openLoop(dev_t dev);

}  // namespace berth::storage::disk
