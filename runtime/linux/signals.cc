// Signal name table and parsing; see signals.h.
#include "runtime/linux/signals.h"

#include <signal.h>

#include <array>
#include <charconv>
#include <cstring>

namespace berth::runtime {
namespace {

struct SignalEntry {
  const char* name;  // without the SIG prefix
  int number;
};

constexpr std::array kSignals = {
    SignalEntry{"HUP", SIGHUP},       SignalEntry{"INT", SIGINT},       SignalEntry{"QUIT", SIGQUIT},
    SignalEntry{"ILL", SIGILL},       SignalEntry{"TRAP", SIGTRAP},     SignalEntry{"ABRT", SIGABRT},
    SignalEntry{"IOT", SIGIOT},       SignalEntry{"BUS", SIGBUS},       SignalEntry{"FPE", SIGFPE},
    SignalEntry{"KILL", SIGKILL},     SignalEntry{"USR1", SIGUSR1},     SignalEntry{"SEGV", SIGSEGV},
    SignalEntry{"USR2", SIGUSR2},     SignalEntry{"PIPE", SIGPIPE},     SignalEntry{"ALRM", SIGALRM},
    SignalEntry{"TERM", SIGTERM},     SignalEntry{"STKFLT", SIGSTKFLT}, SignalEntry{"CHLD", SIGCHLD},
    SignalEntry{"CONT", SIGCONT},     SignalEntry{"STOP", SIGSTOP},     SignalEntry{"TSTP", SIGTSTP},
    SignalEntry{"TTIN", SIGTTIN},     SignalEntry{"TTOU", SIGTTOU},     SignalEntry{"URG", SIGURG},
    SignalEntry{"XCPU", SIGXCPU},     SignalEntry{"XFSZ", SIGXFSZ},     SignalEntry{"VTALRM", SIGVTALRM},
    SignalEntry{"PROF", SIGPROF},     SignalEntry{"WINCH", SIGWINCH},   SignalEntry{"IO", SIGIO},
    SignalEntry{"POLL", SIGPOLL},     SignalEntry{"PWR", SIGPWR},       SignalEntry{"SYS", SIGSYS},
};

bool parseInt(std::string_view s, int& out) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 'a' + 'A');
    if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 'a' + 'A');
    if (x != y) return false;
  }
  return true;
}

}  // namespace

sys::Result<int> parseSignal(std::string_view text) {
  auto bad = [&] { return sys::Error::invalid("unknown signal \"" + std::string(text) + "\""); };
  int n = 0;
  if (parseInt(text, n)) {
    if (n <= 0 || n > SIGRTMAX) return bad();
    return n;
  }
  std::string_view name = text;
  if (name.size() > 3 && equalsIgnoreCase(name.substr(0, 3), "SIG")) name.remove_prefix(3);
  for (const auto& s : kSignals) {
    if (equalsIgnoreCase(name, s.name)) return s.number;
  }
  // RTMIN, RTMIN+N, RTMAX, RTMAX-N
  if (name.size() >= 5 && equalsIgnoreCase(name.substr(0, 5), "RTMIN")) {
    int off = 0;
    if (name.size() > 5 && (name[5] != '+' || !parseInt(name.substr(6), off))) return bad();
    if (SIGRTMIN + off > SIGRTMAX || off < 0) return bad();
    return SIGRTMIN + off;
  }
  if (name.size() >= 5 && equalsIgnoreCase(name.substr(0, 5), "RTMAX")) {
    int off = 0;
    if (name.size() > 5 && (name[5] != '-' || !parseInt(name.substr(6), off))) return bad();
    if (SIGRTMAX - off < SIGRTMIN || off < 0) return bad();
    return SIGRTMAX - off;
  }
  return bad();
}

std::string signalName(int sig) {
  for (const auto& s : kSignals) {
    if (s.number == sig) return std::string("SIG") + s.name;
  }
  if (sig >= SIGRTMIN && sig <= SIGRTMAX) return "SIGRTMIN+" + std::to_string(sig - SIGRTMIN);
  return std::to_string(sig);
}

}  // namespace berth::runtime
