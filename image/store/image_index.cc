// The image index (images.json): see image_index.h.
//
// File format:
//   {"schemaVersion": 1,
//    "images": {"docker.io/library/busybox:latest":
//                 {"digest": "sha256:...", "mediaType": "...", "created": "2024-05-01T12:00:00Z"}}}
#include "image/store/image_index.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "runtime/sys/fs.h"

namespace berth::image::store {
namespace {

using Json = nlohmann::json;

constexpr int kSchemaVersion = 1;

sys::Result<std::string> stringField(const Json& obj, const char* key, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) {
    return sys::Error::invalid(where + "." + key + ": expected a string");
  }
  return it->get<std::string>();
}

sys::Result<ImageRecord> parseRecord(const std::string& name, const Json& v) {
  std::string where = "images[\"" + name + "\"]";
  if (!v.is_object()) return sys::Error::invalid(where + ": expected an object");
  ImageRecord r;
  r.name = name;
  auto digest = BERTH_TRY(stringField(v, "digest", where));
  r.manifest = BERTH_TRY_CTX(Digest::parse(digest), where + ".digest");
  r.mediaType = BERTH_TRY(stringField(v, "mediaType", where));
  if (auto it = v.find("created"); it != v.end() && !it->is_null()) {
    if (!it->is_string()) return sys::Error::invalid(where + ".created: expected a string");
    r.created = BERTH_TRY_CTX(parseTime(it->get<std::string>()), where + ".created");
  }
  return r;
}

// Holds the exclusive lock on <index>.lock for its lifetime. A separate lock
// file (not images.json itself) because images.json is replaced by rename:
// a lock on the old inode would not exclude a writer that opened the new one.
class IndexLock {
 public:
  static sys::Result<IndexLock> acquire(const std::string& indexPath) {
    std::string path = indexPath + ".lock";
    sys::UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!fd) return sys::Error::fromErrno("open " + path);
    while (::flock(fd.get(), LOCK_EX) < 0) {
      if (errno != EINTR) return sys::Error::fromErrno("lock " + path);
    }
    return IndexLock(std::move(fd));
  }

 private:
  explicit IndexLock(sys::UniqueFd fd) : fd_(std::move(fd)) {}
  sys::UniqueFd fd_;
};

}  // namespace

std::string formatTime(int64_t unixSeconds) {
  time_t t = static_cast<time_t>(unixSeconds);
  struct tm tm {};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

sys::Result<int64_t> parseTime(std::string_view text) {
  // RFC 3339: 2024-05-01T12:00:00[.fraction](Z|+hh:mm|-hh:mm).
  auto bad = [&] { return sys::Error::invalid("invalid time \"" + std::string(text) + "\": expected RFC 3339"); };
  std::string s(text);
  struct tm tm {};
  int consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &consumed) != 6 || consumed != 19) {
    return bad();
  }
  size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  }
  int64_t offset = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i + 6 == s.size() && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
    int hh = 0, mm = 0;
    if (std::sscanf(s.c_str() + i + 1, "%2d:%2d", &hh, &mm) != 2) return bad();
    offset = (s[i] == '+' ? 1 : -1) * (hh * 3600 + mm * 60);
    i += 6;
  } else {
    return bad();
  }
  if (i != s.size()) return bad();
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<int64_t>(::timegm(&tm)) - offset;
}

sys::Result<ImageMap> parseImageIndex(std::string_view text) {
  Json doc = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return sys::Error::invalid("not valid JSON");
  if (!doc.is_object()) return sys::Error::invalid("expected a JSON object");
  auto version = doc.find("schemaVersion");
  if (version == doc.end() || !version->is_number_integer() || version->get<int64_t>() != kSchemaVersion) {
    return sys::Error::invalid("schemaVersion: expected 1");
  }
  ImageMap out;
  auto images = doc.find("images");
  if (images == doc.end() || images->is_null()) return out;
  if (!images->is_object()) return sys::Error::invalid("images: expected an object");
  for (const auto& [name, value] : images->items()) {
    out.emplace(name, BERTH_TRY(parseRecord(name, value)));
  }
  return out;
}

std::string serializeImageIndex(const ImageMap& images) {
  Json doc = Json::object();
  doc["schemaVersion"] = kSchemaVersion;
  Json list = Json::object();
  for (const auto& [name, r] : images) {
    list[name] = {{"digest", r.manifest.str()}, {"mediaType", r.mediaType}, {"created", formatTime(r.created)}};
  }
  doc["images"] = std::move(list);
  // Names come from parsed references (ASCII); "replace" keeps dump() from
  // throwing should a caller ever hand in invalid UTF-8.
  return doc.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

sys::Result<ImageIndex> ImageIndex::open(const std::string& root) {
  if (root.empty()) return sys::Error::invalid("open image index: empty data root");
  BERTH_TRY_CTX(sys::mkdirAll(root, 0755), "open image index");
  return ImageIndex(root + "/images.json");
}

sys::Result<ImageMap> ImageIndex::load() const {
  auto text = sys::readFile(path_);
  if (!text) {
    if (text.error().code() == ENOENT) return ImageMap{};
    return std::move(text).error();
  }
  // A damaged index is reported, never silently replaced by an empty one:
  // that would make every image unreachable and the next prune delete them.
  return BERTH_TRY_CTX(parseImageIndex(*text), "read image index " + path_);
}

sys::Result<std::vector<ImageRecord>> ImageIndex::list() const {
  auto images = BERTH_TRY(load());
  std::vector<ImageRecord> out;
  out.reserve(images.size());
  for (auto& [name, r] : images) out.push_back(std::move(r));
  return out;
}

sys::Result<std::optional<ImageRecord>> ImageIndex::get(std::string_view name) const {
  auto images = BERTH_TRY(load());
  auto it = images.find(name);
  if (it == images.end()) return std::optional<ImageRecord>();
  return std::optional<ImageRecord>(std::move(it->second));
}

sys::Result<void> ImageIndex::update(const std::function<sys::Result<void>(ImageMap&)>& edit) const {
  auto lock = BERTH_TRY(IndexLock::acquire(path_));
  auto images = BERTH_TRY(load());
  BERTH_TRY(edit(images));
  return sys::writeFileAtomic(path_, serializeImageIndex(images), 0644).context("write image index");
}

sys::Result<void> ImageIndex::set(ImageRecord record) const {
  if (record.name.empty()) return sys::Error::invalid("set image: empty name");
  if (record.created == 0) record.created = static_cast<int64_t>(::time(nullptr));
  return update([&](ImageMap& images) -> sys::Result<void> {
    images.insert_or_assign(record.name, record);
    return sys::ok();
  });
}

sys::Result<bool> ImageIndex::remove(std::string_view name) const {
  bool found = false;
  BERTH_TRY(update([&](ImageMap& images) -> sys::Result<void> {
    auto it = images.find(name);
    found = it != images.end();
    if (found) images.erase(it);
    return sys::ok();
  }));
  return found;
}

}  // namespace berth::image::store
