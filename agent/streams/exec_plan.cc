// The pure decisions of exec and shell; see exec_plan.h.
#include "agent/streams/exec_plan.h"

#include <sys/wait.h>

#include <csignal>
#include <string_view>

namespace berth::agent::streams {
namespace {

constexpr int kMaxSignal = 64;

bool hasKey(const std::vector<std::string>& env, const std::string& key) {
  for (const auto& e : env) {
    if (e.compare(0, key.size() + 1, key + "=") == 0) return true;
  }
  return false;
}

constexpr std::string_view kStderrPrefix = "berth-runtime: ";
constexpr std::string_view kLogMarker = " error: ";

// The message a line of the runtime's stderr or --log carries, if any.
std::optional<std::string_view> complaintIn(std::string_view line) {
  if (line.substr(0, kStderrPrefix.size()) == kStderrPrefix) {
    std::string_view message = line.substr(kStderrPrefix.size());
    if (message.substr(0, 9) == "warning: " || message.substr(0, 7) == "debug: ") return std::nullopt;
    return message;
  }
  if (size_t at = line.find(kLogMarker); at != std::string_view::npos) return line.substr(at + kLogMarker.size());
  return std::nullopt;
}

bool contains(const std::string& text, const char* needle) {
  return text.find(needle) != std::string::npos;
}

}  // namespace

ExecRequest execRequestFrom(const pb::ExecStart& request) {
  ExecRequest r;
  r.id = request.id();
  r.cmd.assign(request.cmd().begin(), request.cmd().end());
  r.env.assign(request.env().begin(), request.env().end());
  r.user = request.user();
  r.workdir = request.workdir();
  r.tty = request.tty();
  r.stdin = request.stdin();
  if (request.has_size()) {
    r.rows = request.size().rows();
    r.cols = request.size().cols();
  }
  return r;
}

ExecRequest shellRequestFrom(const pb::ShellStart& request, const engine::ContainerView& view) {
  ExecRequest r;
  r.id = request.id();
  std::string shell = request.shell();
  if (shell.empty()) shell = view.shell;
  if (shell.empty()) shell = "/bin/sh";
  r.cmd = {shell};
  r.env.assign(request.env().begin(), request.env().end());
  r.user = request.user();
  r.workdir = request.workdir();
  r.tty = true;
  r.stdin = true;
  if (request.has_size()) {
    r.rows = request.size().rows();
    r.cols = request.size().cols();
  }
  return r;
}

void setEnv(std::vector<std::string>& env, const std::string& keyValue) {
  std::string key = keyValue.substr(0, keyValue.find('='));
  for (auto& e : env) {
    if (e.compare(0, key.size() + 1, key + "=") == 0) {
      e = keyValue;
      return;
    }
  }
  env.push_back(keyValue);
}

sys::Result<runtime::config::Process> buildExecProcess(const runtime::config::Process& base,
                                                       const engine::ContainerView& view,
                                                       const ExecRequest& request,
                                                       const std::optional<ExecUser>& user) {
  if (request.cmd.empty() || request.cmd.front().empty()) {
    return sys::Error::invalid("exec: a command is required");
  }
  for (const auto& e : request.env) {
    if (e.empty() || e.front() == '=') return sys::Error::invalid("exec: bad environment entry \"" + e + "\"");
  }
  runtime::config::Process p = base;
  p.args = request.cmd;
  p.env = view.env.empty() ? base.env : view.env;
  for (const auto& e : request.env) setEnv(p.env, e.find('=') == std::string::npos ? e + "=" : e);
  if (user) {
    p.user.uid = user->uid;
    p.user.gid = user->gid;
    p.user.additionalGids = user->additionalGids;
    if (!user->home.empty() && !hasKey(p.env, "HOME")) p.env.push_back("HOME=" + user->home);
  }
  if (!request.workdir.empty()) {
    p.cwd = request.workdir;
  } else if (!view.workdir.empty()) {
    p.cwd = view.workdir;
  }
  p.terminal = request.tty;
  if (request.tty && !hasKey(p.env, "TERM")) p.env.push_back("TERM=xterm");
  p.consoleSize.reset();
  if (request.tty && request.rows > 0 && request.cols > 0) {
    p.consoleSize = runtime::config::ConsoleSize{request.rows, request.cols};
  }
  return p;
}

std::vector<std::string> runtimeExecArgv(const RuntimeExecPaths& paths,
                                         const std::string& stateRoot,
                                         const std::string& runtimeId) {
  std::vector<std::string> argv = {paths.runtimeBinary, "--root", stateRoot};
  if (!paths.logFile.empty()) argv.insert(argv.end(), {"--log", paths.logFile});
  argv.insert(argv.end(), {"exec", "--process", paths.processJson, "--pid-file", paths.pidFile});
  if (!paths.consoleSocket.empty()) {
    argv.insert(argv.end(), {"--tty", "--console-socket", paths.consoleSocket});
  }
  argv.push_back(runtimeId);
  return argv;
}

pb::ExitStatus exitStatusFromRuntime(int waitStatus) {
  pb::ExitStatus status;
  if (WIFSIGNALED(waitStatus)) {
    status.set_signal(WTERMSIG(waitStatus));
    status.set_code(128 + WTERMSIG(waitStatus));
    return status;
  }
  int code = WIFEXITED(waitStatus) ? WEXITSTATUS(waitStatus) : 1;
  status.set_code(code);
  if (code > 128 && code <= 128 + kMaxSignal) status.set_signal(code - 128);
  return status;
}

std::string runtimeComplaint(const std::string& runtimeOutput) {
  std::string_view text(runtimeOutput);
  std::string found;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    if (auto message = complaintIn(text.substr(pos, end - pos))) found = *message;
    pos = end + 1;
  }
  return found;
}

std::optional<int> commandFailureExitCode(int waitStatus, const std::string& runtimeOutput) {
  if (!WIFEXITED(waitStatus)) return std::nullopt;
  int code = WEXITSTATUS(waitStatus);
  // 127 alone is also what a runtime binary that failed to execve exits
  // with: only the runtime's own complaint makes it the command's.
  if ((code != 126 && code != 127) || runtimeComplaint(runtimeOutput).empty()) return std::nullopt;
  return code;
}

api::CallError execStartError(const std::string& containerName, const std::string& runtimeOutput,
                              int waitStatus) {
  std::string why = runtimeComplaint(runtimeOutput);
  if (contains(why, "not running") || contains(why, "cannot exec in a")) {
    return {pb::FAILED_PRECONDITION, "container " + containerName + " is not running"};
  }
  if (why.empty()) {
    why = "berth-runtime exec exited with status " +
          std::to_string(exitStatusFromRuntime(waitStatus).code()) + " before the process started";
  }
  pb::ErrorCode code = pb::INTERNAL;
  if (contains(why, "No such file or directory") || contains(why, "not found")) {
    code = pb::NOT_FOUND;
  } else if (contains(why, "Permission denied")) {
    code = pb::PERMISSION_DENIED;
  } else if (contains(why, "unable to find user") || contains(why, "Invalid argument")) {
    code = pb::INVALID_ARGUMENT;
  }
  return {code, "exec in container " + containerName + ": " + why};
}

}  // namespace berth::agent::streams
