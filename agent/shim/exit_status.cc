// exit.json encoding; see exit_status.h.
#include "agent/shim/exit_status.h"

#include <sys/wait.h>
#include <time.h>

#include <charconv>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "runtime/sys/fs.h"

namespace berth::agent::shim {

ExitStatus exitStatusFromWait(int waitStatus, int64_t finishedAtNs) {
  ExitStatus s;
  s.finishedAtNs = finishedAtNs;
  if (WIFSIGNALED(waitStatus)) {
    s.signal = WTERMSIG(waitStatus);
    s.exitCode = 128 + s.signal;
  } else if (WIFEXITED(waitStatus)) {
    s.exitCode = WEXITSTATUS(waitStatus);
  }
  return s;
}

int64_t realtimeNowNs() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

std::string formatRfc3339Nanos(int64_t unixNs) {
  time_t secs = static_cast<time_t>(unixNs / 1000000000);
  long nanos = static_cast<long>(unixNs % 1000000000);
  if (nanos < 0) nanos += 1000000000, --secs;
  struct tm tm {};
  ::gmtime_r(&secs, &tm);
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, nanos);
  return buf;
}

sys::Result<int64_t> parseRfc3339Nanos(const std::string& text) {
  struct tm tm {};
  long nanos = 0;
  int consumed = 0;
  char nanoText[10] = {};
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%9[0-9]Z%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, nanoText, &consumed) != 7 ||
      static_cast<size_t>(consumed) != text.size()) {
    return sys::Error::invalid("not an RFC 3339 UTC time with fraction: \"" + text + "\"");
  }
  // "5" means 500000000 ns: pad the fraction to 9 digits.
  std::string frac(nanoText);
  frac.resize(9, '0');
  std::from_chars(frac.data(), frac.data() + frac.size(), nanos);
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  time_t secs = ::timegm(&tm);
  return static_cast<int64_t>(secs) * 1000000000 + nanos;
}

std::string encodeExitJson(const ExitStatus& s) {
  char buf[160];
  std::snprintf(buf, sizeof(buf), "{\"exitCode\":%d,\"signal\":%d,\"finishedAt\":\"%s\"}\n", s.exitCode, s.signal,
                formatRfc3339Nanos(s.finishedAtNs).c_str());
  return buf;
}

sys::Result<ExitStatus> parseExitJson(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return sys::Error::invalid("exit.json: not a JSON object");
  auto code = j.find("exitCode");
  auto sig = j.find("signal");
  auto at = j.find("finishedAt");
  if (code == j.end() || !code->is_number_integer() || sig == j.end() || !sig->is_number_integer() ||
      at == j.end() || !at->is_string()) {
    return sys::Error::invalid("exit.json: expected integer exitCode, integer signal and string finishedAt");
  }
  ExitStatus s;
  s.exitCode = code->get<int>();
  s.signal = sig->get<int>();
  s.finishedAtNs = BERTH_TRY_CTX(parseRfc3339Nanos(at->get<std::string>()), "exit.json: finishedAt");
  return s;
}

sys::Result<void> writeExitFile(const std::string& dir, const ExitStatus& status) {
  // Never torn (a rename), and in the page cache before the shim exits,
  // which is all a berthd that was killed meanwhile needs; a power cut
  // leaves no container running whose exit would matter.
  return sys::writeFileReplace(sys::joinPath(dir, kExitFileName), encodeExitJson(status), 0644);
}

sys::Result<ExitStatus> readExitFile(const std::string& dir) {
  std::string path = sys::joinPath(dir, kExitFileName);
  std::string text = BERTH_TRY(sys::readFile(path));
  return std::move(parseExitJson(text)).context(path);
}

}  // namespace berth::agent::shim
