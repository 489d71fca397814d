// Thin wrappers for system calls glibc 2.36 does not wrap (clone3, pidfd_*,
// openat2, mount API), so callers never use raw syscall() themselves.
#pragma once

#include <linux/close_range.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstdint>

namespace berth::sys {

inline long clone3(struct clone_args* args) {
  return ::syscall(SYS_clone3, args, sizeof(*args));
}
inline int pidfdOpen(pid_t pid, unsigned flags = 0) {
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, flags));
}
inline int pidfdSendSignal(int pidfd, int sig) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}
inline int openat2(int dirfd, const char* path, struct open_how* how) {
  return static_cast<int>(::syscall(SYS_openat2, dirfd, path, how, sizeof(*how)));
}
inline int pivotRoot(const char* new_root, const char* put_old) {
  return static_cast<int>(::syscall(SYS_pivot_root, new_root, put_old));
}
inline int closeRange(unsigned first, unsigned last, unsigned flags) {
  return static_cast<int>(::syscall(SYS_close_range, first, last, flags));
}

}  // namespace berth::sys
