// The features document that `berth-runtime features` prints (runtime-spec
// features.md): what this runtime recognises, fixed at build time, so that
// clients such as containerd and podman can tell what they may ask for.
#pragma once

#include <string>

namespace berth::runtime::config {

// Indented JSON (four spaces, as runc prints it), without a trailing newline.
std::string featuresJson();

}  // namespace berth::runtime::config
