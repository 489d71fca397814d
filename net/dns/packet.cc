// Query parsing and response building for the DNS wire format; see packet.h.
#include "net/dns/packet.h"

#include <algorithm>

namespace berth::net::dns {

namespace {

constexpr uint16_t kFlagQr = 0x8000;
constexpr uint16_t kFlagAa = 0x0400;
constexpr uint16_t kFlagTc = 0x0200;
constexpr uint16_t kFlagRd = 0x0100;
constexpr uint16_t kFlagRa = 0x0080;
constexpr uint16_t kFlagCd = 0x0010;
constexpr uint32_t kEdnsDo = 0x8000;
// Far more than a legal name needs (at most 127 labels); the backward-only
// rule below already rules out loops, this bounds the work per name.
constexpr int kMaxPointerJumps = 64;
constexpr size_t kOptRecordSize = 11;

uint16_t read16(std::span<const uint8_t> p, size_t at) {
  return static_cast<uint16_t>(p[at] << 8 | p[at + 1]);
}

uint32_t read32(std::span<const uint8_t> p, size_t at) {
  return static_cast<uint32_t>(read16(p, at)) << 16 | read16(p, at + 2);
}

void put16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}

void put32(std::vector<uint8_t>& out, uint32_t v) {
  put16(out, static_cast<uint16_t>(v >> 16));
  put16(out, static_cast<uint16_t>(v));
}

void patch16(std::vector<uint8_t>& out, size_t at, uint16_t v) {
  out[at] = static_cast<uint8_t>(v >> 8);
  out[at + 1] = static_cast<uint8_t>(v);
}

char lower(uint8_t c) {
  return static_cast<char>(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
}

// Reads the (possibly compressed) name at `offset`. On success `end` is the
// offset after the name's bytes in place (after the first pointer, if any).
// Pointers must point strictly backwards from the label that holds them, so
// a chain always ends; the decoded name is limited to 255 bytes (RFC 1035 3.1).
bool readName(std::span<const uint8_t> p, size_t offset, size_t& end, std::string* wire,
              std::string* dotted) {
  size_t pos = offset;
  size_t length = 1;  // the terminating zero
  int jumps = 0;
  bool jumped = false;
  if (wire) wire->clear();
  if (dotted) dotted->clear();
  while (true) {
    if (pos >= p.size()) return false;
    uint8_t len = p[pos];
    if ((len & 0xc0) == 0xc0) {
      if (pos + 1 >= p.size() || ++jumps > kMaxPointerJumps) return false;
      size_t target = static_cast<size_t>(len & 0x3f) << 8 | p[pos + 1];
      if (target >= pos) return false;
      if (!jumped) end = pos + 2;
      jumped = true;
      pos = target;
      continue;
    }
    if ((len & 0xc0) != 0) return false;  // 0x40/0x80: obsolete label types
    if (len == 0) {
      if (!jumped) end = pos + 1;
      if (wire) wire->push_back('\0');
      return true;
    }
    length += 1 + len;
    if (length > kMaxNameLength || pos + 1 + len > p.size()) return false;
    if (wire) {
      wire->push_back(static_cast<char>(len));
      wire->append(reinterpret_cast<const char*>(p.data() + pos + 1), len);
    }
    if (dotted) {
      if (!dotted->empty()) dotted->push_back('.');
      for (size_t i = 0; i < len; ++i) {
        uint8_t c = p[pos + 1 + i];
        dotted->push_back(c == '.' ? '\0' : lower(c));
      }
    }
    pos += 1 + len;
  }
}

// Skips one resource record starting at `pos`; reads it into `type`,
// `klass`, `ttl`, and checks the OPT rules when it is one.
bool skipRecord(std::span<const uint8_t> p, size_t& pos, uint16_t& type, uint16_t& klass,
                uint32_t& ttl, bool& root_owner) {
  size_t after_name = 0;
  if (!readName(p, pos, after_name, nullptr, nullptr)) return false;
  root_owner = after_name == pos + 1;
  if (after_name + 10 > p.size()) return false;
  type = read16(p, after_name);
  klass = read16(p, after_name + 2);
  ttl = read32(p, after_name + 4);
  size_t rdlength = read16(p, after_name + 8);
  if (after_name + 10 + rdlength > p.size()) return false;
  pos = after_name + 10 + rdlength;
  return true;
}

// Walks answer, authority and additional sections; picks up the OPT record.
Rcode parseRecords(std::span<const uint8_t> p, size_t pos, Query& q) {
  size_t records = static_cast<size_t>(read16(p, 6)) + read16(p, 8) + read16(p, 10);
  size_t additional_start = records - read16(p, 10);
  for (size_t i = 0; i < records; ++i) {
    uint16_t type = 0, klass = 0;
    uint32_t ttl = 0;
    bool root_owner = false;
    if (!skipRecord(p, pos, type, klass, ttl, root_owner)) return Rcode::kFormErr;
    if (type != rtype::kOpt) continue;
    // RFC 6891 6.1.1: one OPT, in the additional section, owned by the root.
    if (q.edns || i < additional_start || !root_owner) return Rcode::kFormErr;
    q.edns = true;
    q.udp_payload = std::max<uint16_t>(klass, kClassicUdpSize);
    q.edns_version = static_cast<uint8_t>(ttl >> 16);
    q.dnssec_ok = (ttl & kEdnsDo) != 0;
  }
  if (q.edns && q.edns_version != 0) return Rcode::kBadVers;
  return Rcode::kNoError;
}

}  // namespace

size_t Query::maxUdpResponse() const {
  if (!edns) return kClassicUdpSize;
  return std::clamp<size_t>(udp_payload, kClassicUdpSize, kMaxUdpPayload);
}

std::optional<Query> parseQuery(std::span<const uint8_t> p) {
  if (p.size() < kHeaderSize) return std::nullopt;
  uint16_t flags = read16(p, 2);
  if (flags & kFlagQr) return std::nullopt;
  Query q;
  q.id = read16(p, 0);
  q.opcode = static_cast<uint8_t>(flags >> 11 & 0xf);
  q.recursion_desired = (flags & kFlagRd) != 0;
  q.checking_disabled = (flags & kFlagCd) != 0;
  if (read16(p, 4) != 1) {
    q.error = q.opcode != 0 ? Rcode::kNotImp : Rcode::kFormErr;
    return q;
  }
  size_t pos = 0;
  if (!readName(p, kHeaderSize, pos, &q.wire_name, &q.name) || pos + 4 > p.size()) {
    q.error = Rcode::kFormErr;
    return q;
  }
  q.qtype = read16(p, pos);
  q.qclass = read16(p, pos + 2);
  q.question_end = pos + 4;
  q.has_question = true;
  if (q.opcode != 0) {
    q.error = Rcode::kNotImp;
    return q;
  }
  q.error = parseRecords(p, q.question_end, q);
  return q;
}

bool appendName(std::string_view dotted, std::vector<uint8_t>& out) {
  size_t total = 1;
  size_t start = 0;
  while (start < dotted.size()) {
    size_t dot = dotted.find('.', start);
    if (dot == std::string_view::npos) dot = dotted.size();
    size_t len = dot - start;
    total += len + 1;
    if (len == 0 || len > 63 || total > kMaxNameLength) return false;
    out.push_back(static_cast<uint8_t>(len));
    out.insert(out.end(), dotted.begin() + static_cast<ptrdiff_t>(start),
               dotted.begin() + static_cast<ptrdiff_t>(dot));
    start = dot + 1;
  }
  out.push_back(0);
  return true;
}

namespace {

size_t recordSize(const Record& r) {
  size_t rdata = r.type == rtype::kPtr ? r.target.size() + 2 : r.address.size();
  return 2 + 10 + rdata;  // compressed owner, type/class/ttl/rdlength, rdata
}

void appendRecord(const Record& r, std::vector<uint8_t>& out) {
  put16(out, 0xc000 | kHeaderSize);  // owner: the question name
  put16(out, r.type);
  put16(out, kClassIn);
  put32(out, kAnswerTtl);
  size_t rdlength_at = out.size();
  put16(out, 0);
  size_t rdata_at = out.size();
  if (r.type == rtype::kPtr) {
    if (!appendName(r.target, out)) out.push_back(0);  // zone names are validated; never taken
  } else {
    out.insert(out.end(), r.address.bytes.begin(),
               r.address.bytes.begin() + static_cast<ptrdiff_t>(r.address.size()));
  }
  patch16(out, rdlength_at, static_cast<uint16_t>(out.size() - rdata_at));
}

void appendOpt(const Query& q, Rcode rcode, std::vector<uint8_t>& out) {
  out.push_back(0);  // root owner
  put16(out, rtype::kOpt);
  put16(out, kMaxUdpPayload);
  uint32_t ttl = static_cast<uint32_t>(static_cast<uint16_t>(rcode) >> 4) << 24;
  if (q.dnssec_ok) ttl |= kEdnsDo;  // RFC 3225: the DO bit is echoed
  put32(out, ttl);
  put16(out, 0);
}

}  // namespace

void buildResponse(const Query& q, std::span<const Record> answers, const ResponseOptions& options,
                   std::vector<uint8_t>& out) {
  out.clear();
  uint16_t flags = kFlagQr | static_cast<uint16_t>(q.opcode << 11) | kFlagRa |
                   (static_cast<uint16_t>(options.rcode) & 0xf);
  if (options.authoritative) flags |= kFlagAa;
  if (q.recursion_desired) flags |= kFlagRd;
  if (q.checking_disabled) flags |= kFlagCd;
  put16(out, q.id);
  put16(out, flags);
  put16(out, q.has_question ? 1 : 0);
  put16(out, 0);
  put16(out, 0);
  put16(out, q.edns ? 1 : 0);
  if (q.has_question) {
    out.insert(out.end(), q.wire_name.begin(), q.wire_name.end());
    put16(out, q.qtype);
    put16(out, q.qclass);
  } else {
    answers = {};
  }
  size_t total = out.size() + (q.edns ? kOptRecordSize : 0);
  for (const Record& r : answers) total += recordSize(r);
  if (total > options.max_size) {
    patch16(out, 2, flags | kFlagTc);
    answers = {};
  }
  for (const Record& r : answers) appendRecord(r, out);
  patch16(out, 6, static_cast<uint16_t>(answers.size()));
  if (q.edns) appendOpt(q, options.rcode, out);
}

uint16_t messageId(std::span<const uint8_t> packet) {
  return packet.size() < kHeaderSize ? 0 : read16(packet, 0);
}

void setMessageId(std::span<uint8_t> packet, uint16_t id) {
  if (packet.size() < kHeaderSize) return;
  packet[0] = static_cast<uint8_t>(id >> 8);
  packet[1] = static_cast<uint8_t>(id);
}

}  // namespace berth::net::dns
