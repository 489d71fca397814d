// berth-pull: pulls one image into a content store with image/registry's
// pull(), for the pull benchmark (hack/bench/pull.sh) and for trying the
// library by hand. Prints the manifest digest and the transfer counters, or
// the error, on stdout/stderr.
//
// Usage: berth-pull [--ca FILE] [--insecure HOST]... [--auth FILE]
//                   [--platform OS/ARCH[/VARIANT]] [--parallel N] ROOT REFERENCE
// Build: cmake target berth-pull (see hack/bench/pull.sh for the one-off
// compile line used when the target is not in the build).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "image/registry/pull.h"

using namespace berth::image;

namespace {

int usage() {
  std::fprintf(stderr,
               "usage: berth-pull [--ca FILE] [--insecure HOST]... [--auth FILE] "
               "[--platform P] [--parallel N] ROOT REFERENCE\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  registry::PullOptions options;
  int i = 1;
  for (; i + 1 < argc && std::strncmp(argv[i], "--", 2) == 0; i += 2) {
    std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--ca") {
      options.caFile = value;
    } else if (flag == "--insecure") {
      options.insecureRegistries.push_back(value);
    } else if (flag == "--auth") {
      options.authFile = value;
    } else if (flag == "--parallel") {
      options.parallelism = std::atoi(value.c_str());
    } else if (flag == "--platform") {
      auto p = registry::Platform::parse(value);
      if (!p.ok()) {
        std::fprintf(stderr, "berth-pull: %s\n", p.error().str().c_str());
        return 2;
      }
      options.platform = *p;
    } else {
      return usage();
    }
  }
  if (argc - i != 2) return usage();
  auto ref = oci::Reference::parse(argv[i + 1]);
  if (!ref.ok()) {
    std::fprintf(stderr, "berth-pull: %s\n", ref.error().str().c_str());
    return 2;
  }
  auto store = store::ContentStore::open(argv[i]);
  if (!store.ok()) {
    std::fprintf(stderr, "berth-pull: %s\n", store.error().str().c_str());
    return 1;
  }
  auto index = store::ImageIndex::open(argv[i]);
  if (index.ok()) options.index = &*index;
  auto start = std::chrono::steady_clock::now();
  auto result = registry::pull(*ref, options, *store);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::steady_clock::now() - start).count();
  if (!result.ok()) {
    std::fprintf(stderr, "berth-pull: %s\n", result.error().str().c_str());
    return 1;
  }
  std::printf("%s %s\nlayers=%zu downloaded=%d skipped=%d bytes=%llu requests=%llu ms=%lld\n",
              result->name.c_str(), result->manifest.str().c_str(), result->layers.size(),
              result->blobsDownloaded, result->blobsSkipped,
              static_cast<unsigned long long>(result->bytesDownloaded),
              static_cast<unsigned long long>(result->requests), static_cast<long long>(ms));
  return 0;
}
