// Logging and shared command helpers; see globals.h.
#include "runtime/cli/globals.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>

#include "runtime/container/state.h"

namespace berth::runtime::cli {
namespace {

std::string jsonEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out;
}

void writeLog(const Globals& g, const char* level, const std::string& message) {
  if (g.logPath.empty()) return;
  int fd = ::open(g.logPath.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return;
  std::string line;
  if (g.logFormat == "json") {
    line = "{\"level\":\"" + std::string(level) + "\",\"msg\":\"" + jsonEscape(message) + "\",\"time\":\"" +
           container::nowRfc3339() + "\"}\n";
  } else {
    line = container::nowRfc3339() + " " + level + ": " + message + "\n";
  }
  (void)!::write(fd, line.data(), line.size());
  ::close(fd);
}

}  // namespace

int fail(const Globals& g, const std::string& message) {
  writeLog(g, "error", message);
  std::fprintf(stderr, "berth-runtime: %s\n", message.c_str());
  return 1;
}

int fail(const Globals& g, const sys::Error& error) { return fail(g, error.str()); }

void warn(const Globals& g, const std::string& message) {
  writeLog(g, "warning", message);
  std::fprintf(stderr, "berth-runtime: warning: %s\n", message.c_str());
}

void debug(const Globals& g, const std::string& message) {
  if (!g.debug) return;
  writeLog(g, "debug", message);
  std::fprintf(stderr, "berth-runtime: debug: %s\n", message.c_str());
}

bool parseCommandArgs(const Globals& g, const Command& cmd, const std::vector<FlagSpec>& flags,
                      const std::vector<std::string>& argv, size_t first, Args* out, int* exitCode) {
  for (size_t i = first; i < argv.size() && argv[i].size() > 1 && argv[i][0] == '-'; ++i) {
    if (argv[i] == "--help" || argv[i] == "-h") {
      std::printf("Usage: berth-runtime %s\n\n%s\n\nOptions:\n%s", cmd.usage, cmd.summary, usageOf(flags).c_str());
      *exitCode = 0;
      return false;
    }
  }
  auto parsed = Args::parse(argv, first, flags);
  if (!parsed) {
    *exitCode = fail(g, std::string(cmd.name) + ": " + parsed.error().str());
    return false;
  }
  *out = std::move(*parsed);
  return true;
}

bool takeContainerId(const Globals& g, const Args& args, std::string* id, int* exitCode) {
  if (args.positionals().empty()) {
    *exitCode = fail(g, "a container id is required");
    return false;
  }
  *id = args.positionals()[0];
  return true;
}

}  // namespace berth::runtime::cli
