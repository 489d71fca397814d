// Mount option parsing: what config.json's "options" turn into for mount(2),
// the bind remount pass and mount_setattr(2).
#include "runtime/linux/mount_options.h"

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/statvfs.h>

namespace berth::runtime::linux {
namespace {

MountOptions parse(const std::vector<std::string>& options) {
  auto r = parseMountOptions(options);
  EXPECT_TRUE(r) << r.error().str();
  return r ? *r : MountOptions{};
}

TEST(MountOptions, FlagsAreSetAndClearedInOrder) {
  auto o = parse({"nosuid", "noexec", "nodev", "ro", "relatime"});
  EXPECT_EQ(o.flags, static_cast<unsigned long>(MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY | MS_RELATIME));
  EXPECT_EQ(o.clearFlags, 0u);
  EXPECT_TRUE(o.data.empty());

  auto later = parse({"ro", "rw", "suid"});
  EXPECT_EQ(later.flags & MS_RDONLY, 0u);
  EXPECT_EQ(later.clearFlags, static_cast<unsigned long>(MS_RDONLY | MS_NOSUID));

  auto back = parse({"rw", "ro"});
  EXPECT_EQ(back.flags, static_cast<unsigned long>(MS_RDONLY));
  EXPECT_EQ(back.clearFlags, 0u);
}

TEST(MountOptions, BindAndRbind) {
  EXPECT_TRUE(parse({"bind"}).isBind());
  EXPECT_FALSE(parse({"bind"}).isRecursiveBind());
  EXPECT_TRUE(parse({"rbind"}).isRecursiveBind());
  EXPECT_FALSE(parse({"ro"}).isBind());
  // A bind with nothing but bind flags needs no remount pass; anything else does.
  EXPECT_FALSE(parse({"rbind"}).needsRemount());
  EXPECT_TRUE(parse({"rbind", "ro"}).needsRemount());
  EXPECT_TRUE(parse({"bind", "nosuid"}).needsRemount());
  EXPECT_TRUE(parse({"bind", "rw"}).needsRemount());
  EXPECT_FALSE(parse({"ro"}).needsRemount());
}

TEST(MountOptions, UnknownOptionsBecomeMountData) {
  auto o = parse({"nosuid", "mode=755", "size=65536k", "strictatime", "newinstance", "ptmxmode=0666"});
  EXPECT_EQ(o.data, "mode=755,size=65536k,newinstance,ptmxmode=0666");
  EXPECT_EQ(o.flags, static_cast<unsigned long>(MS_NOSUID | MS_STRICTATIME));
}

TEST(MountOptions, UserspaceOnlyOptionsAreDropped) {
  auto o = parse({"x-systemd.automount", "X-mount.mkdir", "tmpcopyup", "defaults"});
  EXPECT_TRUE(o.data.empty());
  EXPECT_EQ(o.flags, 0u);
}

TEST(MountOptions, PropagationIsKeptInOrder) {
  auto o = parse({"rbind", "rslave", "shared", "runbindable", "private", "rprivate"});
  std::vector<unsigned long> want = {MS_SLAVE | MS_REC, MS_SHARED, MS_UNBINDABLE | MS_REC, MS_PRIVATE,
                                     MS_PRIVATE | MS_REC};
  EXPECT_EQ(o.propagation, want);
  EXPECT_EQ(o.flags, static_cast<unsigned long>(MS_BIND | MS_REC));
}

TEST(MountOptions, RecursiveAttributes) {
  auto o = parse({"rbind", "rro", "rnosuid", "rnoexec"});
  EXPECT_EQ(o.recursiveSet, static_cast<uint64_t>(MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC));
  EXPECT_EQ(o.recursiveClear, 0u);
  EXPECT_FALSE(o.needsRemount());

  auto undo = parse({"rro", "rrw"});
  EXPECT_EQ(undo.recursiveSet, 0u);
  EXPECT_EQ(undo.recursiveClear, static_cast<uint64_t>(MOUNT_ATTR_RDONLY));
  EXPECT_TRUE(undo.hasRecursiveAttrs());
}

TEST(MountOptions, RecursiveAtimeClearsTheAtimeField) {
  auto o = parse({"rnoatime"});
  EXPECT_EQ(o.recursiveSet, static_cast<uint64_t>(MOUNT_ATTR_NOATIME));
  EXPECT_EQ(o.recursiveClear, static_cast<uint64_t>(MOUNT_ATTR__ATIME));
  // relatime is the zero value of the field: only the clear mask carries it.
  auto rel = parse({"rrelatime"});
  EXPECT_EQ(rel.recursiveSet, 0u);
  EXPECT_EQ(rel.recursiveClear, static_cast<uint64_t>(MOUNT_ATTR__ATIME));
  EXPECT_TRUE(rel.hasRecursiveAttrs());
}

TEST(MountOptions, IdmappedMountsAreRefused) {
  auto r = parseMountOptions({"rbind", "idmap"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ENOTSUP);
  EXPECT_NE(r.error().str().find("idmap"), std::string::npos);
}

TEST(ParsePropagation, AllNamesAndErrors) {
  EXPECT_EQ(*parsePropagation("shared"), static_cast<unsigned long>(MS_SHARED));
  EXPECT_EQ(*parsePropagation("rslave"), static_cast<unsigned long>(MS_SLAVE | MS_REC));
  EXPECT_EQ(*parsePropagation("private"), static_cast<unsigned long>(MS_PRIVATE));
  EXPECT_EQ(*parsePropagation("runbindable"), static_cast<unsigned long>(MS_UNBINDABLE | MS_REC));
  auto bad = parsePropagation("sideways");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().str(), "unknown rootfs propagation \"sideways\"");
}

TEST(StatfsFlags, MapToMountFlags) {
  EXPECT_EQ(statfsToMountFlags(ST_RDONLY | ST_NOSUID | ST_NODEV | ST_NOEXEC),
            static_cast<unsigned long>(MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC));
  EXPECT_EQ(statfsToMountFlags(ST_NOATIME | ST_NODIRATIME), static_cast<unsigned long>(MS_NOATIME | MS_NODIRATIME));
  EXPECT_EQ(statfsToMountFlags(ST_RELATIME), static_cast<unsigned long>(MS_RELATIME));
  EXPECT_EQ(statfsToMountFlags(0x2000), static_cast<unsigned long>(MS_NOSYMFOLLOW));
  EXPECT_EQ(statfsToMountFlags(0), 0u);
}

TEST(BindRemountFlags, KeepsTheSourceFlagsNotExplicitlyCleared) {
  auto ro = parse({"rbind", "ro"});
  unsigned long got = bindRemountFlags(ro, MS_NOSUID | MS_NODEV | MS_RELATIME);
  EXPECT_EQ(got, static_cast<unsigned long>(MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_RELATIME));
  EXPECT_EQ(got & MS_REC, 0u);

  auto suid = parse({"bind", "suid", "rw"});
  EXPECT_EQ(bindRemountFlags(suid, MS_NOSUID | MS_RDONLY | MS_NODEV),
            static_cast<unsigned long>(MS_BIND | MS_REMOUNT | MS_NODEV));
}

TEST(BindRemountFlags, ARequestedAtimeModeReplacesTheSourceOne) {
  auto strict = parse({"bind", "strictatime"});
  EXPECT_EQ(bindRemountFlags(strict, MS_NOATIME | MS_NODIRATIME),
            static_cast<unsigned long>(MS_BIND | MS_REMOUNT | MS_STRICTATIME));
  auto none = parse({"bind", "ro"});
  EXPECT_EQ(bindRemountFlags(none, MS_NOATIME) & MS_NOATIME, static_cast<unsigned long>(MS_NOATIME));
}

TEST(BindRemountFlags, NeverCarriesPropagation) {
  auto o = parse({"rbind", "ro", "rshared"});
  EXPECT_EQ(bindRemountFlags(o, 0) & (MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE), 0u);
}

}  // namespace
}  // namespace berth::runtime::linux
