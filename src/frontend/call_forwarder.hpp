// A follower's way to the leader: calls it admitted go, signed, over a few
// persistent connections to the leader's advertised address, and the
// leader's answers come back through each call's reply_to. Its threads
// block on the network; the I/O threads only queue.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "actors/messages.hpp"
#include "frontend/forwarded_call.hpp"
#include "metrics/replica_role_board.hpp"

namespace dm {

class call_forwarder {
public:
  // `secret`: the replicas' shared secret; `connections` threads, each
  // with its own connection to the leader.
  call_forwarder(std::shared_ptr<const replica_role_board> role,
                 std::string secret, std::size_t connections = 4,
                 std::chrono::seconds timeout = std::chrono::seconds(15));
  ~call_forwarder();
  call_forwarder(const call_forwarder&) = delete;
  call_forwarder& operator=(const call_forwarder&) = delete;

  // Sends `call` (its reply set) to the leader; it is always answered: the
  // leader's answer, or an error saying why the leader could not be asked.
  void forward(disruption_call call);
  // Sends an operator's command (access decided here) to the leader;
  // `reply` always gets an answer: the leader's, relayed, or 503 saying
  // why the leader could not be asked.
  void forward_admin(admin_command cmd,
                     std::function<void(admin_result)> reply);
  void stop();

private:
  struct admin_job {
    admin_command cmd;
    std::function<void(admin_result)> reply;
  };
  using job = std::variant<disruption_call, admin_job>;
  void work();

  std::shared_ptr<const replica_role_board> role_;
  replica_signer signer_;
  std::chrono::seconds timeout_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<job> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

// A follower's rounds of asking the leader which etcd revision its answers
// so far depend on (docs/architecture.md, "Checks on a follower"). A check
// waits for a round sent after it arrived; once that round is answered, a
// replica that has seen that revision answers as the leader would then.
// Rounds run one after another on a thread of its own, each over a kept
// connection to the leader, only while checks wait.
class revision_barrier {
public:
  revision_barrier(std::shared_ptr<const replica_role_board> role,
                   std::string secret,
                   std::chrono::seconds timeout = std::chrono::seconds(5));
  ~revision_barrier();
  revision_barrier(const revision_barrier&) = delete;
  revision_barrier& operator=(const revision_barrier&) = delete;

  // Called on the barrier's thread after each round; set before the first
  // ask().
  void on_round(std::function<void()> done) { done_ = std::move(done); }
  // The round a check arriving now waits for (one not yet sent), asked
  // for. Safe from any thread.
  std::uint64_t ask();
  // The last round answered and the revision the leader named (-1: the
  // round failed: the leader could not be asked or does not lead).
  struct round {
    std::uint64_t number = 0;
    std::int64_t revision = -1;
  };
  round completed() const;
  std::uint64_t rounds() const {
    return completed_.load(std::memory_order_acquire);
  }
  void stop();

private:
  void work();
  std::int64_t ask_leader();

  std::shared_ptr<const replica_role_board> role_;
  replica_signer signer_;
  std::chrono::seconds timeout_;
  std::function<void()> done_;
  std::atomic<std::uint64_t> next_{1};
  std::atomic<std::uint64_t> completed_{0};
  std::atomic<std::int64_t> completed_revision_{-1};
  std::atomic<bool> wanted_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
  struct connection;
  std::unique_ptr<connection> connection_;
};

} // namespace dm
