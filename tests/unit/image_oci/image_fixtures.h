// Test fixtures for import and garbage collection: tarballs written member
// by member with libarchive (so hostile names such as "../x" can be made),
// small OCI layouts and docker-archives built by hand, and the busybox
// archive that hack/mkimage builds.
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/sysmacros.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "image/oci/media_types.h"
#include "image/store/content_store.h"
#include "runtime/sys/fs.h"

namespace berth::image::testing {

struct Member {
  std::string name;
  std::string data;
  char type = 'f';    // 'f' file, 'd' directory, 'l' symlink, 'h' hard link, 'c' char device
  std::string link;   // target of 'l' and 'h'
};

inline void writeTar(const std::string& path, const std::vector<Member>& members) {
  struct archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  ASSERT_EQ(archive_write_open_filename(a, path.c_str()), ARCHIVE_OK) << archive_error_string(a);
  for (const auto& m : members) {
    struct archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, m.name.c_str());
    archive_entry_set_perm(e, 0644);
    switch (m.type) {
      case 'd': archive_entry_set_filetype(e, AE_IFDIR); break;
      case 'l':
        archive_entry_set_filetype(e, AE_IFLNK);
        archive_entry_set_symlink(e, m.link.c_str());
        break;
      case 'h':
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_hardlink(e, m.link.c_str());
        break;
      case 'c':
        archive_entry_set_filetype(e, AE_IFCHR);
        archive_entry_set_rdev(e, makedev(1, 3));
        break;
      default:
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_size(e, static_cast<la_int64_t>(m.data.size()));
    }
    ASSERT_EQ(archive_write_header(a, e), ARCHIVE_OK) << m.name << ": " << archive_error_string(a);
    if (m.type == 'f' && !m.data.empty()) {
      ASSERT_EQ(archive_write_data(a, m.data.data(), m.data.size()), static_cast<la_ssize_t>(m.data.size()));
    }
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
}

// A one-file layer tarball: the content of a real (tiny) layer.
inline std::string layerTar(const std::string& file, const std::string& content, const std::string& dir) {
  std::string path = dir + "/layer-" + std::to_string(std::hash<std::string>()(file + content)) + ".tar";
  writeTar(path, {{file, content}});
  auto data = sys::readFile(path);
  EXPECT_TRUE(data.ok());
  std::remove(path.c_str());
  return data.ok() ? *data : std::string();
}

inline std::string hexOf(const std::string& data) { return std::string(store::sha256Of(data).hex()); }
inline std::string digestOf(const std::string& data) { return store::sha256Of(data).str(); }

inline std::string configJson(const std::vector<std::string>& layerTars, const std::string& cmd) {
  std::string ids;
  for (const auto& l : layerTars) ids += (ids.empty() ? "\"" : ",\"") + digestOf(l) + "\"";
  return R"({"architecture":"amd64","os":"linux","config":{"Cmd":[")" + cmd +
         R"("],"Env":["PATH=/bin"]},"rootfs":{"type":"layers","diff_ids":[)" + ids + "]}}";
}

inline std::string descriptorJson(std::string_view mediaType, const std::string& data) {
  return R"({"mediaType":")" + std::string(mediaType) + R"(","digest":")" + digestOf(data) +
         R"(","size":)" + std::to_string(data.size()) + "}";
}

// An image made of uncompressed layers: its blobs and its OCI manifest.
struct TestImage {
  std::vector<std::string> layers;
  std::string config;
  std::string manifest;
};

inline TestImage makeImage(const std::vector<std::string>& layers, const std::string& cmd) {
  TestImage img;
  img.layers = layers;
  img.config = configJson(layers, cmd);
  std::string ls;
  for (const auto& l : layers) ls += (ls.empty() ? "" : ",") + descriptorJson(oci::kOciLayer, l);
  img.manifest = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":)" +
                 descriptorJson(oci::kOciConfig, img.config) + R"(,"layers":[)" + ls + "]}";
  return img;
}

// The members of an OCI layout holding `images`, index.json entries
// annotated with the given ref names ("" for none).
inline std::vector<Member> ociLayoutMembers(const std::vector<std::pair<TestImage, std::string>>& images) {
  std::vector<Member> out{{"oci-layout", R"({"imageLayoutVersion":"1.0.0"})"}, {"blobs", "", 'd'},
                          {"blobs/sha256", "", 'd'}};
  std::map<std::string, std::string> blobs;
  std::string entries;
  for (const auto& [img, ref] : images) {
    for (const auto& l : img.layers) blobs[hexOf(l)] = l;
    blobs[hexOf(img.config)] = img.config;
    blobs[hexOf(img.manifest)] = img.manifest;
    std::string d = descriptorJson(oci::kOciManifest, img.manifest);
    if (!ref.empty()) {
      d.pop_back();
      d += R"(,"annotations":{"org.opencontainers.image.ref.name":")" + ref + "\"}}";
    }
    entries += (entries.empty() ? "" : ",") + d;
  }
  for (const auto& [hex, data] : blobs) out.push_back({"blobs/sha256/" + hex, data});
  out.push_back({"index.json", R"({"schemaVersion":2,"manifests":[)" + entries + "]}"});
  return out;
}

// hack/mkimage's busybox OCI archive (built once, cached in the build tree).
inline std::string busyboxOciArchive() {
  std::string cache = std::string(BERTH_BUILD_DIR) + "/test-images";
  std::string cmd = std::string(BERTH_SOURCE_DIR) + "/hack/mkimage " + cache + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return "";
  std::string out;
  char buf[512];
  while (size_t n = std::fread(buf, 1, sizeof(buf), p)) out.append(buf, n);
  if (::pclose(p) != 0) {
    ADD_FAILURE() << "hack/mkimage failed: " << out;
    return "";
  }
  return cache + "/busybox-oci.tar";
}

inline int run(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()); }

}  // namespace berth::image::testing
