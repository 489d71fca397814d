// Running e2fsprogs on disk images: mkfs.ext4 to make a disk's filesystem
// (options: mkfsArgv in disk.h) and resize2fs to grow an unmounted one.
// Internal to storage/disk.
#pragma once

#include <cstdint>
#include <string>

#include "runtime/sys/result.h"
#include "storage/disk/disk.h"

namespace berth::storage::disk {

// Runs mkfs.ext4 on the existing image file; its stderr becomes the error.
[[nodiscard]] sys::Result<void> runMkfs(const std::string& imagePath, uint64_t bytes);

// Grows the (unmounted) ext4 filesystem in the image to `bytes`, which the
// file must already have.
[[nodiscard]] sys::Result<void> runResize2fs(const std::string& imagePath, uint64_t bytes);

}  // namespace berth::storage::disk
