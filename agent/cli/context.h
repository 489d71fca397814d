// What every command works with: the process's streams and environment (as
// values, so tests run whole commands in-process with their own streams), the
// global flags, and the way to reach berthd and to report failures.
//
// Exit codes scripts can rely on: 0 ok, 1 the call failed, 125 a usage error
// (and, for run, anything that kept the container from running); run, exec,
// shell and start -a exit with the container process's own code.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>

#include "agent/api/client.h"
#include "runtime/sys/result.h"

namespace berth::agent::cli {

namespace api = ::berth::agent::api;

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 125;

using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

struct Io {
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;
  int stdinFd = 0;
  int stdoutFd = 1;  // the terminal whose size a tty session reports
  bool stdinIsTty = false;
  bool stdoutIsTty = false;
  // Whether interactive sessions install handlers for SIGWINCH, SIGINT and
  // SIGTERM (the real binary); tests running in-process leave them alone.
  bool handleSignals = false;
  EnvLookup env;
  std::function<int64_t()> nowNs;
  // Reads a file named on the command line (--env-file).
  std::function<sys::Result<std::string>(const std::string&)> readFile;

  // The process's own stdin/stdout/stderr, environment and clock.
  static Io process();
};

class Context {
 public:
  Context(Io& io, std::string socketFlag) : io_(io), socketFlag_(std::move(socketFlag)) {}

  Io& io() { return io_; }
  std::ostream& out() { return *io_.out; }
  std::ostream& err() { return *io_.err; }

  // --socket, else $BERTH_SOCKET (from io.env), else the default.
  std::string socketPath() const;
  // Connects and says hello (once; later calls reuse the client).
  api::CallResult<api::Client*> client();

  // "berth: <message>" on stderr; returns kExitFailed (or `code`).
  int fail(const api::CallError& error, int code = kExitFailed);
  int fail(const std::string& message, int code = kExitFailed);
  // "berth <command>: <message>" + where to find help; returns kExitUsage.
  int usage(const std::string& command, const std::string& message);
  void warn(const std::string& message);

 private:
  Io& io_;
  std::string socketFlag_;
  std::optional<api::Client> client_;
};

// The message shown for a failed call, with advice for the codes a user can act on.
std::string errorText(const api::CallError& error);

}  // namespace berth::agent::cli
