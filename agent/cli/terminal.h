// The local terminal during interactive sessions: raw mode (restored by the
// destructor, so on every way out of a session), its size, and the signals
// that become session input (SIGWINCH -> resize, SIGINT/SIGTERM -> signal).
#pragma once

#include <signal.h>
#include <termios.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "runtime/sys/fd.h"
#include "runtime/sys/result.h"

namespace berth::agent::cli {

struct WindowSize {
  std::uint32_t rows = 0;
  std::uint32_t cols = 0;
};

// The size of the terminal on `fd`; nullopt when it is not a terminal.
std::optional<WindowSize> terminalSize(int fd);

// Puts a terminal into raw mode (no echo, no line editing, no signals from
// keys: Ctrl-C reaches the container's pty as a byte) until destroyed.
class RawTerminal {
 public:
  static sys::Result<RawTerminal> enable(int fd);
  RawTerminal(RawTerminal&& other) noexcept;
  RawTerminal& operator=(RawTerminal&&) = delete;
  RawTerminal(const RawTerminal&) = delete;
  ~RawTerminal();

 private:
  RawTerminal(int fd, const struct termios& saved) : fd_(fd), saved_(saved) {}
  int fd_ = -1;
  struct termios saved_ {};
};

// Turns signals into bytes on a pipe (one byte per delivered signal, the
// signal number), so a poll loop handles them beside stdin. Only one may
// exist at a time; the previous handlers come back on destruction.
class SignalPipe {
 public:
  static sys::Result<SignalPipe> install(const std::vector<int>& signals);
  SignalPipe(SignalPipe&& other) noexcept;
  SignalPipe& operator=(SignalPipe&&) = delete;
  SignalPipe(const SignalPipe&) = delete;
  ~SignalPipe();

  int fd() const { return read_.get(); }
  // The next signal number, or 0 when none is pending.
  int next();

 private:
  SignalPipe() = default;
  sys::UniqueFd read_;
  sys::UniqueFd write_;
  std::vector<std::pair<int, struct sigaction>> saved_;
};

}  // namespace berth::agent::cli
