// Overlay mount planning without root: path validation, the fsconfig call
// list and the mount(2) fallback string (layer order: overlay wants the top
// layer first), and prepare() refusing bad input before touching the disk.
#include "storage/rootfs/overlay_options.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "runtime/sys/fs.h"
#include "storage/rootfs/rootfs.h"

namespace berth::storage::rootfs {
namespace {

std::string layerPath(int i) {
  // As image/unpack names them: <layersRoot>/<64-hex chain id>.
  char hex[65];
  std::snprintf(hex, sizeof(hex), "%064x", i);
  return std::string("/var/lib/berth/layers/") + hex;
}

OverlayPaths threeLayers() {
  return {{"/l/bottom", "/l/middle", "/l/top"}, "/c/upper", "/c/work"};
}

TEST(Layout, PathsUnderContainerDir) {
  auto layout = layoutFor("/var/lib/berth/containers/abc");
  ASSERT_TRUE(layout.ok()) << layout.error().str();
  EXPECT_EQ(layout->upperDir, "/var/lib/berth/containers/abc/upper");
  EXPECT_EQ(layout->workDir, "/var/lib/berth/containers/abc/work");
  EXPECT_EQ(layout->rootfs, "/var/lib/berth/containers/abc/rootfs");
  EXPECT_EQ(layout->emptyLowerDir, "/var/lib/berth/containers/abc/empty-lower");
}

TEST(Layout, RejectsRelativeUncleanAndRoot) {
  for (const char* bad : {"", "relative/dir", "/var/lib/../etc", "/var/lib/berth/./c", "/var//lib",
                          "/var/lib/c/", "/", "/a/..", "/a\nb"}) {
    auto layout = layoutFor(bad);
    EXPECT_FALSE(layout.ok()) << "accepted \"" << bad << "\"";
  }
  auto err = layoutFor("/x/../etc");
  ASSERT_FALSE(err.ok());
  EXPECT_NE(err.error().str().find("/x/../etc"), std::string::npos) << err.error().str();
}

TEST(LowerDirs, ValidatesEachLayer) {
  auto layout = *layoutFor("/var/lib/berth/containers/c1");
  EXPECT_TRUE(validateLowerDirs({}, layout).ok());
  EXPECT_TRUE(validateLowerDirs({layerPath(1), layerPath(2)}, layout).ok());

  auto relative = validateLowerDirs({layerPath(1), "layers/x"}, layout);
  ASSERT_FALSE(relative.ok());
  EXPECT_NE(relative.error().str().find("layer 1"), std::string::npos) << relative.error().str();

  EXPECT_FALSE(validateLowerDirs({"/var/lib/berth/layers/../../etc"}, layout).ok());
  EXPECT_FALSE(validateLowerDirs({layerPath(1), layerPath(1)}, layout).ok());
  EXPECT_FALSE(validateLowerDirs({"/var/lib/berth/containers/c1/upper"}, layout).ok());
  EXPECT_FALSE(validateLowerDirs({"/var/lib/berth/containers/c1"}, layout).ok());
  EXPECT_FALSE(validateLowerDirs({"/var/lib/berth"}, layout).ok());
  // A sibling whose name merely starts the same is not inside.
  EXPECT_TRUE(validateLowerDirs({"/var/lib/berth/containers/c10"}, layout).ok());

  std::vector<std::string> tooMany;
  for (size_t i = 0; i <= kMaxLayers; ++i) tooMany.push_back(layerPath(static_cast<int>(i)));
  auto many = validateLowerDirs(tooMany, layout);
  ASSERT_FALSE(many.ok());
  EXPECT_EQ(many.error().code(), E2BIG);
}

TEST(FsconfigParams, TopLayerFirstThenUpperWorkAndFixedOptions) {
  auto params = fsconfigParams(threeLayers(), {});
  std::vector<FsParam> want = {
      {"source", "overlay"},      {"lowerdir+", "/l/top"},      {"lowerdir+", "/l/middle"},
      {"lowerdir+", "/l/bottom"}, {"upperdir", "/c/upper"},     {"workdir", "/c/work"},
      {"index", "off"},           {"redirect_dir", "nofollow"}, {"metacopy", "off"},
  };
  EXPECT_EQ(params, want);
}

TEST(FsconfigParams, UserXattrOnlyWhenAsked) {
  auto plain = fsconfigParams(threeLayers(), {});
  for (const auto& p : plain) EXPECT_NE(p.key, "userxattr");
  Options options;
  options.userXattr = true;
  auto params = fsconfigParams(threeLayers(), options);
  ASSERT_FALSE(params.empty());
  EXPECT_EQ(params.back(), (FsParam{"userxattr", "", true}));
}

TEST(FsconfigParams, OneCallPerLayerFor128Layers) {
  OverlayPaths paths{{}, "/c/upper", "/c/work"};
  for (int i = 0; i < 128; ++i) paths.lowerDirs.push_back(layerPath(i));
  auto params = fsconfigParams(paths, {});
  std::vector<std::string> lowers;
  for (const auto& p : params) {
    if (p.key == "lowerdir+") lowers.push_back(p.value);
    EXPECT_LE(p.value.size(), kMaxFsconfigValue);
  }
  ASSERT_EQ(lowers.size(), 128u);
  EXPECT_EQ(lowers.front(), layerPath(127));
  EXPECT_EQ(lowers.back(), layerPath(0));
}

TEST(LegacyMountData, ExactString) {
  auto data = legacyMountData(threeLayers(), {});
  ASSERT_TRUE(data.ok()) << data.error().str();
  EXPECT_EQ(*data,
            "lowerdir=/l/top:/l/middle:/l/bottom,upperdir=/c/upper,workdir=/c/work,"
            "index=off,redirect_dir=nofollow,metacopy=off");
  Options options;
  options.userXattr = true;
  EXPECT_EQ(legacyMountData(threeLayers(), options)->substr(data->size()), ",userxattr");
}

TEST(LegacyMountData, TooLongFor128FullPathsButFitsWithFdAliases) {
  OverlayPaths full{{}, "/var/lib/berth/containers/c/upper", "/var/lib/berth/containers/c/work"};
  OverlayPaths aliased = full;
  for (int i = 0; i < 128; ++i) {
    full.lowerDirs.push_back(layerPath(i));
    aliased.lowerDirs.push_back("/proc/self/fd/" + std::to_string(1000 + i));
  }
  auto tooLong = legacyMountData(full, {});
  ASSERT_FALSE(tooLong.ok());
  EXPECT_EQ(tooLong.error().code(), E2BIG);
  auto data = legacyMountData(aliased, {});
  ASSERT_TRUE(data.ok()) << data.error().str();
  EXPECT_LE(data->size(), kMaxMountData);
  EXPECT_EQ(data->rfind("lowerdir=/proc/self/fd/1127:/proc/self/fd/1126:", 0), 0u);
}

TEST(LegacyMountData, RefusesOverlaySeparatorsInPaths) {
  for (const char* bad : {"/l/a:b", "/l/a,b", "/l/a\\b"}) {
    OverlayPaths paths = threeLayers();
    paths.lowerDirs[1] = bad;
    auto data = legacyMountData(paths, {});
    ASSERT_FALSE(data.ok()) << bad;
    EXPECT_EQ(data.error().code(), EINVAL);
    EXPECT_TRUE(needsLegacyAlias(bad));
  }
  OverlayPaths upper = threeLayers();
  upper.upperDir = "/c,x/upper";
  EXPECT_FALSE(legacyMountData(upper, {}).ok());
  EXPECT_FALSE(needsLegacyAlias(layerPath(3)));
}

TEST(Prepare, BadInputFailsBeforeCreatingAnything) {
  std::string base = "/tmp/berth-rootfs-unit-" + std::to_string(::getpid());
  auto relative = prepare("relative/c", {});
  ASSERT_FALSE(relative.ok());
  EXPECT_NE(relative.error().str().find("absolute"), std::string::npos) << relative.error().str();

  auto dotdot = prepare(base + "/../c", {});
  EXPECT_FALSE(dotdot.ok());
  auto dup = prepare(base + "/c", {"/l/a", "/l/a"});
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.error().str().find("twice"), std::string::npos) << dup.error().str();
  EXPECT_FALSE(sys::pathExists(base)) << "prepare created " << base << " for bad input";

  EXPECT_FALSE(unmount("rel").ok());
  EXPECT_FALSE(remove("/a/../b").ok());
  EXPECT_FALSE(isMounted("").ok());
}

TEST(IsMounted, MissingDirectoryIsNotMounted) {
  auto mounted = isMounted("/tmp/berth-rootfs-unit-missing-" + std::to_string(::getpid()));
  ASSERT_TRUE(mounted.ok()) << mounted.error().str();
  EXPECT_FALSE(*mounted);
}

}  // namespace
}  // namespace berth::storage::rootfs
