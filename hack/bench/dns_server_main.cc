// Benchmark driver for hack/bench/dns.sh: runs berth's DNS server on one
// address with N names (host0..hostN-1 in project "bench", 10.89.x.y) until
// SIGINT/SIGTERM; other names are forwarded to the nameservers of RESOLV_CONF
// (read as berthd reads the host's), none when it is omitted.
// Usage: dns_server IP PORT NAMES [RESOLV_CONF]
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "net/dns/resolver.h"
#include "net/dns/server.h"
#include "runtime/sys/fs.h"

namespace dns = berth::net::dns;

int main(int argc, char** argv) {
  if (argc != 4 && argc != 5) {
    std::fprintf(stderr, "usage: %s IP PORT NAMES [RESOLV_CONF]\n", argv[0]);
    return 2;
  }
  auto ip = dns::IpAddress::parse(argv[1]);
  int port = std::atoi(argv[2]);
  int names = std::atoi(argv[3]);
  if (!ip || port <= 0 || port > 65535 || names < 0) {
    std::fprintf(stderr, "dns_server: bad arguments\n");
    return 2;
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // before the server thread exists

  auto zone = std::make_shared<dns::Zone>("bench");
  for (int i = 0; i < names; ++i) {
    std::vector<std::string> host = {"host" + std::to_string(i)};
    std::vector<dns::IpAddress> addr = {dns::IpAddress::v4(10, 89, static_cast<uint8_t>(i / 250),
                                                           static_cast<uint8_t>(i % 250 + 2))};
    if (auto r = zone->setHost(host[0], host, addr); !r) {
      std::fprintf(stderr, "dns_server: %s\n", r.error().str().c_str());
      return 1;
    }
  }
  dns::ServerOptions options;
  if (argc == 5) {
    auto text = berth::sys::readFile(argv[4]);
    if (!text) {
      std::fprintf(stderr, "dns_server: %s\n", text.error().str().c_str());
      return 1;
    }
    options.upstreams = dns::parseResolvConf(*text);
    if (options.upstreams.empty()) {
      std::fprintf(stderr, "dns_server: no nameserver in %s\n", argv[4]);
      return 1;
    }
  }
  auto server = dns::Server::start(std::move(options));
  if (!server) {
    std::fprintf(stderr, "dns_server: %s\n", server.error().str().c_str());
    return 1;
  }
  auto bound = (*server)->addZone(zone, {*ip, static_cast<uint16_t>(port)});
  if (!bound) {
    std::fprintf(stderr, "dns_server: %s\n", bound.error().str().c_str());
    return 1;
  }
  std::printf("listening on %s\n", bound->str().c_str());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&set, &sig);
  return 0;
}
