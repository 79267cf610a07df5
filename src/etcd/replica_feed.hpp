// A follower's view of the state: the whole state read once at one
// revision, then every change etcd commits under the prefix, in order, from
// etcd's Watch. It feeds the I/O threads' check replicas of a follower
// (docs/architecture.md, "Checks on a follower"). Runs on a thread of its
// own (etcd's calls block); after any failure it reads the whole state
// again.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "etcd/etcd_client.hpp"
#include "storage/state_store.hpp"

namespace dm::etcd {

// Where the feed stands in etcd's history: the state it gave is the state
// at every revision from `changed` (its last change) to `seen` (how far
// etcd's history has been read), and at no earlier one it knows of.
struct feed_point {
  std::int64_t changed = 0;
  std::int64_t seen = 0;
};

struct feed_listener {
  // The whole state: replaces anything before.
  std::function<void(std::shared_ptr<const stored_state>, feed_point)> load;
  // The changes since the last point given (null: none; the point moved).
  std::function<void(std::shared_ptr<const std::vector<state_change>>,
                     feed_point)>
      changes;
};

// The changes a batch of watched keys stands for, in an order the check
// replica applies correctly: machines, then limits (a group's limit is kept
// only while it has machines), then the operators' settings. Keys outside
// the state are skipped. False with `error` naming a damaged value.
bool changes_of_events(const std::string& prefix,
                       const std::vector<key_value>& events,
                       std::vector<state_change>& changes, std::string& error);

class replica_feed {
public:
  // `progress_every`: how often etcd is asked how far the watch has come
  // while nothing under the prefix changes.
  replica_feed(std::shared_ptr<client> etcd, std::string prefix,
               feed_listener listener,
               std::chrono::milliseconds progress_every =
                   std::chrono::milliseconds(500));
  ~replica_feed();
  replica_feed(const replica_feed&) = delete;
  replica_feed& operator=(const replica_feed&) = delete;

  void start();
  void stop();

private:
  void run();

  std::shared_ptr<client> etcd_;
  std::string prefix_;
  feed_listener listener_;
  std::chrono::milliseconds progress_every_;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<bool>* cancel_ = nullptr; // the running watch's
  std::thread thread_;
};

} // namespace dm::etcd
