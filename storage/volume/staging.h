// Filling a volume all at once: copy-up and import write into a hidden
// staging directory inside the volume's data dir (same filesystem, so the
// final moves are renames) and move its children into place only when
// everything was written, so a failure leaves the volume as it was: empty.
#pragma once

#include <functional>
#include <string>

#include "runtime/sys/result.h"

namespace berth::storage::volume {

// Name prefix of staging directories; one left by a crash is removed by the
// next isEmptyData (callers hold the store lock, so none is in use then).
inline constexpr const char* kStagingPrefix = ".berth-staging-";

// Whether the data dir holds nothing (staging leftovers are removed first;
// on a size-limited volume an empty "lost+found" made by mkfs does not count).
[[nodiscard]] sys::Result<bool> isEmptyData(int dataFd, const std::string& dataPath, bool sizeLimited);

// Makes a staging dir in the data dir, runs `fill(stagingFd, stagingPath)`
// (stagingPath has no symlink in it), then moves what it wrote into the
// data dir. On failure the staging dir is removed and the error returned.
[[nodiscard]] sys::Result<void> fillFromStaging(
    int dataFd, const std::string& dataPath,
    const std::function<sys::Result<void>(int stagingFd, const std::string& stagingPath)>& fill);

}  // namespace berth::storage::volume
