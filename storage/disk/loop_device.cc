// Loop device handling for storage/disk: see loop_device.h.
#include "storage/disk/loop_device.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <linux/major.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <cstring>

#include "runtime/sys/fs.h"

namespace berth::storage::disk {
namespace {

// LOOP_CTL_GET_FREE hands every concurrent caller the same free device; only
// one LOOP_CONFIGURE wins, the others get EBUSY and ask again.
constexpr int kAttachAttempts = 64;

std::string sysfsDir(dev_t dev) {
  return "/sys/dev/block/" + std::to_string(::major(dev)) + ":" + std::to_string(::minor(dev));
}

sys::Result<bool> configure(int loopFd, int imageFd, const std::string& imagePath) {
  struct loop_config config {};
  config.fd = static_cast<__u32>(imageFd);
  // Buffered I/O (no LO_FLAGS_DIRECT_IO): see disk.h. Autoclear: the device
  // is freed when its last user goes, so an unmount, a failed mount, or a
  // crash between attach and mount never leaks it.
  config.info.lo_flags = LO_FLAGS_AUTOCLEAR;
  // Informational only (losetup -l shows it); truncated like losetup does.
  std::strncpy(reinterpret_cast<char*>(config.info.lo_file_name), imagePath.c_str(),
               LO_NAME_SIZE - 1);
  if (::ioctl(loopFd, LOOP_CONFIGURE, &config) == 0) return true;
  if (errno == EBUSY) return false;
  return sys::Error::fromErrno("configure loop device for " + imagePath);
}

}  // namespace

sys::Result<LoopDevice> attachLoop(int imageFd, const std::string& imagePath) {
  sys::UniqueFd control(::open("/dev/loop-control", O_RDWR | O_CLOEXEC));
  if (!control) return sys::Error::fromErrno("open /dev/loop-control");
  for (int attempt = 0; attempt < kAttachAttempts; ++attempt) {
    int n = ::ioctl(control.get(), LOOP_CTL_GET_FREE);
    if (n < 0) return sys::Error::fromErrno("find a free loop device");
    LoopDevice loop{sys::UniqueFd(), "/dev/loop" + std::to_string(n)};
    loop.fd.reset(::open(loop.path.c_str(), O_RDWR | O_CLOEXEC));
    if (!loop.fd) {
      // Removed (LOOP_CTL_REMOVE) by someone else between the two calls.
      if (errno == ENOENT || errno == ENXIO) continue;
      return sys::Error::fromErrno("open " + loop.path);
    }
    if (BERTH_TRY(configure(loop.fd.get(), imageFd, imagePath))) return loop;
  }
  return sys::Error(EBUSY, "attach " + imagePath + ": no free loop device after " +
                               std::to_string(kAttachAttempts) + " attempts");
}

sys::Result<std::string> loopBackingFile(dev_t dev) {
  if (::major(dev) != LOOP_MAJOR) return std::string();
  auto text = sys::readFile(sysfsDir(dev) + "/loop/backing_file");
  if (!text) {
    if (text.error().code() == ENOENT) return std::string();  // not configured
    return std::move(text).error();
  }
  std::string path = std::move(*text);
  if (!path.empty() && path.back() == '\n') path.pop_back();
  return path;
}

sys::Result<std::string> findLoopBackedBy(const std::string& resolvedPath) {
  DIR* dir = ::opendir("/sys/block");
  if (!dir) return sys::Error::fromErrno("list /sys/block");
  std::string found;
  while (struct dirent* e = ::readdir(dir)) {
    std::string name = e->d_name;
    if (name.rfind("loop", 0) != 0) continue;
    auto backing = sys::readFile("/sys/block/" + name + "/loop/backing_file");
    if (backing && !backing->empty() && backing->back() == '\n') backing->pop_back();
    if (backing && *backing == resolvedPath) {
      found = name;
      break;
    }
  }
  ::closedir(dir);
  return found;
}

sys::Result<sys::UniqueFd> openLoop(dev_t dev) {
  auto uevent = BERTH_TRY(sys::readFile(sysfsDir(dev) + "/uevent"));
  std::string name;
  size_t pos = uevent.find("DEVNAME=");
  if (pos != std::string::npos) {
    size_t start = pos + 8;
    name = uevent.substr(start, uevent.find('\n', start) - start);
  }
  if (name.empty() || name.find('/') != std::string::npos) {
    return sys::Error(ENODEV, "no device name for block device " + sysfsDir(dev));
  }
  std::string path = "/dev/" + name;
  sys::UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (!fd) return sys::Error::fromErrno("open " + path);
  struct stat st {};
  if (::fstat(fd.get(), &st) < 0 || !S_ISBLK(st.st_mode) || st.st_rdev != dev) {
    return sys::Error(ENODEV, path + " is not the loop device " + sysfsDir(dev));
  }
  return fd;
}

}  // namespace berth::storage::disk
