// libFuzzer target for the DNS codec: any datagram a client sends to a
// project's gateway must parse to a query (or nothing) and, if it parses,
// lead to a response that fits the client's size limit, never a crash, hang
// or sanitizer report. DNS queries come from any container: untrusted input.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "net/dns/packet.h"
#include "net/dns/resolver.h"
#include "net/dns/zone.h"

namespace dns = berth::net::dns;

namespace {

const dns::Zone& fuzzZone() {
  static const std::unique_ptr<dns::Zone> zone = [] {
    auto z = std::make_unique<dns::Zone>("shop");
    std::vector<std::string> names = {"web", "frontend"};
    std::vector<dns::IpAddress> ips = {dns::IpAddress::v4(10, 89, 0, 2),
                                       *dns::IpAddress::parse("fd00::2")};
    (void)z->setHost("web-1", names, ips).ok();
    std::vector<dns::IpAddress> many;
    for (int i = 0; i < 120; ++i)
      many.push_back(dns::IpAddress::v4(10, 89, 1, static_cast<uint8_t>(i)));
    std::vector<std::string> big = {"big"};
    (void)z->setHost("big", big, many).ok();
    return z;
  }();
  return *zone;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::optional<dns::Query> query = dns::parseQuery(std::span(data, size));
  if (!query) return 0;
  std::vector<dns::Record> records;
  dns::LocalDecision decision = dns::decideLocally(fuzzZone(), *query, size % 2 == 0, records);
  std::vector<uint8_t> out;
  for (size_t max : {query->maxUdpResponse(), dns::kMaxTcpMessage}) {
    dns::buildResponse(*query, records, {decision.rcode, decision.authoritative, max}, out);
    if (out.size() > max) __builtin_trap();  // a UDP answer over the client's limit would be cut
    // The response must itself parse as a message with our id.
    if (dns::messageId(out) != query->id) __builtin_trap();
  }
  return 0;
}
