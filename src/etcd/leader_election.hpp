// Leader election among the replicas: each campaigns under the prefix with
// a lease of its own; the winner decides until it cannot renew the lease in
// time by its own clock, then steps down and campaigns again. Runs on two
// threads of its own (campaign, heartbeat): etcd's calls block.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "etcd/etcd_client.hpp"
#include "metrics/replica_role_board.hpp"

namespace dm::etcd {

struct election_options {
  std::string prefix = "/disruption-manager/";
  std::string advertise; // this replica's address, the leader key's value
  std::chrono::seconds lease_ttl{3};
};

// What a leader writes under: its leader key, the fence of every write.
struct leadership {
  txn_guard fence;
  std::int64_t lease = 0;
};

// How long a leader may decide after a renewal was sent, and how often it
// renews: the lease's TTL less a margin for its clock and its last renewal
// in flight; renewals every sixth of the TTL.
std::chrono::milliseconds deciding_margin(std::chrono::seconds ttl);
std::chrono::milliseconds renew_interval(std::chrono::seconds ttl);

class leader_election {
public:
  // `on_elected` (on the campaign thread) loads the state and starts
  // deciding; false gives the leadership up again. `on_deposed` stops
  // deciding. The role board is told first of every change.
  leader_election(std::shared_ptr<client> etcd, election_options options,
                  replica_role_board& board,
                  std::function<bool(const leadership&)> on_elected,
                  std::function<void()> on_deposed);
  ~leader_election();

  void start();
  // Steps down (revoking the lease, so that another takes over at once)
  // and stops both threads.
  void stop();

private:
  void campaign_loop();
  void heartbeat_loop();
  // Waits up to `period` or until woken; false once stopping.
  bool pause(std::chrono::milliseconds period);
  void step_down(const std::string& why);

  std::shared_ptr<client> etcd_;
  election_options options_;
  replica_role_board& board_;
  std::function<bool(const leadership&)> on_elected_;
  std::function<void()> on_deposed_;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<bool> stopping_{false};
  // The lease of this round of campaigning (0: none) and the moment until
  // which it holds by our clock (ns of the steady clock).
  std::atomic<std::int64_t> lease_{0};
  std::atomic<std::int64_t> valid_until_ns_{0};
  // Set by the heartbeat when the lease is gone or cannot be renewed in
  // time: the campaign thread steps down, or campaigns anew.
  std::atomic<bool> lease_lost_{false};
  std::atomic<bool> leading_{false};
  std::thread campaign_thread_;
  std::thread heartbeat_thread_;
};

} // namespace dm::etcd
