// Builds DNS query packets for the net_dns tests, independently of the
// code under test (bytes written out by hand from RFC 1035 / RFC 6891).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace berth::net::dns::testing {

struct QueryOptions {
  uint16_t id = 0x1234;
  uint16_t qtype = 1;
  uint16_t qclass = 1;
  uint8_t opcode = 0;
  bool edns = false;
  uint16_t udp_payload = 4096;
  bool dnssec_ok = false;
  uint8_t edns_version = 0;
};

inline std::vector<uint8_t> makeQuery(const std::string& name, const QueryOptions& o = {}) {
  std::vector<uint8_t> p = {static_cast<uint8_t>(o.id >> 8),
                            static_cast<uint8_t>(o.id),
                            static_cast<uint8_t>(0x01 | o.opcode << 3),
                            0x00,  // RD
                            0,
                            1,
                            0,
                            0,
                            0,
                            0,
                            0,
                            static_cast<uint8_t>(o.edns ? 1 : 0)};
  size_t start = 0;
  while (start < name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    p.push_back(static_cast<uint8_t>(dot - start));
    p.insert(p.end(), name.begin() + static_cast<long>(start),
             name.begin() + static_cast<long>(dot));
    start = dot + 1;
  }
  p.push_back(0);
  p.insert(p.end(), {static_cast<uint8_t>(o.qtype >> 8), static_cast<uint8_t>(o.qtype),
                     static_cast<uint8_t>(o.qclass >> 8), static_cast<uint8_t>(o.qclass)});
  if (o.edns) {
    p.insert(p.end(), {0, 0, 41, static_cast<uint8_t>(o.udp_payload >> 8),
                       static_cast<uint8_t>(o.udp_payload), 0, o.edns_version,
                       static_cast<uint8_t>(o.dnssec_ok ? 0x80 : 0), 0, 0, 0});
  }
  return p;
}

// Header fields and answers of a response, decoded by hand.
struct Decoded {
  uint16_t id = 0;
  uint16_t flags = 0;
  uint16_t qd = 0, an = 0, ns = 0, ar = 0;
  int rcode() const { return flags & 0xf; }
  bool tc() const { return flags & 0x0200; }
  bool aa() const { return flags & 0x0400; }
  bool qr() const { return flags & 0x8000; }
  std::vector<std::vector<uint8_t>> rdata;  // of each answer
  std::vector<uint16_t> types;
  std::vector<uint32_t> ttls;
  bool has_opt = false;
  uint16_t opt_payload = 0;
  uint32_t opt_ttl = 0;
};

inline size_t skipName(const std::vector<uint8_t>& p, size_t pos) {
  while (pos < p.size()) {
    uint8_t len = p[pos];
    if ((len & 0xc0) == 0xc0) return pos + 2;
    if (len == 0) return pos + 1;
    pos += 1 + len;
  }
  return p.size();
}

inline Decoded decode(const std::vector<uint8_t>& p) {
  Decoded d;
  if (p.size() < 12) return d;
  auto r16 = [&](size_t at) { return static_cast<uint16_t>(p.at(at) << 8 | p.at(at + 1)); };
  d.id = r16(0);
  d.flags = r16(2);
  d.qd = r16(4);
  d.an = r16(6);
  d.ns = r16(8);
  d.ar = r16(10);
  size_t pos = 12;
  for (int i = 0; i < d.qd; ++i) pos = skipName(p, pos) + 4;
  for (int i = 0; i < d.an + d.ns + d.ar; ++i) {
    pos = skipName(p, pos);
    uint16_t type = r16(pos);
    uint16_t klass = r16(pos + 2);
    uint32_t ttl = static_cast<uint32_t>(r16(pos + 4)) << 16 | r16(pos + 6);
    uint16_t len = r16(pos + 8);
    std::vector<uint8_t> rdata(p.begin() + static_cast<long>(pos + 10),
                               p.begin() + static_cast<long>(pos + 10 + len));
    pos += 10 + len;
    if (type == 41) {
      d.has_opt = true;
      d.opt_payload = klass;
      d.opt_ttl = ttl;
      continue;
    }
    if (i < d.an) {
      d.types.push_back(type);
      d.ttls.push_back(ttl);
      d.rdata.push_back(std::move(rdata));
    }
  }
  return d;
}

}  // namespace berth::net::dns::testing
