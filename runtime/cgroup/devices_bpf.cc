// Loading and attaching the cgroup v2 device filter with the bpf(2) system
// call directly (no libbpf: three commands do not justify a dependency, and
// the runtime binary stays small and static).
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "runtime/cgroup/devices.h"

namespace berth::runtime::cgroup::devices {
namespace {

int bpf(int cmd, bpf_attr& attr) {
  return static_cast<int>(::syscall(SYS_bpf, cmd, &attr, sizeof(attr)));
}

uint64_t pointer(const void* p) {
  return reinterpret_cast<uintptr_t>(p);
}

// No helper functions are called, so any license string is accepted.
constexpr char kLicense[] = "Apache-2.0";

sys::Result<sys::UniqueFd> load(const std::vector<bpf_insn>& program) {
  bpf_attr attr{};
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = pointer(program.data());
  attr.insn_cnt = static_cast<uint32_t>(program.size());
  attr.license = pointer(kLicense);
  sys::UniqueFd fd(bpf(BPF_PROG_LOAD, attr));
  if (fd) return fd;
  int err = errno;
  if (err != EINVAL && err != EACCES) return sys::Error(err, "load the device filter (bpf)");
  // Load again with the verifier log, which says which instruction it rejects.
  std::string log(16384, '\0');
  attr.log_level = 1;
  attr.log_buf = pointer(log.data());
  attr.log_size = static_cast<uint32_t>(log.size());
  sys::UniqueFd retry(bpf(BPF_PROG_LOAD, attr));
  if (retry) return retry;
  log.resize(std::strlen(log.c_str()));
  return sys::Error(err, "load the device filter (bpf verifier: " + log + ")");
}

}  // namespace

sys::Result<std::vector<uint32_t>> attachedPrograms(int cgroupFd) {
  std::vector<uint32_t> ids(64);
  bpf_attr attr{};
  attr.query.target_fd = static_cast<uint32_t>(cgroupFd);
  attr.query.attach_type = BPF_CGROUP_DEVICE;
  attr.query.prog_ids = pointer(ids.data());
  attr.query.prog_cnt = static_cast<uint32_t>(ids.size());
  if (bpf(BPF_PROG_QUERY, attr) < 0) return sys::Error::fromErrno("query device filters (bpf)");
  ids.resize(attr.query.prog_cnt);
  return ids;
}

sys::Result<void> attachProgram(int cgroupFd, const std::vector<bpf_insn>& program) {
  auto previous = BERTH_TRY(attachedPrograms(cgroupFd));
  // Hold the old programs by fd before attaching, so the ids cannot be reused.
  std::vector<sys::UniqueFd> old;
  for (uint32_t id : previous) {
    bpf_attr attr{};
    attr.prog_id = id;
    sys::UniqueFd fd(bpf(BPF_PROG_GET_FD_BY_ID, attr));
    if (!fd && errno != ENOENT) return sys::Error::fromErrno("open device filter (bpf)");
    if (fd) old.push_back(std::move(fd));
  }
  auto prog = BERTH_TRY(load(program));
  bpf_attr attach{};
  attach.target_fd = static_cast<uint32_t>(cgroupFd);
  attach.attach_bpf_fd = static_cast<uint32_t>(prog.get());
  attach.attach_type = BPF_CGROUP_DEVICE;
  attach.attach_flags = BPF_F_ALLOW_MULTI;
  if (bpf(BPF_PROG_ATTACH, attach) < 0)
    return sys::Error::fromErrno("attach the device filter (bpf)");
  // The cgroup now holds its own reference to the program; `prog` may close.
  for (const auto& fd : old) {
    bpf_attr detach{};
    detach.target_fd = static_cast<uint32_t>(cgroupFd);
    detach.attach_bpf_fd = static_cast<uint32_t>(fd.get());
    detach.attach_type = BPF_CGROUP_DEVICE;
    if (bpf(BPF_PROG_DETACH, detach) < 0 && errno != ENOENT) {
      return sys::Error::fromErrno("detach the previous device filter (bpf)");
    }
  }
  return sys::ok();
}

}  // namespace berth::runtime::cgroup::devices
