// The devices controller: which device nodes the container may open or mknod.
//
// The caller passes the final, ordered rule list (defaults included); later
// rules override earlier ones and everything not allowed is denied. cgroup v1
// takes the rules as lines in devices.allow/devices.deny; cgroup v2 has no
// file at all, only an eBPF program (BPF_PROG_TYPE_CGROUP_DEVICE) attached to
// the cgroup. Building that program is pure logic, separate from loading it.
#pragma once

#include <linux/bpf.h>

#include <vector>

#include "runtime/cgroup/knob.h"
#include "runtime/config/spec.h"
#include "runtime/sys/fd.h"
#include "runtime/sys/result.h"

namespace berth::runtime::cgroup::devices {

// Rejects rules the kernel would misread: unknown type, access not in "rwm",
// negative numbers.
sys::Result<void> validate(const std::vector<config::DeviceCgroupRule>& rules);

// "c 1:3 rwm", with "*" for an absent major/minor and "a" for an empty type.
std::string ruleLine(const config::DeviceCgroupRule& rule);

// cgroup v1: deny everything ("a"), then each rule in order.
sys::Result<KnobList> planV1(const std::vector<config::DeviceCgroupRule>& rules);

// cgroup v2: the device filter program. It returns 1 (allow) for the last rule
// matching the access and 0 when none does.
sys::Result<std::vector<bpf_insn>> buildProgram(const std::vector<config::DeviceCgroupRule>& rules);

// Loads `program` and attaches it to the cgroup directory `cgroupFd`, then
// detaches the device programs attached there before, so the cgroup is never
// without a filter in between (both run for a moment; both must allow).
sys::Result<void> attachProgram(int cgroupFd, const std::vector<bpf_insn>& program);

// The ids of the device programs attached to the cgroup directory.
sys::Result<std::vector<uint32_t>> attachedPrograms(int cgroupFd);

}  // namespace berth::runtime::cgroup::devices
