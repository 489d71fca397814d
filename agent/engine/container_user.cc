// User resolution inside a rootfs: see container_user.h.
#include "agent/engine/container_user.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>

#include "runtime/sys/fd.h"
#include "runtime/sys/fs.h"

namespace berth::agent::engine {
namespace {

using sys::Error;
using sys::Result;

// A real /etc/group of a big image is a few KiB; 4 MiB leaves room for
// generated ones while a hostile file cannot make the daemon read gigabytes.
constexpr size_t kMaxAccountFileBytes = 4 << 20;

std::optional<uint32_t> parseId(std::string_view text) {
  uint32_t value = 0;
  if (text.empty()) return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// Splits one line into its ':'-separated fields.
std::vector<std::string_view> splitFields(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t start = 0;
  for (;;) {
    size_t colon = line.find(':', start);
    fields.push_back(line.substr(start, colon - start));
    if (colon == std::string_view::npos) return fields;
    start = colon + 1;
  }
}

// Calls fn(fields) for every non-empty, non-comment line.
template <class Fn>
void forEachLine(std::string_view text, Fn fn) {
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line[0] == '#' || line[0] == '+' || line[0] == '-') continue;
    fn(splitFields(line));
  }
}

}  // namespace

std::vector<PasswdEntry> parsePasswd(std::string_view text) {
  std::vector<PasswdEntry> entries;
  forEachLine(text, [&](const std::vector<std::string_view>& f) {
    // name:password:uid:gid:gecos:home:shell
    if (f.size() < 4 || f[0].empty()) return;
    auto uid = parseId(f[2]);
    auto gid = parseId(f[3]);
    if (!uid || !gid) return;
    entries.push_back({std::string(f[0]), *uid, *gid, f.size() > 5 ? std::string(f[5]) : ""});
  });
  return entries;
}

std::vector<GroupEntry> parseGroup(std::string_view text) {
  std::vector<GroupEntry> entries;
  forEachLine(text, [&](const std::vector<std::string_view>& f) {
    // name:password:gid:member,member
    if (f.size() < 3 || f[0].empty()) return;
    auto gid = parseId(f[2]);
    if (!gid) return;
    GroupEntry entry{std::string(f[0]), *gid, {}};
    std::string_view members = f.size() > 3 ? f[3] : std::string_view();
    while (!members.empty()) {
      size_t comma = members.find(',');
      std::string_view member = members.substr(0, comma);
      if (!member.empty()) entry.members.emplace_back(member);
      members = comma == std::string_view::npos ? std::string_view() : members.substr(comma + 1);
    }
    entries.push_back(std::move(entry));
  });
  return entries;
}

Result<ResolvedUser> resolveUser(std::string_view spec, const std::optional<std::string>& passwd,
                                 const std::optional<std::string>& group) {
  size_t colon = spec.find(':');
  std::string_view userArg = spec.substr(0, colon);
  std::string_view groupArg = colon == std::string_view::npos ? "" : spec.substr(colon + 1);
  if (userArg.empty()) userArg = "0";  // "" and ":grp" mean root, as in Docker
  if (colon != std::string_view::npos && groupArg.empty()) {
    return Error::invalid("invalid user \"" + std::string(spec) + "\": empty group after ':'");
  }

  ResolvedUser out;
  std::optional<uint32_t> uid = parseId(userArg);
  std::vector<PasswdEntry> users = passwd ? parsePasswd(*passwd) : std::vector<PasswdEntry>{};
  auto entry = std::find_if(users.begin(), users.end(), [&](const PasswdEntry& e) {
    return e.name == userArg || (uid && e.uid == *uid);
  });
  if (entry != users.end()) {
    out.uid = entry->uid;
    out.gid = entry->gid;
    if (!entry->home.empty()) out.home = entry->home;
  } else if (uid) {
    out.uid = *uid;  // a numeric user needs no entry; its group stays 0 (runc)
  } else {
    return Error(ENOENT, "unable to find user " + std::string(userArg) +
                             (passwd ? ": no matching entries in passwd file"
                                     : ": the image has no /etc/passwd"));
  }

  std::vector<GroupEntry> groups = group ? parseGroup(*group) : std::vector<GroupEntry>{};
  if (!groupArg.empty()) {
    std::optional<uint32_t> gid = parseId(groupArg);
    auto g = std::find_if(groups.begin(), groups.end(), [&](const GroupEntry& e) {
      return e.name == groupArg || (gid && e.gid == *gid);
    });
    if (g != groups.end()) {
      out.gid = g->gid;
    } else if (gid) {
      out.gid = *gid;
    } else {
      return Error(ENOENT, "unable to find group " + std::string(groupArg) +
                               (group ? ": no matching entries in group file"
                                      : ": the image has no /etc/group"));
    }
  }

  out.additionalGids.push_back(out.gid);
  if (entry != users.end()) {
    for (const GroupEntry& g : groups) {
      bool member = std::find(g.members.begin(), g.members.end(), entry->name) != g.members.end();
      bool seen = std::find(out.additionalGids.begin(), out.additionalGids.end(), g.gid) !=
                  out.additionalGids.end();
      if (member && !seen) out.additionalGids.push_back(g.gid);
    }
  }
  return out;
}

Result<std::optional<std::string>> readRegularFileInRoot(int rootfd, const std::string& path,
                                                         size_t maxBytes) {
  // O_NONBLOCK: opening a FIFO planted in the image must not hang the daemon.
  auto fd = sys::openInRoot(rootfd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
  if (!fd) {
    int code = fd.error().code();
    if (code == ENOENT || code == ENOTDIR) return std::optional<std::string>();
    return std::move(fd).error();
  }
  struct stat st {};
  if (::fstat(fd->get(), &st) < 0) return Error::fromErrno("stat " + path + " inside root");
  if (!S_ISREG(st.st_mode)) return Error::invalid(path + " in the image is not a regular file");
  if (static_cast<uint64_t>(st.st_size) > maxBytes) {
    return Error::invalid(path + " in the image is larger than " + std::to_string(maxBytes) +
                          " bytes");
  }
  std::string data(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::read(fd->get(), data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::fromErrno("read " + path + " inside root");
    if (n == 0) break;  // shrank while we read: use what is there
    done += static_cast<size_t>(n);
  }
  data.resize(done);
  return std::optional<std::string>(std::move(data));
}

Result<ResolvedUser> resolveUserInRootfs(std::string_view spec, const std::string& rootfsDir) {
  sys::UniqueFd root(::open(rootfsDir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) return Error::fromErrno("open rootfs " + rootfsDir);
  auto passwd = BERTH_TRY(readRegularFileInRoot(root.get(), "/etc/passwd", kMaxAccountFileBytes));
  auto group = BERTH_TRY(readRegularFileInRoot(root.get(), "/etc/group", kMaxAccountFileBytes));
  return resolveUser(spec, passwd, group);
}

}  // namespace berth::agent::engine
