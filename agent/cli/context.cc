// The process Io, reaching berthd, and error reporting.
#include "agent/cli/context.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "runtime/sys/fd.h"

namespace berth::agent::cli {

namespace {

int64_t realNowNs() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

sys::Result<std::string> readWholeFile(const std::string& path) {
  sys::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return sys::Error::fromErrno("open " + path);
  std::string data;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys::Error::fromErrno("read " + path);
    if (n == 0) return data;
    data.append(buf, static_cast<size_t>(n));
  }
}

}  // namespace

Io Io::process() {
  Io io;
  io.out = &std::cout;
  io.err = &std::cerr;
  io.stdinFd = STDIN_FILENO;
  io.stdoutFd = STDOUT_FILENO;
  io.stdinIsTty = ::isatty(STDIN_FILENO) == 1;
  io.stdoutIsTty = ::isatty(STDOUT_FILENO) == 1;
  io.handleSignals = true;
  io.env = [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
  io.nowNs = realNowNs;
  io.readFile = readWholeFile;
  return io;
}

std::string Context::socketPath() const {
  if (!socketFlag_.empty()) return api::resolveSocketPath(socketFlag_);
  auto fromEnv = io_.env ? io_.env("BERTH_SOCKET") : std::nullopt;
  return api::resolveSocketPath(fromEnv.value_or(""));
}

api::CallResult<api::Client*> Context::client() {
  if (!client_) {
    auto connected = api::Client::connect(socketPath());
    if (!connected.ok()) return std::move(connected).error();
    client_.emplace(std::move(connected).value());
  }
  return &*client_;
}

std::string errorText(const api::CallError& error) {
  std::string text = error.message.empty() ? api::errorCodeText(error.code) : error.message;
  if (error.code == api::pb::UNIMPLEMENTED) {
    text += " (this berthd does not offer the call: use a berthd of the same release)";
  }
  return text;
}

int Context::fail(const api::CallError& error, int code) {
  return fail(errorText(error), code);
}

int Context::fail(const std::string& message, int code) {
  err() << "berth: " << message << "\n";
  err().flush();
  return code;
}

int Context::usage(const std::string& command, const std::string& message) {
  err() << "berth " << command << ": " << message << "\nSee 'berth " << command << " --help'.\n";
  err().flush();
  return kExitUsage;
}

void Context::warn(const std::string& message) {
  err() << "WARNING: " << message << "\n";
}

}  // namespace berth::agent::cli
