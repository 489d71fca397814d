// LinkReaper: deletes links (a stopped container's veth, a removed network's
// bridge) on a thread of its own. Deleting a link waits in the kernel for
// RCU grace periods under the rtnl lock: ~20 ms for a veth, ~50 ms for a
// bridge on this class of machine. Done inline, that time would sit on a
// container's exit and removal, and -- under ProjectNetworks' mutex -- on
// every other container's start. Queued here, callers only pay for it when
// they need the very name being deleted again (flush).
//
// The reaper's netlink socket is opened by open() in the calling thread's
// network namespace (the node's), like ProjectNetworks' own.
#pragma once
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "net/netlink/socket.h"
#include "runtime/sys/result.h"

namespace berth::net::network {

class LinkReaper {
 public:
  [[nodiscard]] static sys::Result<std::unique_ptr<LinkReaper>> open();
  // Deletes what is queued, then stops.
  ~LinkReaper();
  LinkReaper(const LinkReaper&) = delete;
  LinkReaper& operator=(const LinkReaper&) = delete;

  // Queues the deletion of link `name` (missing by then: fine), then runs
  // `after` on the reaper's thread. Errors are reported on stderr: the
  // caller has moved on, and a link that stays is found again by name.
  void deleteLater(std::string name, std::function<void()> after = {});
  // Returns once `name` is no longer queued or being deleted (a queued
  // deletion jumps the queue): the name is free to be created again.
  void flush(const std::string& name);
  // Whether `name` is queued or being deleted.
  bool pending(const std::string& name) const;
  // Returns once everything queued so far is done.
  void settle();

 private:
  struct Job {
    std::string name;
    std::function<void()> after;
  };
  explicit LinkReaper(netlink::Socket sock);
  void run();
  bool pendingLocked(const std::string& name) const;

  netlink::Socket sock_;  // used by the reaper thread only
  mutable std::mutex mu_;
  std::condition_variable wake_;  // a job was queued, or stop
  std::condition_variable done_;  // a job finished
  std::deque<Job> queue_;
  std::string current_;  // the link being deleted now; "" when idle
  bool stop_ = false;
  std::thread thread_;  // last: started once the rest exists
};

}  // namespace berth::net::network
