// unpack_bench: gets every layer of an image on disk with berth's unpacker,
// the way the agent will: ensureLayer per layer into LAYERS_ROOT/<chain id>,
// each verified against its DiffID. Built and run by hack/bench/unpack.sh
// (no CMake target: it is compiled against the build tree's static libs).
//
// Usage: unpack_bench LAYERS_TXT LAYERS_ROOT [--jobs N] [--writers N] [--durable]
//                     [--no-pipeline]
//   LAYERS_TXT: "<blob path> <chain id> <diff id> <media type>" per line
//   (hack/mkimage-big writes it). --jobs N unpacks N layers at once (layers
//   are independent directories); --writers N sets the file-creating threads
//   per layer (UnpackOptions::writerThreads, default 2); --durable syncs each
//   layer before it is published, as the agent does.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "image/unpack/unpack.h"

namespace {

struct Layer {
  std::string blob, chain, diff, media;
};

bool unpackOne(const Layer& l, const std::string& root,
               const berth::image::unpack::UnpackOptions& base) {
  int fd = ::open(l.blob.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    std::perror(l.blob.c_str());
    return false;
  }
  auto options = base;
  options.expectedDiffId = l.diff;
  auto r = berth::image::unpack::ensureLayerReport(root, l.chain, fd, l.media, options);
  ::close(fd);
  if (!r.ok()) {
    std::fprintf(stderr, "unpack_bench: %s\n", r.error().str().c_str());
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: unpack_bench LAYERS_TXT LAYERS_ROOT [--jobs N] [--durable]\n");
    return 2;
  }
  berth::image::unpack::UnpackOptions options;
  options.durable = false;
  size_t jobs = 1;
  for (int i = 3; i < argc; ++i) {
    if (std::strcmp(argv[i], "--durable") == 0) options.durable = true;
    if (std::strcmp(argv[i], "--no-pipeline") == 0) options.pipeline = false;
    if (std::strcmp(argv[i], "--jobs") == 0 && i + 1 < argc) jobs = std::stoul(argv[++i]);
    if (std::strcmp(argv[i], "--writers") == 0 && i + 1 < argc) {
      options.writerThreads = std::stoul(argv[++i]);
    }
  }
  std::vector<Layer> layers;
  std::ifstream in(argv[1]);
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    Layer l;
    if (fields >> l.blob >> l.chain >> l.diff >> l.media) layers.push_back(l);
  }
  if (layers.empty()) {
    std::fprintf(stderr, "unpack_bench: no layers in %s\n", argv[1]);
    return 2;
  }
  // Largest first, so the longest layer never starts last.
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  auto worker = [&] {
    for (size_t i; (i = next++) < layers.size();) {
      if (!unpackOne(layers[i], argv[2], options)) failed = true;
    }
  };
  std::vector<std::thread> threads;
  for (size_t j = 1; j < jobs; ++j) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  return failed ? 1 : 0;
}
