// The DNS codec: what a client sees for each kind of query.
#include "net/dns/packet.h"

#include <gtest/gtest.h>

#include "tests/unit/net_dns/query_builder.h"

namespace berth::net::dns {
namespace {

using testing::decode;
using testing::makeQuery;
using testing::QueryOptions;

std::vector<uint8_t> respond(const Query& q, const std::vector<Record>& answers,
                             ResponseOptions o) {
  std::vector<uint8_t> out;
  buildResponse(q, answers, o, out);
  return out;
}

TEST(DnsPacket, ParsesQuestionLowerCasedAndKeepsWireCase) {
  auto q = parseQuery(makeQuery("WeB.Shop.", {.id = 77, .qtype = rtype::kAaaa}));
  ASSERT_TRUE(q);
  EXPECT_EQ(q->error, Rcode::kNoError);
  EXPECT_EQ(q->id, 77);
  EXPECT_EQ(q->name, "web.shop");
  EXPECT_EQ(q->qtype, rtype::kAaaa);
  EXPECT_EQ(q->wire_name, std::string("\3WeB\4Shop\0", 10));
  EXPECT_TRUE(q->recursion_desired);
  EXPECT_FALSE(q->edns);
  EXPECT_EQ(q->maxUdpResponse(), 512u);
}

TEST(DnsPacket, ParsesEdnsPayloadAndDoBit) {
  auto q = parseQuery(makeQuery("a", {.edns = true, .udp_payload = 4096, .dnssec_ok = true}));
  ASSERT_TRUE(q);
  EXPECT_EQ(q->error, Rcode::kNoError);
  EXPECT_TRUE(q->edns);
  EXPECT_EQ(q->udp_payload, 4096);
  EXPECT_TRUE(q->dnssec_ok);
  EXPECT_EQ(q->maxUdpResponse(), kMaxUdpPayload);
  auto small = parseQuery(makeQuery("a", {.edns = true, .udp_payload = 100}));
  EXPECT_EQ(small->maxUdpResponse(), 512u);
}

TEST(DnsPacket, DropsShortPacketsAndResponses) {
  EXPECT_FALSE(parseQuery(std::vector<uint8_t>{1, 2, 3}));
  auto response = makeQuery("a");
  response[2] |= 0x80;
  EXPECT_FALSE(parseQuery(response));
}

TEST(DnsPacket, MalformedQueriesAreFormErr) {
  auto truncated = makeQuery("web.shop");
  truncated.resize(truncated.size() - 3);
  EXPECT_EQ(parseQuery(truncated)->error, Rcode::kFormErr);

  auto two_questions = makeQuery("a");
  two_questions[5] = 2;
  EXPECT_EQ(parseQuery(two_questions)->error, Rcode::kFormErr);

  auto long_label = makeQuery(std::string(64, 'a'));
  EXPECT_EQ(parseQuery(long_label)->error, Rcode::kFormErr);

  std::string long_name;
  for (int i = 0; i < 50; ++i) long_name += "abcde.";
  long_name += "x";
  EXPECT_EQ(parseQuery(makeQuery(long_name))->error, Rcode::kFormErr);

  auto two_opts = makeQuery("a", {.edns = true});
  std::vector<uint8_t> opt(two_opts.end() - 11, two_opts.end());
  two_opts.insert(two_opts.end(), opt.begin(), opt.end());
  two_opts[11] = 2;
  EXPECT_EQ(parseQuery(two_opts)->error, Rcode::kFormErr);
}

TEST(DnsPacket, CompressionPointersMustPointBackwards) {
  // Question name = pointer to itself: a loop.
  std::vector<uint8_t> self = {0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1};
  EXPECT_EQ(parseQuery(self)->error, Rcode::kFormErr);
  // Forward pointer.
  std::vector<uint8_t> fwd = {0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 14, 0, 0, 1, 0, 1};
  EXPECT_EQ(parseQuery(fwd)->error, Rcode::kFormErr);
  // A legal backward pointer: OPT owner... use an answer-free additional
  // record whose owner points at the question name.
  auto q = makeQuery("ab", {.edns = true});
  q[11] = 2;
  q.insert(q.end(), {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4});
  EXPECT_EQ(parseQuery(q)->error, Rcode::kNoError);
}

TEST(DnsPacket, OtherOpcodesAreNotImp) {
  auto q = parseQuery(makeQuery("a", {.opcode = 2}));  // STATUS
  ASSERT_TRUE(q);
  EXPECT_EQ(q->error, Rcode::kNotImp);
  auto d = decode(respond(*q, {}, {q->error, false, 512}));
  EXPECT_EQ(d.rcode(), 4);
  EXPECT_EQ((d.flags >> 11) & 0xf, 2);
}

TEST(DnsPacket, EdnsVersionOneIsBadVers) {
  auto q = parseQuery(makeQuery("a", {.edns = true, .edns_version = 1}));
  EXPECT_EQ(q->error, Rcode::kBadVers);
  auto d = decode(respond(*q, {}, {q->error, false, 512}));
  EXPECT_EQ(d.rcode(), 0);
  ASSERT_TRUE(d.has_opt);
  EXPECT_EQ(d.opt_ttl >> 24, 1u);  // 16 >> 4
}

TEST(DnsPacket, BuildsAddressAnswersWithZeroTtl) {
  auto q = parseQuery(makeQuery("Web", {.id = 9, .qtype = rtype::kA}));
  std::vector<Record> answers = {{rtype::kA, IpAddress::v4(10, 89, 0, 2), {}},
                                 {rtype::kAaaa, *IpAddress::parse("fd00::2"), {}}};
  auto bytes = respond(*q, answers, {Rcode::kNoError, true, 512});
  auto d = decode(bytes);
  EXPECT_TRUE(d.qr());
  EXPECT_TRUE(d.aa());
  EXPECT_FALSE(d.tc());
  EXPECT_EQ(d.id, 9);
  EXPECT_EQ(d.qd, 1);
  ASSERT_EQ(d.an, 2);
  EXPECT_EQ(d.rdata[0], (std::vector<uint8_t>{10, 89, 0, 2}));
  EXPECT_EQ(d.types[1], rtype::kAaaa);
  EXPECT_EQ(d.rdata[1].size(), 16u);
  EXPECT_EQ(d.ttls[0], kAnswerTtl);
  // The question is echoed with the client's case.
  EXPECT_EQ(bytes[13], 'W');
}

TEST(DnsPacket, BuildsPtrAnswer) {
  auto q = parseQuery(makeQuery("2.0.89.10.in-addr.arpa", {.qtype = rtype::kPtr}));
  auto d = decode(respond(*q, {{rtype::kPtr, {}, "web.shop"}}, {Rcode::kNoError, true, 512}));
  ASSERT_EQ(d.an, 1);
  EXPECT_EQ(d.rdata[0], (std::vector<uint8_t>{3, 'w', 'e', 'b', 4, 's', 'h', 'o', 'p', 0}));
}

TEST(DnsPacket, NxDomainAndNoDataDiffer) {
  auto q = parseQuery(makeQuery("x"));
  auto nx = decode(respond(*q, {}, {Rcode::kNxDomain, true, 512}));
  EXPECT_EQ(nx.rcode(), 3);
  EXPECT_EQ(nx.an, 0);
  auto nodata = decode(respond(*q, {}, {Rcode::kNoError, true, 512}));
  EXPECT_EQ(nodata.rcode(), 0);
  EXPECT_EQ(nodata.an, 0);
}

TEST(DnsPacket, TruncatesWhenAnswersExceedClientSize) {
  std::vector<Record> many;
  for (int i = 0; i < 70; ++i)
    many.push_back({rtype::kA, IpAddress::v4(10, 0, 0, static_cast<uint8_t>(i)), {}});
  auto classic = parseQuery(makeQuery("web"));
  auto d = decode(respond(*classic, many, {Rcode::kNoError, true, classic->maxUdpResponse()}));
  EXPECT_TRUE(d.tc());
  EXPECT_EQ(d.an, 0);

  auto edns = parseQuery(makeQuery("web", {.edns = true, .udp_payload = 4096}));
  auto bytes = respond(*edns, many, {Rcode::kNoError, true, edns->maxUdpResponse()});
  d = decode(bytes);
  EXPECT_FALSE(d.tc());  // 70 A records: 12 + 9 + 70 * 16 + 11 = 1152 bytes fit 1232
  EXPECT_EQ(d.an, 70);
  EXPECT_LE(bytes.size(), kMaxUdpPayload);
  ASSERT_TRUE(d.has_opt);
  EXPECT_EQ(d.opt_payload, kMaxUdpPayload);

  many.resize(0);
  for (int i = 0; i < 200; ++i)
    many.push_back({rtype::kA, IpAddress::v4(10, 0, 1, static_cast<uint8_t>(i)), {}});
  EXPECT_TRUE(decode(respond(*edns, many, {Rcode::kNoError, true, edns->maxUdpResponse()})).tc());
  d = decode(respond(*edns, many, {Rcode::kNoError, true, kMaxTcpMessage}));
  EXPECT_FALSE(d.tc());
  EXPECT_EQ(d.an, 200);
}

TEST(DnsPacket, EchoesDoBitAndCdFlag) {
  auto q = parseQuery(makeQuery("a", {.edns = true, .dnssec_ok = true}));
  auto d = decode(respond(*q, {}, {Rcode::kNoError, true, 512}));
  EXPECT_TRUE(d.opt_ttl & 0x8000);
}

TEST(DnsPacket, FormErrWithoutQuestionHasOnlyHeader) {
  std::vector<uint8_t> empty = {0xab, 0xcd, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  auto q = parseQuery(empty);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->error, Rcode::kFormErr);
  auto bytes = respond(*q, {{rtype::kA, IpAddress::v4(1, 2, 3, 4), {}}}, {q->error, false, 512});
  EXPECT_EQ(bytes.size(), 12u);
  auto d = decode(bytes);
  EXPECT_EQ(d.id, 0xabcd);
  EXPECT_EQ(d.rcode(), 1);
  EXPECT_EQ(d.qd, 0);
}

TEST(DnsPacket, MessageIdHelpers) {
  auto p = makeQuery("a", {.id = 0x0102});
  EXPECT_EQ(messageId(p), 0x0102);
  setMessageId(p, 0xfffe);
  EXPECT_EQ(messageId(p), 0xfffe);
}

}  // namespace
}  // namespace berth::net::dns
