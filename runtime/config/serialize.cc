// Writing config.json from the model: see serialize.h.
//
// A small streaming writer (commas, indentation, string escaping) and one
// write() overload per struct of spec.h listing its fields in the same order
// as parse.cc reads them. Fields with a default that parseSpec() would
// restore by itself are skipped; every rule about which fields are always
// written mirrors the runtime-spec's required fields and runc's output.
#include "runtime/config/serialize.h"

#include <array>
#include <charconv>
#include <concepts>
#include <cstdint>
#include <string_view>

namespace berth::runtime::config {
namespace {

class Writer {
 public:
  explicit Writer(JsonStyle style) : indent_(style == JsonStyle::kIndented) {
    // A podman-sized config is ~11 KiB compact: one allocation for most configs.
    out_.reserve(16384);
  }

  void beginObject() { open('{'); }
  void endObject() { close('}'); }
  void beginArray() { open('['); }
  void endArray() { close(']'); }

  void key(std::string_view name) {
    separate();
    appendString(name);
    out_ += indent_ ? ": " : ":";
    afterKey_ = true;
  }

  void value(std::string_view s) {
    beforeValue();
    appendString(s);
  }
  void value(bool b) {
    beforeValue();
    out_ += b ? "true" : "false";
  }
  template <std::integral T>
  requires(!std::same_as<T, bool>) void value(T n) {
    beforeValue();
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
    (void)ec;  // 24 bytes hold any 64-bit integer
    out_.append(buf, end);
  }

  std::string take() && { return std::move(out_); }

 private:
  void open(char c) {
    beforeValue();
    out_ += c;
    ++depth_;
    first_ = true;
  }
  void close(char c) {
    --depth_;
    if (indent_ && !first_) newline();  // "{}" and "[]" stay on one line
    out_ += c;
    first_ = false;
  }
  void beforeValue() {
    if (afterKey_) {
      afterKey_ = false;
      return;
    }
    separate();
  }
  void separate() {
    if (!first_) out_ += ',';
    first_ = false;
    if (indent_ && depth_ > 0) newline();
  }
  void newline() {
    out_ += '\n';
    out_.append(static_cast<size_t>(depth_), '\t');
  }
  void appendString(std::string_view s);

  std::string out_;
  int depth_ = 0;
  bool first_ = true;
  bool afterKey_ = false;
  bool indent_ = false;
};

// Length of the valid UTF-8 sequence at s[i] (lead byte >= 0x80), or 0 when
// it is not one: overlong forms, surrogates and values above U+10FFFF are
// invalid (RFC 3629), exactly what a strict JSON parser refuses.
size_t utf8SequenceLength(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  size_t len = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;  // overlong
    if (c == 0xED) hi = 0x9F;  // UTF-16 surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;  // overlong
    if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  }
  return len;
}

// Bytes that cannot be copied as they are: control characters, '"', '\\'
// and the start of a multi-byte UTF-8 sequence (which must be checked).
constexpr auto kNeedsCare = [] {
  std::array<bool, 256> table{};
  for (int c = 0; c < 256; ++c) table[c] = c < 0x20 || c == '"' || c == '\\' || c >= 0x80;
  return table;
}();

void Writer::appendString(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out_ += '"';
  size_t run = 0;  // start of the pending run of bytes copied as they are
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (!kNeedsCare[c]) {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      if (size_t len = utf8SequenceLength(s, i)) {
        i += len;
        continue;
      }
    }
    out_.append(s.data() + run, i - run);
    switch (c) {
      case '"':
        out_ += "\\\"";
        break;
      case '\\':
        out_ += "\\\\";
        break;
      case '\n':
        out_ += "\\n";
        break;
      case '\r':
        out_ += "\\r";
        break;
      case '\t':
        out_ += "\\t";
        break;
      default:
        if (c >= 0x80) {
          out_ += "\\ufffd";
        } else {
          out_ += "\\u00";
          out_ += kHex[c >> 4];
          out_ += kHex[c & 0xF];
        }
    }
    run = ++i;
  }
  out_.append(s.data() + run, s.size() - run);
  out_ += '"';
}

// ---- generic field helpers ----

void write(Writer& w, const std::string& s) {
  w.value(std::string_view(s));
}
template <std::integral T>
void write(Writer& w, T n) {
  w.value(n);
}

// Always written (required by the runtime-spec, or a value parse cannot restore).
template <class T>
void field(Writer& w, std::string_view key, const T& value) {
  w.key(key);
  write(w, value);
}

void fieldIfSet(Writer& w, const char* key, const std::string& s) {
  if (!s.empty()) field(w, key, s);
}
void fieldIfSet(Writer& w, const char* key, bool b) {
  if (b) field(w, key, b);
}
template <class T>
void fieldIfSet(Writer& w, const char* key, const std::optional<T>& value) {
  if (value) field(w, key, *value);
}
template <class T>
void fieldIfSet(Writer& w, const char* key, const std::vector<T>& items) {
  if (!items.empty()) field(w, key, items);
}
template <class T>
void fieldIfSet(Writer& w, const char* key, const std::map<std::string, T>& items) {
  if (!items.empty()) field(w, key, items);
}

template <class T>
void write(Writer& w, const std::vector<T>& items) {
  w.beginArray();
  for (const T& item : items) write(w, item);
  w.endArray();
}

template <class T>
void write(Writer& w, const std::map<std::string, T>& items) {
  w.beginObject();
  for (const auto& [key, item] : items) field(w, key, item);
  w.endObject();
}

// ---- process ----

void write(Writer& w, const User& u) {
  w.beginObject();
  field(w, "uid", u.uid);
  field(w, "gid", u.gid);
  fieldIfSet(w, "umask", u.umask);
  fieldIfSet(w, "additionalGids", u.additionalGids);
  fieldIfSet(w, "username", u.username);
  w.endObject();
}

void write(Writer& w, const Rlimit& r) {
  w.beginObject();
  field(w, "type", r.type);
  field(w, "hard", r.hard);
  field(w, "soft", r.soft);
  w.endObject();
}

void write(Writer& w, const Capabilities& c) {
  w.beginObject();
  fieldIfSet(w, "bounding", c.bounding);
  fieldIfSet(w, "effective", c.effective);
  fieldIfSet(w, "inheritable", c.inheritable);
  fieldIfSet(w, "permitted", c.permitted);
  fieldIfSet(w, "ambient", c.ambient);
  w.endObject();
}

void write(Writer& w, const ConsoleSize& c) {
  w.beginObject();
  field(w, "height", c.height);
  field(w, "width", c.width);
  w.endObject();
}

void write(Writer& w, const Process& p) {
  w.beginObject();
  fieldIfSet(w, "terminal", p.terminal);
  fieldIfSet(w, "consoleSize", p.consoleSize);
  field(w, "user", p.user);
  fieldIfSet(w, "args", p.args);
  fieldIfSet(w, "commandLine", p.commandLine);
  fieldIfSet(w, "env", p.env);
  field(w, "cwd", p.cwd);  // required, and its model default is "/", not ""
  fieldIfSet(w, "capabilities", p.capabilities);
  fieldIfSet(w, "rlimits", p.rlimits);
  fieldIfSet(w, "noNewPrivileges", p.noNewPrivileges);
  fieldIfSet(w, "apparmorProfile", p.apparmorProfile);
  fieldIfSet(w, "oomScoreAdj", p.oomScoreAdj);
  fieldIfSet(w, "selinuxLabel", p.selinuxLabel);
  w.endObject();
}

// ---- root, mounts, hooks ----

void write(Writer& w, const Root& r) {
  w.beginObject();
  field(w, "path", r.path);
  fieldIfSet(w, "readonly", r.readonly);
  w.endObject();
}

void write(Writer& w, const IdMapping& m) {
  w.beginObject();
  field(w, "containerID", m.containerID);
  field(w, "hostID", m.hostID);
  field(w, "size", m.size);
  w.endObject();
}

void write(Writer& w, const Mount& m) {
  w.beginObject();
  field(w, "destination", m.destination);
  fieldIfSet(w, "type", m.type);
  fieldIfSet(w, "source", m.source);
  fieldIfSet(w, "options", m.options);
  fieldIfSet(w, "uidMappings", m.uidMappings);
  fieldIfSet(w, "gidMappings", m.gidMappings);
  w.endObject();
}

void write(Writer& w, const Hook& h) {
  w.beginObject();
  field(w, "path", h.path);
  fieldIfSet(w, "args", h.args);
  fieldIfSet(w, "env", h.env);
  fieldIfSet(w, "timeout", h.timeout);
  w.endObject();
}

void write(Writer& w, const Hooks& h) {
  w.beginObject();
  fieldIfSet(w, "prestart", h.prestart);
  fieldIfSet(w, "createRuntime", h.createRuntime);
  fieldIfSet(w, "createContainer", h.createContainer);
  fieldIfSet(w, "startContainer", h.startContainer);
  fieldIfSet(w, "poststart", h.poststart);
  fieldIfSet(w, "poststop", h.poststop);
  w.endObject();
}

// ---- linux: namespaces, devices ----

void write(Writer& w, const Namespace& n) {
  w.beginObject();
  field(w, "type", n.type);
  fieldIfSet(w, "path", n.path);
  w.endObject();
}

void write(Writer& w, const Device& d) {
  w.beginObject();
  field(w, "path", d.path);
  field(w, "type", d.type);
  // Required for c, b and u (parse rejects those without them); meaningless
  // for p, where runc omits them too.
  if (d.type != "p" || d.major != 0 || d.minor != 0) {
    field(w, "major", d.major);
    field(w, "minor", d.minor);
  }
  fieldIfSet(w, "fileMode", d.fileMode);
  fieldIfSet(w, "uid", d.uid);
  fieldIfSet(w, "gid", d.gid);
  w.endObject();
}

// ---- linux.resources ----

void write(Writer& w, const DeviceCgroupRule& r) {
  w.beginObject();
  field(w, "allow", r.allow);
  fieldIfSet(w, "type", r.type);
  fieldIfSet(w, "major", r.major);
  fieldIfSet(w, "minor", r.minor);
  fieldIfSet(w, "access", r.access);
  w.endObject();
}

void write(Writer& w, const MemoryResources& m) {
  w.beginObject();
  fieldIfSet(w, "limit", m.limit);
  fieldIfSet(w, "reservation", m.reservation);
  fieldIfSet(w, "swap", m.swap);
  fieldIfSet(w, "kernel", m.kernel);
  fieldIfSet(w, "kernelTCP", m.kernelTCP);
  fieldIfSet(w, "swappiness", m.swappiness);
  fieldIfSet(w, "disableOOMKiller", m.disableOOMKiller);
  fieldIfSet(w, "useHierarchy", m.useHierarchy);
  fieldIfSet(w, "checkBeforeUpdate", m.checkBeforeUpdate);
  w.endObject();
}

void write(Writer& w, const CpuResources& c) {
  w.beginObject();
  fieldIfSet(w, "shares", c.shares);
  fieldIfSet(w, "quota", c.quota);
  fieldIfSet(w, "burst", c.burst);
  fieldIfSet(w, "period", c.period);
  fieldIfSet(w, "realtimeRuntime", c.realtimeRuntime);
  fieldIfSet(w, "realtimePeriod", c.realtimePeriod);
  fieldIfSet(w, "cpus", c.cpus);
  fieldIfSet(w, "mems", c.mems);
  fieldIfSet(w, "idle", c.idle);
  w.endObject();
}

void write(Writer& w, const PidsResources& p) {
  w.beginObject();
  fieldIfSet(w, "limit", p.limit);
  w.endObject();
}

void write(Writer& w, const WeightDevice& d) {
  w.beginObject();
  field(w, "major", d.major);
  field(w, "minor", d.minor);
  fieldIfSet(w, "weight", d.weight);
  fieldIfSet(w, "leafWeight", d.leafWeight);
  w.endObject();
}

void write(Writer& w, const ThrottleDevice& d) {
  w.beginObject();
  field(w, "major", d.major);
  field(w, "minor", d.minor);
  field(w, "rate", d.rate);
  w.endObject();
}

void write(Writer& w, const BlockIoResources& b) {
  w.beginObject();
  fieldIfSet(w, "weight", b.weight);
  fieldIfSet(w, "leafWeight", b.leafWeight);
  fieldIfSet(w, "weightDevice", b.weightDevice);
  fieldIfSet(w, "throttleReadBpsDevice", b.throttleReadBpsDevice);
  fieldIfSet(w, "throttleWriteBpsDevice", b.throttleWriteBpsDevice);
  fieldIfSet(w, "throttleReadIOPSDevice", b.throttleReadIOPSDevice);
  fieldIfSet(w, "throttleWriteIOPSDevice", b.throttleWriteIOPSDevice);
  w.endObject();
}

void write(Writer& w, const HugepageLimit& h) {
  w.beginObject();
  field(w, "pageSize", h.pageSize);
  field(w, "limit", h.limit);
  w.endObject();
}

void write(Writer& w, const std::pair<std::string, uint32_t>& priority) {
  w.beginObject();
  field(w, "name", priority.first);
  field(w, "priority", priority.second);
  w.endObject();
}

void write(Writer& w, const NetworkResources& n) {
  w.beginObject();
  fieldIfSet(w, "classID", n.classID);
  fieldIfSet(w, "priorities", n.priorities);
  w.endObject();
}

void write(Writer& w, const Resources& r) {
  w.beginObject();
  fieldIfSet(w, "devices", r.devices);
  fieldIfSet(w, "memory", r.memory);
  fieldIfSet(w, "cpu", r.cpu);
  fieldIfSet(w, "pids", r.pids);
  fieldIfSet(w, "blockIO", r.blockIO);
  fieldIfSet(w, "hugepageLimits", r.hugepageLimits);
  fieldIfSet(w, "network", r.network);
  fieldIfSet(w, "unified", r.unified);
  w.endObject();
}

// ---- linux.seccomp ----

void write(Writer& w, const SeccompArg& a) {
  w.beginObject();
  field(w, "index", a.index);
  field(w, "value", a.value);
  if (a.valueTwo != 0) field(w, "valueTwo", a.valueTwo);
  field(w, "op", a.op);
  w.endObject();
}

void write(Writer& w, const SeccompSyscall& s) {
  w.beginObject();
  field(w, "names", s.names);
  field(w, "action", s.action);
  fieldIfSet(w, "errnoRet", s.errnoRet);
  fieldIfSet(w, "args", s.args);
  w.endObject();
}

void write(Writer& w, const Seccomp& s) {
  w.beginObject();
  field(w, "defaultAction", s.defaultAction);
  fieldIfSet(w, "defaultErrnoRet", s.defaultErrnoRet);
  fieldIfSet(w, "architectures", s.architectures);
  fieldIfSet(w, "flags", s.flags);
  fieldIfSet(w, "listenerPath", s.listenerPath);
  fieldIfSet(w, "listenerMetadata", s.listenerMetadata);
  fieldIfSet(w, "syscalls", s.syscalls);
  w.endObject();
}

// ---- linux, spec ----

void write(Writer& w, const TimeOffset& t) {
  w.beginObject();
  field(w, "secs", t.secs);
  field(w, "nanosecs", t.nanosecs);
  w.endObject();
}

void write(Writer& w, const Linux& l) {
  w.beginObject();
  fieldIfSet(w, "namespaces", l.namespaces);
  fieldIfSet(w, "uidMappings", l.uidMappings);
  fieldIfSet(w, "gidMappings", l.gidMappings);
  fieldIfSet(w, "timeOffsets", l.timeOffsets);
  fieldIfSet(w, "devices", l.devices);
  fieldIfSet(w, "cgroupsPath", l.cgroupsPath);
  fieldIfSet(w, "resources", l.resources);
  fieldIfSet(w, "rootfsPropagation", l.rootfsPropagation);
  fieldIfSet(w, "seccomp", l.seccomp);
  fieldIfSet(w, "sysctl", l.sysctl);
  fieldIfSet(w, "maskedPaths", l.maskedPaths);
  fieldIfSet(w, "readonlyPaths", l.readonlyPaths);
  fieldIfSet(w, "mountLabel", l.mountLabel);
  if (l.personalityDomain) {
    w.key("personality");
    w.beginObject();
    field(w, "domain", *l.personalityDomain);
    w.endObject();
  }
  w.endObject();
}

void write(Writer& w, const Spec& s) {
  w.beginObject();
  field(w, "ociVersion", s.ociVersion);
  fieldIfSet(w, "process", s.process);
  fieldIfSet(w, "root", s.root);
  fieldIfSet(w, "hostname", s.hostname);
  fieldIfSet(w, "domainname", s.domainname);
  fieldIfSet(w, "mounts", s.mounts);
  fieldIfSet(w, "hooks", s.hooks);
  fieldIfSet(w, "annotations", s.annotations);
  fieldIfSet(w, "linux", s.linux);
  w.endObject();
}

template <class T>
std::string serialize(const T& value, JsonStyle style) {
  Writer w(style);
  write(w, value);
  return std::move(w).take();
}

}  // namespace

std::string serializeSpec(const Spec& spec, JsonStyle style) {
  return serialize(spec, style);
}

std::string serializeProcess(const Process& process, JsonStyle style) {
  return serialize(process, style);
}

}  // namespace berth::runtime::config
