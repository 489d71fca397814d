// Compiled seccomp program cache; see seccomp_cache.h for why it is safe.
#include "runtime/security/seccomp_cache.h"

#include <seccomp.h>
#include <sys/utsname.h>

#include <cstdio>
#include <cstring>
#include <string_view>

#include "runtime/sys/fs.h"

namespace berth::runtime::security {
namespace {

constexpr std::string_view kMagic = "BSC1";

// Length-prefixed, so no two different profiles serialize alike.
void put(std::string& out, std::string_view text) {
  out += std::to_string(text.size());
  out += ':';
  out += text;
}

void put(std::string& out, uint64_t number) {
  out += std::to_string(number);
  out += ';';
}

void putOptional(std::string& out, const std::optional<uint32_t>& number) {
  if (number) {
    put(out, *number);
  } else {
    out += "-;";
  }
}

void putList(std::string& out, const std::vector<std::string>& list) {
  put(out, list.size());
  for (const std::string& item : list) put(out, item);
}

std::string environmentKey() {
  std::string out;
  const scmp_version* version = seccomp_version();
  put(out, version->major);
  put(out, version->minor);
  put(out, version->micro);
  put(out, seccomp_api_get());
  utsname uts{};
  if (::uname(&uts) == 0) {
    put(out, uts.release);
    put(out, uts.machine);
  }
  return out;
}

void appendU32(std::string& out, uint32_t value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof value);
}

bool readU32(std::string_view& in, uint32_t& value) {
  if (in.size() < sizeof value) return false;
  std::memcpy(&value, in.data(), sizeof value);
  in.remove_prefix(sizeof value);
  return true;
}

std::string encodeEntry(const std::string& key, const SeccompProgram& program) {
  std::string out(kMagic);
  appendU32(out, static_cast<uint32_t>(key.size()));
  out += key;
  appendU32(out, program.flags);
  appendU32(out, program.usesNotify ? 1 : 0);
  appendU32(out, static_cast<uint32_t>(program.filter.size()));
  out.append(reinterpret_cast<const char*>(program.filter.data()),
             program.filter.size() * sizeof(sock_filter));
  return out;
}

// Fills `program` from an entry whose key is exactly `key`; false otherwise.
bool decodeEntry(std::string_view in, const std::string& key, SeccompProgram& program) {
  uint32_t keySize = 0, flags = 0, notify = 0, count = 0;
  if (in.substr(0, kMagic.size()) != kMagic) return false;
  in.remove_prefix(kMagic.size());
  if (!readU32(in, keySize) || in.size() < keySize || in.substr(0, keySize) != key) return false;
  in.remove_prefix(keySize);
  if (!readU32(in, flags) || !readU32(in, notify) || !readU32(in, count)) return false;
  if (count == 0 || in.size() != size_t{count} * sizeof(sock_filter)) return false;
  program.flags = flags;
  program.usesNotify = notify != 0;
  program.filter.resize(count);
  std::memcpy(program.filter.data(), in.data(), in.size());
  return true;
}

std::string entryPath(const std::string& cacheDir, std::string_view key) {
  uint64_t hash = 0xcbf29ce484222325ULL;  // FNV-1a: names the file only
  for (char c : key) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  char name[32];
  std::snprintf(name, sizeof name, "%016llx.bpf", static_cast<unsigned long long>(hash));
  return sys::joinPath(cacheDir, name);
}

}  // namespace

std::string seccompCacheKey(const config::Seccomp& profile) {
  std::string key = "berth-seccomp-v1;";
  key += environmentKey();
  put(key, profile.defaultAction);
  putOptional(key, profile.defaultErrnoRet);
  putList(key, profile.architectures);
  putList(key, profile.flags);
  // listenerPath/listenerMetadata do not shape the filter; they are copied
  // from the profile on every hit.
  put(key, profile.syscalls.size());
  for (const config::SeccompSyscall& rule : profile.syscalls) {
    putList(key, rule.names);
    put(key, rule.action);
    putOptional(key, rule.errnoRet);
    put(key, rule.args.size());
    for (const config::SeccompArg& arg : rule.args) {
      put(key, arg.index);
      put(key, arg.value);
      put(key, arg.valueTwo);
      put(key, arg.op);
    }
  }
  return key;
}

sys::Result<SeccompProgram> compileSeccompCached(const config::Seccomp& profile,
                                                 const std::string& cacheDir) {
  const std::string key = seccompCacheKey(profile);
  const std::string path = entryPath(cacheDir, key);
  SeccompProgram program;
  if (auto entry = sys::readFile(path); entry && decodeEntry(*entry, key, program)) {
    program.listenerPath = profile.listenerPath;
    program.listenerMetadata = profile.listenerMetadata;
    return program;
  }
  program = BERTH_TRY(compileSeccomp(profile));
  // Best effort: a read-only or full cache directory must not fail a start.
  if (sys::mkdirAll(cacheDir, 0700))
    (void)sys::writeFileAtomic(path, encodeEntry(key, program), 0600);
  return program;
}

namespace {

std::string& processCacheDir() {
  static std::string dir;
  return dir;
}

}  // namespace

void setProcessSeccompCacheDir(std::string cacheDir) {
  processCacheDir() = std::move(cacheDir);
}

sys::Result<SeccompProgram> compileSeccompForProcess(const config::Seccomp& profile) {
  const std::string& dir = processCacheDir();
  return dir.empty() ? compileSeccomp(profile) : compileSeccompCached(profile, dir);
}

}  // namespace berth::runtime::security
