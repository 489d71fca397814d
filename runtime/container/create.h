// `create`: the runtime (parent) side of starting a container, up to the
// point where its init waits for `start`. Also `start` itself.
#pragma once

#include <sys/types.h>

#include <string>

#include "runtime/container/state.h"
#include "runtime/sys/fd.h"
#include "runtime/sys/result.h"

namespace berth::runtime::container {

struct CreateOptions {
  std::string id;
  std::string bundle;
  std::string stateRoot = kDefaultStateRoot;
  std::string pidFile;
  std::string consoleSocket;  // unix socket that receives the pty master
  bool noPivot = false;
  bool noNewKeyring = false;
  int preserveFds = 0;
  // `run` in the foreground keeps the init as its own child and may pass the
  // console socket as an already connected fd instead of a path.
  int consoleSocketFd = -1;
};

struct CreatedContainer {
  State state;
  sys::UniqueFd pidfd;
};

// Everything or nothing: on failure no state dir, cgroup, mount or process is left.
sys::Result<CreatedContainer> createContainer(const CreateOptions& options);

// Lets a created container's init exec the user's process, then runs the
// poststart hooks (a failing one is a warning, printed to `warnings`).
sys::Result<void> startContainer(const std::string& stateRoot, const std::string& id,
                                 std::string* warnings);

}  // namespace berth::runtime::container
