// net_attach_bench: the berth half of hack/bench/net-attach.sh. In the
// calling process's network namespace (the script puts it in a throwaway
// one) it builds one project network the way berthd will (IpamStore in a
// temp dir, ensureBridge), then attaches N containers one after the other:
// a fresh container netns each (untimed, as netavark gets its netns from
// podman), then address allocation + attachContainer, timed per container.
// It then detaches them all (timed too) and removes the bridge, the netns
// fds and the temp dir, on failure as well.
//
// Usage: net_attach_bench N [--samples FILE]
//   --samples FILE: appends one line per container, "<attach ns> 0 0", the
//   timeit data format that hack/lib/bench.sh's bench_time_stats reads.
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include "net/ipam/store.h"
#include "net/netlink/links.h"
#include "net/netlink/naming.h"
#include "net/netlink/socket.h"
#include "runtime/sys/fs.h"

namespace {

namespace ipam = berth::net::ipam;
namespace nl = berth::net::netlink;
namespace sys = berth::sys;

constexpr const char* kNetwork = "bench";

long long nowNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

// Median, p90 and the means of the first and last quarters (in ms).
void printStats(const char* what, const std::vector<long long>& ns) {
  if (ns.empty()) return;
  std::vector<long long> sorted = ns;
  std::sort(sorted.begin(), sorted.end());
  size_t n = sorted.size();
  double median = sorted[(n - 1) / 2] / 1e6;
  size_t p90 = std::max<size_t>(1, (n * 9 + 9) / 10) - 1;
  size_t quarter = std::max<size_t>(1, n / 4);
  auto mean = [&](size_t from) {
    return std::accumulate(ns.begin() + from, ns.begin() + from + quarter, 0.0) / quarter / 1e6;
  };
  std::printf("%-8s n=%zu median %.3f ms  p90 %.3f ms  first-quarter mean %.3f ms  "
              "last-quarter mean %.3f ms\n",
              what, n, median, sorted[p90] / 1e6, mean(0), mean(n - quarter));
}

struct Container {
  std::string id;
  std::string hostName;
  sys::UniqueFd netns;
  bool attached = false;
};

// Everything the run created, undone in the destructor so that an error at
// any step leaves no bridge, veth or file behind. The container netns go
// away with their fds.
struct Run {
  std::string dir;
  std::string bridgeName;
  std::vector<Container> containers;
  std::optional<nl::Socket> node;  // the socket outlives bench(): cleanup needs it

  ~Run() {
    if (node) {
      for (auto& c : containers) {
        if (c.attached) (void)nl::detachContainer(*node, c.hostName);
      }
      if (!bridgeName.empty()) (void)nl::deleteLink(*node, bridgeName);
    }
    if (!dir.empty()) (void)sys::removeAll(dir);
  }
};

struct Samples {
  std::vector<long long> attach;  // allocate + attachContainer
  std::vector<long long> ipam;    // the allocate part alone
  std::vector<long long> detach;  // detachContainer + release
};

sys::Result<void> bench(size_t count, Run& run, Samples& samples) {
  char tmpl[] = "/tmp/berth-net-attach-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return sys::Error(errno, "mkdtemp /tmp/berth-net-attach-*");
  run.dir = tmpl;
  auto store = BERTH_TRY(ipam::IpamStore::open(run.dir + "/ipam.json"));
  auto subnet = BERTH_TRY(store.ensureNetwork(kNetwork));
  auto gateway = BERTH_TRY(subnet.host(1));
  std::string prefix = "/" + std::to_string(subnet.prefixLength());

  run.node.emplace(BERTH_TRY(nl::Socket::open()));
  nl::Socket& node = *run.node;
  unsigned mtu = BERTH_TRY(nl::uplinkMtu(node));
  run.bridgeName = nl::bridgeName("bench-" + std::to_string(::getpid()));
  auto bridge = BERTH_TRY(nl::ensureBridge(node, run.bridgeName, mtu, gateway.str() + prefix));

  run.containers.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    Container& c = run.containers.emplace_back();
    c.id = "bench-" + std::to_string(::getpid()) + "-" + std::to_string(i);
    c.hostName = nl::vethHostName(c.id);
    c.netns = BERTH_TRY(nl::newNetns());
    long long start = nowNs();
    auto address = BERTH_TRY(store.allocate(kNetwork, c.id));
    samples.ipam.push_back(nowNs() - start);
    nl::Attachment attachment{c.hostName, address.str() + prefix, gateway.str(), mtu};
    BERTH_TRY_CTX(nl::attachContainer(node, bridge, c.netns.get(), attachment),
                  "attach container " + c.id);
    samples.attach.push_back(nowNs() - start);
    c.attached = true;
  }
  for (auto& c : run.containers) {
    long long start = nowNs();
    BERTH_TRY_CTX(nl::detachContainer(node, c.hostName), "detach container " + c.id);
    c.attached = false;
    BERTH_TRY(store.release(kNetwork, c.id));
    samples.detach.push_back(nowNs() - start);
  }
  return sys::ok();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::atol(argv[1]) <= 0) {
    std::fprintf(stderr, "usage: net_attach_bench N [--samples FILE]\n");
    return 2;
  }
  size_t count = static_cast<size_t>(std::atol(argv[1]));
  const char* samples = nullptr;
  for (int i = 2; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--samples") == 0) samples = argv[++i];
  }
  Samples measured;
  sys::Result<void> result;
  {
    Run run;
    result = bench(count, run, measured);
  }
  if (!result) {
    std::fprintf(stderr, "net_attach_bench: %s\n", result.error().str().c_str());
    return 1;
  }
  printStats("attach", measured.attach);
  printStats("ipam", measured.ipam);
  printStats("detach", measured.detach);
  if (samples != nullptr) {
    FILE* out = std::fopen(samples, "a");
    if (out == nullptr) {
      std::perror(samples);
      return 1;
    }
    for (long long ns : measured.attach) std::fprintf(out, "%lld 0 0\n", ns);
    std::fclose(out);
  }
  return 0;
}
