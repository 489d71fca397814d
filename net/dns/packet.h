// The DNS wire format (RFC 1035, EDNS0 RFC 6891) as berth's embedded server
// needs it: parse one query, build the response to it. Pure functions, no I/O,
// so every branch is unit-tested and fuzzed (tests/fuzz/net_dns_packet_fuzz.cc).
//
// Choices a client can observe:
// - Local answers carry TTL kAnswerTtl = 0: records change the moment a
//   container joins or leaves, and a cached answer would outlive a removal.
// - A response that does not fit the client's UDP size (512 without EDNS0,
//   else the advertised size capped at kMaxUdpPayload) is sent with the TC
//   bit and no answer records, so the client retries over TCP (RFC 2181 9).
// - Malformed queries get FORMERR, opcodes other than QUERY get NOTIMP, an
//   EDNS version other than 0 gets BADVERS; packets shorter than a header or
//   with the QR bit set get no response at all (answering responses is how
//   reflection loops start).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "net/dns/address.h"

namespace berth::net::dns {

namespace rtype {
inline constexpr uint16_t kA = 1;
inline constexpr uint16_t kNs = 2;
inline constexpr uint16_t kCname = 5;
inline constexpr uint16_t kSoa = 6;
inline constexpr uint16_t kPtr = 12;
inline constexpr uint16_t kAaaa = 28;
inline constexpr uint16_t kOpt = 41;
inline constexpr uint16_t kIxfr = 251;
inline constexpr uint16_t kAxfr = 252;
inline constexpr uint16_t kAny = 255;
}  // namespace rtype

inline constexpr uint16_t kClassIn = 1;

enum class Rcode : uint16_t {
  kNoError = 0,
  kFormErr = 1,
  kServFail = 2,
  kNxDomain = 3,
  kNotImp = 4,
  kRefused = 5,
  kBadVers = 16,  // extended (EDNS0) rcode: upper bits travel in the OPT record
};

inline constexpr uint32_t kAnswerTtl = 0;
inline constexpr size_t kHeaderSize = 12;
inline constexpr size_t kClassicUdpSize = 512;
// DNS flag day 2020: the largest UDP payload that avoids IP fragmentation on
// common paths; also what the server advertises in its OPT record.
inline constexpr uint16_t kMaxUdpPayload = 1232;
inline constexpr size_t kMaxTcpMessage = 65535;
inline constexpr size_t kMaxNameLength = 255;  // wire form, terminating zero included

struct Query {
  uint16_t id = 0;
  uint8_t opcode = 0;
  bool recursion_desired = false;
  bool checking_disabled = false;

  bool has_question = false;
  // Lower-case dotted name without trailing dot ("" for the root), for lookups.
  // A label containing a '.' byte is spelled with '\0' there, so it can never
  // match a zone name.
  std::string name;
  // The question name as the client spelled it (wire form, uncompressed): the
  // response echoes it byte for byte (resolvers randomize the case, 0x20).
  std::string wire_name;
  uint16_t qtype = 0;
  uint16_t qclass = 0;
  size_t question_end = kHeaderSize;  // offset after the question in the query

  bool edns = false;
  uint8_t edns_version = 0;
  uint16_t udp_payload = kClassicUdpSize;
  bool dnssec_ok = false;

  // kNoError when the query can be answered; else the error to answer with
  // (kFormErr, kNotImp, kBadVers).
  Rcode error = Rcode::kNoError;

  // The largest UDP response this client accepts.
  size_t maxUdpResponse() const;
};

// Parses a query. nullopt: not worth any response (shorter than a header, or
// a response rather than a query). Otherwise the header fields are set even
// when `error` says the rest was malformed.
std::optional<Query> parseQuery(std::span<const uint8_t> packet);

// One answer record; its owner is the question name.
struct Record {
  uint16_t type = rtype::kA;  // kA, kAaaa or kPtr
  IpAddress address;          // kA / kAaaa
  std::string target;         // kPtr: dotted name, no trailing dot
};

struct ResponseOptions {
  Rcode rcode = Rcode::kNoError;
  bool authoritative = false;
  size_t max_size = kClassicUdpSize;  // Query::maxUdpResponse() or kMaxTcpMessage
};

// Writes the response to `query` into `out` (its previous contents are
// replaced; the buffer is reused to keep the answer path allocation-free).
// Records that do not fit set the TC bit and are all left out.
void buildResponse(const Query& query, std::span<const Record> answers,
                   const ResponseOptions& options, std::vector<uint8_t>& out);

// Appends `dotted` ("web.proj", no trailing dot) in wire form; false if a
// label is empty or longer than 63 bytes or the name longer than 255.
bool appendName(std::string_view dotted, std::vector<uint8_t>& out);

// The id of a message (0 if shorter than a header) and its replacement in place.
uint16_t messageId(std::span<const uint8_t> packet);
void setMessageId(std::span<uint8_t> packet, uint16_t id);

}  // namespace berth::net::dns
