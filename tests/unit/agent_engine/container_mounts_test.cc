// -v and --config as the engine reads them (agent/engine/container_mounts.h):
// named volumes vs host binds, options, the errors a user sees, the OCI
// mounts they become, and the spec checks at create.
#include "agent/engine/container_mounts.h"

#include <gtest/gtest.h>

#include "agent/engine/spec_options.h"

namespace berth::agent::engine {
namespace {

TEST(ContainerMounts, NamedVolume) {
  auto m = parseVolumeArg("data:/var/lib/db");
  ASSERT_TRUE(m) << m.error().str();
  EXPECT_EQ(m->kind, MountKind::kVolume);
  EXPECT_EQ(m->source, "data");
  EXPECT_EQ(m->destination, "/var/lib/db");
  EXPECT_FALSE(m->readOnly);
  EXPECT_FALSE(m->noCopy);

  auto ro = parseVolumeArg("static.v1:/srv/static/:ro");
  ASSERT_TRUE(ro) << ro.error().str();
  EXPECT_TRUE(ro->readOnly);
  EXPECT_EQ(ro->destination, "/srv/static");
  auto nocopy = parseVolumeArg("x:/x:rw,nocopy");
  ASSERT_TRUE(nocopy);
  EXPECT_FALSE(nocopy->readOnly);
  EXPECT_TRUE(nocopy->noCopy);
}

TEST(ContainerMounts, BindMount) {
  auto m = parseVolumeArg("/srv/www//html:/usr/share/nginx/html:ro,rshared");
  ASSERT_TRUE(m) << m.error().str();
  EXPECT_EQ(m->kind, MountKind::kBind);
  EXPECT_EQ(m->source, "/srv/www/html");
  EXPECT_TRUE(m->readOnly);
  EXPECT_EQ(m->propagation, "rshared");
  EXPECT_FALSE(m->create);

  auto plain = parseVolumeArg("/tmp:/mnt");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->propagation, "rprivate");
  // The brief's "[:create]" form and the comma form both work.
  for (const char* text : {"/h:/c:ro,slave:create", "/h:/c:ro,slave,create"}) {
    auto c = parseVolumeArg(text);
    ASSERT_TRUE(c) << text << ": " << c.error().str();
    EXPECT_TRUE(c->create) << text;
    EXPECT_TRUE(c->readOnly) << text;
    EXPECT_EQ(c->propagation, "slave") << text;
  }
}

TEST(ContainerMounts, RefusesBadSyntax) {
  struct Case {
    const char* text;
    const char* says;
  };
  for (const Case& c : std::vector<Case>{
           {"data", "expected SOURCE"},
           {"data:relative", "must be absolute"},
           {"data:/", "cannot mount over"},
           {"../etc:/x", "must be absolute"},
           {"a/b:/x", "must be absolute"},
           {"-bad:/x", "bad"},
           {"data:/x:rshared", "bind mounts of host paths only"},
           {"data:/x:create", "bind mounts of host paths only"},
           {"/h:/x:nocopy", "unknown option"},
           {"/h:/x:ro,rw", "twice"},
           {"/h:/x:rshared,rslave", "twice"},
           {"/h:/x:z", "unknown option"},
           {":/x", "empty source"},
       }) {
    auto m = parseVolumeArg(c.text);
    EXPECT_FALSE(m) << c.text;
    if (!m) {
      EXPECT_NE(m.error().what().find(c.says), std::string::npos)
          << c.text << " -> " << m.error().what();
      EXPECT_NE(m.error().what().find(c.text), std::string::npos) << "names the value: " << c.text;
    }
  }
}

TEST(ContainerMounts, OciMounts) {
  auto volume = parseVolumeArg("data:/data:ro");
  ASSERT_TRUE(volume);
  runtime::config::Mount v = ociMountFor(*volume, "/var/lib/berth/volumes/data/data");
  EXPECT_EQ(v.destination, "/data");
  EXPECT_EQ(v.type, "bind");
  EXPECT_EQ(v.source, "/var/lib/berth/volumes/data/data");
  EXPECT_EQ(v.options, (std::vector<std::string>{"rbind", "rprivate", "ro"}));

  auto bind = parseVolumeArg("/host:/c:rslave");
  ASSERT_TRUE(bind);
  runtime::config::Mount b = ociMountFor(*bind, bind->source);
  EXPECT_EQ(b.source, "/host");
  EXPECT_EQ(b.options, (std::vector<std::string>{"rbind", "rslave"}));

  runtime::config::Mount c = configMountFor("/d/configs/0", "/etc/app//app.conf");
  EXPECT_EQ(c.destination, "/etc/app/app.conf");
  EXPECT_EQ(c.source, "/d/configs/0");
  EXPECT_NE(std::find(c.options.begin(), c.options.end(), "ro"), c.options.end());
  EXPECT_EQ(configFilePath("/d", 3), "/d/configs/3");
}

TEST(ContainerMounts, SpecChecks) {
  pb::ContainerSpec spec;
  spec.set_image("busybox");
  spec.add_volumes("a:/data");
  spec.add_volumes("/srv:/srv:ro");
  spec.add_configs()->set_target("/etc/app.conf");
  auto mounts = mountsOfSpec(spec);
  ASSERT_TRUE(mounts) << mounts.error().str();
  EXPECT_EQ(mounts->size(), 2u);
  EXPECT_TRUE(validateSpec(spec));

  pb::ContainerSpec dup = spec;
  dup.add_volumes("b:/data/");
  auto refused = validateSpec(dup);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().what().find("duplicate mount point /data"), std::string::npos);

  pb::ContainerSpec configDup = spec;
  configDup.add_configs()->set_target("/srv");
  EXPECT_FALSE(validateSpec(configDup));

  pb::ContainerSpec relative = spec;
  relative.mutable_configs(0)->set_target("etc/app.conf");
  EXPECT_FALSE(validateSpec(relative));

  pb::ContainerSpec mode = spec;
  mode.mutable_configs(0)->set_mode(010000);
  EXPECT_FALSE(validateSpec(mode));

  pb::ContainerSpec disk = spec;
  disk.set_disk_bytes(1 << 20);
  auto small = validateSpec(disk);
  ASSERT_FALSE(small);
  EXPECT_NE(small.error().what().find("16 MiB"), std::string::npos);
  disk.set_disk_bytes(64 << 20);
  EXPECT_TRUE(validateSpec(disk));
}

TEST(ContainerMounts, VolumeNamesAndInfos) {
  pb::ContainerSpec spec;
  spec.add_volumes("b:/b");
  spec.add_volumes("a:/a:ro");
  spec.add_volumes("b:/b2");
  spec.add_volumes("/host:/h");
  auto* config = spec.add_configs();
  config->set_target("/etc/x.conf");
  EXPECT_EQ(volumeNamesOf(spec), (std::vector<std::string>{"a", "b"}));

  auto infos = mountInfosOf(spec, "/c", [](const std::string& name) { return "/v/" + name; });
  ASSERT_EQ(infos.size(), 5u);
  EXPECT_EQ(infos[0].kind(), pb::MOUNT_VOLUME);
  EXPECT_EQ(infos[0].name(), "b");
  EXPECT_EQ(infos[0].source(), "/v/b");
  EXPECT_TRUE(infos[1].read_only());
  EXPECT_EQ(infos[3].kind(), pb::MOUNT_BIND);
  EXPECT_EQ(infos[3].source(), "/host");
  EXPECT_EQ(infos[3].propagation(), "rprivate");
  EXPECT_EQ(infos[4].kind(), pb::MOUNT_CONFIG);
  EXPECT_EQ(infos[4].source(), "/c/configs/0");
  EXPECT_EQ(infos[4].destination(), "/etc/x.conf");
  EXPECT_TRUE(infos[4].read_only());
}

TEST(ContainerMounts, UpdateDiskIsRecorded) {
  pb::ContainerSpec spec;
  pb::ContainerUpdateRequest request;
  request.set_disk_bytes(128 << 20);
  applyUpdateToSpec(request, spec);
  EXPECT_EQ(spec.disk_bytes(), 128u << 20);
  EXPECT_EQ(rootfsOptionsFor(spec).diskLimitBytes, 128u << 20);
}

}  // namespace
}  // namespace berth::agent::engine
