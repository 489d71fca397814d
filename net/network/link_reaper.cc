// LinkReaper (see link_reaper.h).
#include "net/network/link_reaper.h"

#include <algorithm>
#include <cstdio>

#include "net/netlink/links.h"

namespace berth::net::network {

sys::Result<std::unique_ptr<LinkReaper>> LinkReaper::open() {
  netlink::Socket sock = BERTH_TRY_CTX(netlink::Socket::open(), "link reaper");
  return std::unique_ptr<LinkReaper>(new LinkReaper(std::move(sock)));
}

LinkReaper::LinkReaper(netlink::Socket sock)
    : sock_(std::move(sock)), thread_([this] { run(); }) {}

LinkReaper::~LinkReaper() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void LinkReaper::deleteLater(std::string name, std::function<void()> after) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(Job{std::move(name), std::move(after)});
  }
  wake_.notify_all();
}

bool LinkReaper::pendingLocked(const std::string& name) const {
  if (current_ == name) return true;
  return std::any_of(queue_.begin(), queue_.end(), [&](const Job& j) { return j.name == name; });
}

bool LinkReaper::pending(const std::string& name) const {
  std::lock_guard lock(mu_);
  return pendingLocked(name);
}

void LinkReaper::flush(const std::string& name) {
  std::unique_lock lock(mu_);
  auto queued = std::find_if(queue_.begin(), queue_.end(),
                             [&](const Job& j) { return j.name == name; });
  if (queued != queue_.end() && queued != queue_.begin()) {
    Job job = std::move(*queued);
    queue_.erase(queued);
    queue_.push_front(std::move(job));
  }
  done_.wait(lock, [&] { return !pendingLocked(name); });
}

void LinkReaper::settle() {
  std::unique_lock lock(mu_);
  done_.wait(lock, [&] { return queue_.empty() && current_.empty(); });
}

void LinkReaper::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stop_, and nothing left to do
    Job job = std::move(queue_.front());
    queue_.pop_front();
    current_ = job.name;
    lock.unlock();
    if (auto deleted = netlink::deleteLink(sock_, job.name); !deleted) {
      std::fprintf(stderr, "berthd: %s\n", deleted.error().str().c_str());
    }
    if (job.after) job.after();
    lock.lock();
    current_.clear();
    done_.notify_all();
  }
}

}  // namespace berth::net::network
