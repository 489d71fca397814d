// Device rules for cgroup v1 and the cgroup v2 eBPF filter: see devices.h.
#include "runtime/cgroup/devices.h"

#include <algorithm>

namespace berth::runtime::cgroup::devices {
namespace {

// Registers as the kernel's bpf_cgroup_dev_ctx arrives in r1:
// { u32 access_type = (access << 16) | type; u32 major; u32 minor; }.
constexpr uint8_t kType = BPF_REG_2;
constexpr uint8_t kAccess = BPF_REG_3;
constexpr uint8_t kMajor = BPF_REG_4;
constexpr uint8_t kMinor = BPF_REG_5;
constexpr uint8_t kScratch = BPF_REG_1;

bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn i{};
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}

bpf_insn loadCtx(uint8_t dst, int16_t offset) {
  return insn(BPF_LDX | BPF_MEM | BPF_W, dst, BPF_REG_1, offset, 0);
}
// 32-bit compares: the context fields are u32 and a device number above 2^31
// must not be sign-extended against a 64-bit register.
bpf_insn jumpIfNot(uint8_t reg, uint32_t value) {
  return insn(BPF_JMP32 | BPF_JNE | BPF_K, reg, 0, 0, static_cast<int32_t>(value));
}

uint32_t accessBits(const std::string& access) {
  uint32_t bits = 0;
  for (char c : access.empty() ? std::string("rwm") : access) {
    if (c == 'r') bits |= BPF_DEVCG_ACC_READ;
    if (c == 'w') bits |= BPF_DEVCG_ACC_WRITE;
    if (c == 'm') bits |= BPF_DEVCG_ACC_MKNOD;
  }
  return bits;
}

constexpr uint32_t kAllAccess = BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD;

bool matchesEverything(const config::DeviceCgroupRule& rule) {
  return (rule.type.empty() || rule.type == "a") && !rule.major && !rule.minor &&
         accessBits(rule.access) == kAllAccess;
}

// One rule: a run of "jump past this block unless it matches" checks, then
// "r0 = verdict; exit".
std::vector<bpf_insn> ruleBlock(const config::DeviceCgroupRule& rule) {
  std::vector<bpf_insn> block;
  if (rule.type == "c" || rule.type == "b") {
    block.push_back(jumpIfNot(kType, rule.type == "c" ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK));
  }
  uint32_t bits = accessBits(rule.access);
  if (bits != kAllAccess) {
    block.push_back(insn(BPF_ALU | BPF_MOV | BPF_X, kScratch, kAccess, 0, 0));
    if (rule.allow) {
      // Allow only when every requested bit is granted (open O_RDWR asks r|w).
      block.push_back(insn(BPF_ALU | BPF_AND | BPF_K, kScratch, 0, 0, static_cast<int32_t>(~bits)));
      block.push_back(insn(BPF_JMP32 | BPF_JNE | BPF_K, kScratch, 0, 0, 0));
    } else {
      // Deny as soon as any requested bit is denied.
      block.push_back(insn(BPF_ALU | BPF_AND | BPF_K, kScratch, 0, 0, static_cast<int32_t>(bits)));
      block.push_back(insn(BPF_JMP32 | BPF_JEQ | BPF_K, kScratch, 0, 0, 0));
    }
  }
  if (rule.major) block.push_back(jumpIfNot(kMajor, static_cast<uint32_t>(*rule.major)));
  if (rule.minor) block.push_back(jumpIfNot(kMinor, static_cast<uint32_t>(*rule.minor)));
  block.push_back(insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, rule.allow ? 1 : 0));
  block.push_back(insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
  // Every check jumps to the first instruction after the block.
  for (size_t i = 0; i + 2 < block.size(); ++i) {
    uint8_t cls = BPF_CLASS(block[i].code);
    if (cls == BPF_JMP32 || cls == BPF_JMP)
      block[i].off = static_cast<int16_t>(block.size() - i - 1);
  }
  return block;
}

}  // namespace

sys::Result<void> validate(const std::vector<config::DeviceCgroupRule>& rules) {
  for (const auto& rule : rules) {
    std::string what = "device rule \"" + ruleLine(rule) + "\": ";
    if (!rule.type.empty() && rule.type != "a" && rule.type != "c" && rule.type != "b") {
      return sys::Error::invalid(what + "type must be a, c or b");
    }
    if (rule.access.find_first_not_of("rwm") != std::string::npos) {
      return sys::Error::invalid(what + "access must be made of r, w and m");
    }
    if (rule.major.value_or(0) < 0 || rule.minor.value_or(0) < 0 ||
        rule.major.value_or(0) > UINT32_MAX || rule.minor.value_or(0) > UINT32_MAX) {
      return sys::Error::invalid(what + "major and minor must be between 0 and 2^32-1");
    }
  }
  return sys::ok();
}

std::string ruleLine(const config::DeviceCgroupRule& rule) {
  auto number = [](const std::optional<int64_t>& n) {
    return n ? std::to_string(*n) : std::string("*");
  };
  return (rule.type.empty() ? std::string("a") : rule.type) + " " + number(rule.major) + ":" +
         number(rule.minor) + " " + (rule.access.empty() ? std::string("rwm") : rule.access);
}

sys::Result<KnobList> planV1(const std::vector<config::DeviceCgroupRule>& rules) {
  BERTH_TRY(validate(rules));
  KnobList knobs{Knob{"devices.deny", "a"}};
  for (const auto& rule : rules) {
    knobs.push_back(Knob{rule.allow ? "devices.allow" : "devices.deny", ruleLine(rule)});
  }
  return knobs;
}

sys::Result<std::vector<bpf_insn>> buildProgram(
    const std::vector<config::DeviceCgroupRule>& rules) {
  BERTH_TRY(validate(rules));
  std::vector<bpf_insn> program = {
      loadCtx(kType, 0),   insn(BPF_ALU | BPF_AND | BPF_K, kType, 0, 0, 0xffff),
      loadCtx(kAccess, 0), insn(BPF_ALU | BPF_RSH | BPF_K, kAccess, 0, 0, 16),
      loadCtx(kMajor, 4),  loadCtx(kMinor, 8),
  };
  // The last matching rule decides, so the rules are tested newest first;
  // anything before a rule that matches everything can never be reached.
  for (auto it = rules.rbegin(); it != rules.rend(); ++it) {
    auto block = ruleBlock(*it);
    program.insert(program.end(), block.begin(), block.end());
    if (matchesEverything(*it)) return program;
  }
  program.push_back(insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0));
  program.push_back(insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
  return program;
}

}  // namespace berth::runtime::cgroup::devices
