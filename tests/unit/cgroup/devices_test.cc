// Unit tests for device rules: the cgroup v1 lines, and the cgroup v2 eBPF
// program, run here by a small interpreter for the instructions it uses, so
// the tests check verdicts (allowed or not) rather than opcodes.
#include "runtime/cgroup/devices.h"

#include <gtest/gtest.h>

namespace berth::runtime::cgroup {
namespace {

using config::DeviceCgroupRule;

constexpr uint32_t kChar = BPF_DEVCG_DEV_CHAR;
constexpr uint32_t kBlock = BPF_DEVCG_DEV_BLOCK;
constexpr uint32_t kR = BPF_DEVCG_ACC_READ;
constexpr uint32_t kW = BPF_DEVCG_ACC_WRITE;
constexpr uint32_t kM = BPF_DEVCG_ACC_MKNOD;

// Runs a BPF_PROG_TYPE_CGROUP_DEVICE program on one access. Fails the test on
// anything outside the subset the generator may emit, and on jumps that leave
// the program (the kernel verifier would refuse those).
int run(const std::vector<bpf_insn>& prog, uint32_t type, uint32_t access, uint32_t major,
        uint32_t minor) {
  uint32_t ctx[3] = {(access << 16) | type, major, minor};
  uint64_t reg[11] = {};
  for (size_t pc = 0; pc < prog.size(); ++pc) {
    const auto& i = prog[pc];
    auto jump = [&](bool taken) {
      if (taken) pc += i.off;
      EXPECT_LT(pc + 1, prog.size() + 1) << "jump out of the program at " << pc;
    };
    uint32_t lo = static_cast<uint32_t>(reg[i.dst_reg]);
    uint32_t imm = static_cast<uint32_t>(i.imm);
    switch (i.code) {
      case BPF_LDX | BPF_MEM | BPF_W:
        EXPECT_EQ(i.src_reg, BPF_REG_1);
        reg[i.dst_reg] = ctx[i.off / 4];
        break;
      case BPF_ALU | BPF_AND | BPF_K:
        reg[i.dst_reg] = lo & imm;
        break;
      case BPF_ALU | BPF_RSH | BPF_K:
        reg[i.dst_reg] = lo >> imm;
        break;
      case BPF_ALU | BPF_MOV | BPF_X:
        reg[i.dst_reg] = static_cast<uint32_t>(reg[i.src_reg]);
        break;
      case BPF_ALU64 | BPF_MOV | BPF_K:
        reg[i.dst_reg] = static_cast<uint64_t>(int64_t{i.imm});
        break;
      case BPF_JMP32 | BPF_JNE | BPF_K:
        jump(lo != imm);
        break;
      case BPF_JMP32 | BPF_JEQ | BPF_K:
        jump(lo == imm);
        break;
      case BPF_JMP | BPF_EXIT:
        return static_cast<int>(reg[0]);
      default:
        ADD_FAILURE() << "unexpected opcode " << int(i.code) << " at " << pc;
        return -1;
    }
  }
  ADD_FAILURE() << "fell off the end of the program";
  return -1;
}

DeviceCgroupRule rule(bool allow, std::string type, std::optional<int64_t> major,
                      std::optional<int64_t> minor, std::string access) {
  return DeviceCgroupRule{allow, std::move(type), major, minor, std::move(access)};
}

// The shape of a runtime's default list: deny all, then the usual nodes.
std::vector<DeviceCgroupRule> defaults() {
  return {rule(false, "a", std::nullopt, std::nullopt, "rwm"),
          rule(true, "c", 1, 3, "rwm"),                      // /dev/null
          rule(true, "c", 1, 5, "rw"),                       // /dev/zero
          rule(true, "c", 136, std::nullopt, "rwm"),         // /dev/pts/*
          rule(true, "c", std::nullopt, std::nullopt, "m"),  // mknod of any char device
          rule(false, "c", 1, 5, "w")};                      // later rule: no writing /dev/zero
}

TEST(DevicesV1, DenyAllThenRulesInOrder) {
  auto knobs = devices::planV1(defaults());
  ASSERT_TRUE(knobs) << knobs.error().str();
  std::vector<std::string> got;
  for (const auto& k : *knobs) got.push_back(k.file + "=" + k.value);
  EXPECT_EQ(got, (std::vector<std::string>{"devices.deny=a", "devices.deny=a *:* rwm",
                                           "devices.allow=c 1:3 rwm", "devices.allow=c 1:5 rw",
                                           "devices.allow=c 136:* rwm", "devices.allow=c *:* m",
                                           "devices.deny=c 1:5 w"}));
  EXPECT_EQ(devices::ruleLine(rule(true, "", std::nullopt, 7, "")), "a *:7 rwm");
}

TEST(DevicesV1, RejectsMalformedRules) {
  EXPECT_FALSE(devices::planV1({rule(true, "x", 1, 1, "rwm")}));
  EXPECT_FALSE(devices::planV1({rule(true, "c", 1, 1, "rwx")}));
  EXPECT_FALSE(devices::planV1({rule(true, "c", -1, 1, "r")}));
  EXPECT_FALSE(devices::buildProgram({rule(true, "c", 1, 1, "r\n")}));
}

TEST(DevicesV2, ProgramFollowsTheRules) {
  auto prog = devices::buildProgram(defaults());
  ASSERT_TRUE(prog) << prog.error().str();
  EXPECT_EQ(run(*prog, kChar, kR | kW, 1, 3), 1);    // /dev/null
  EXPECT_EQ(run(*prog, kChar, kR, 1, 5), 1);         // read /dev/zero
  EXPECT_EQ(run(*prog, kChar, kW, 1, 5), 0);         // write denied by the last rule
  EXPECT_EQ(run(*prog, kChar, kR | kW, 1, 5), 0);    // any denied bit denies the access
  EXPECT_EQ(run(*prog, kChar, kR | kW, 1, 7), 0);    // /dev/full: not listed
  EXPECT_EQ(run(*prog, kChar, kR | kW, 136, 9), 1);  // any pts
  EXPECT_EQ(run(*prog, kBlock, kR, 136, 9), 0);      // type matters
  EXPECT_EQ(run(*prog, kChar, kM, 10, 200), 1);      // mknod of any char device
  EXPECT_EQ(run(*prog, kBlock, kM, 8, 0), 0);
  EXPECT_EQ(run(*prog, kChar, kR | kM, 10, 200), 0);  // allow needs every requested bit
}

TEST(DevicesV2, AllowAllShortCircuitsAndEmptyDeniesAll) {
  auto all = devices::buildProgram(
      {rule(false, "c", 1, 3, "rwm"), rule(true, "a", std::nullopt, std::nullopt, "rwm")});
  ASSERT_TRUE(all);
  EXPECT_EQ(run(*all, kChar, kR, 1, 3), 1);  // the later allow-all wins
  EXPECT_EQ(run(*all, kBlock, kW, 8, 0), 1);
  EXPECT_EQ(all->size(), 6u + 2u);  // prologue + one block: the deny is unreachable, not emitted

  auto none = devices::buildProgram({});
  ASSERT_TRUE(none);
  EXPECT_EQ(run(*none, kChar, kR, 1, 3), 0);
}

TEST(DevicesV2, LargeDeviceNumbersCompareUnsigned) {
  auto prog = devices::buildProgram({rule(true, "b", 4000000000, 0xfffff, "r")});
  ASSERT_TRUE(prog);
  EXPECT_EQ(run(*prog, kBlock, kR, 4000000000u, 0xfffff), 1);
  EXPECT_EQ(run(*prog, kBlock, kR, 4000000001u, 0xfffff), 0);
  EXPECT_FALSE(devices::buildProgram({rule(true, "b", int64_t{1} << 33, 0, "r")}));
}

}  // namespace
}  // namespace berth::runtime::cgroup
