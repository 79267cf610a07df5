// The front end of one I/O thread: it owns the thread's I/O loop, gives
// each new connection a session with its first protocol, and carries the
// protocols' requests to where they are answered: calls to the router (or,
// for a `check` it can be sure of, to the thread's replica of the state),
// snapshots to the thread's front desk, names to the resolver. Answers come
// back from other threads through its reply sink, which wakes the loop.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "actors/interfaces.hpp"
#include "frontend/answer_replica.hpp"
#include "frontend/call_forwarder.hpp"
#include "frontend/channel.hpp"
#include "metrics/replica_role_board.hpp"
#include "net/host_resolver.hpp"
#include "net/io_loop.hpp"

namespace dm {

class session;

// How far the replicas' clocks may be apart: a follower treats a deadline
// due within it as due, and forwards (docs/architecture.md, "Checks on a
// follower").
inline constexpr std::chrono::seconds follower_clock_margin{1};

// Makes the first protocol of each new connection.
using protocol_factory = std::function<std::unique_ptr<protocol>()>;

class dispatcher final : public loop_client {
public:
  dispatcher(int listen_fd, connection_limits limits, host_resolver& resolver,
             protocol_factory first_protocol,
             std::shared_ptr<std::atomic<std::size_t>> open_connections,
             std::shared_ptr<const tls_context> tls = nullptr);
  ~dispatcher() override;
  dispatcher(const dispatcher&) = delete;
  dispatcher& operator=(const dispatcher&) = delete;

  // The sink the loop's front desk delivers snapshots to.
  std::shared_ptr<reply_sink> sink() const;
  // Where calls go (the router, each with its reply_to) and snapshots go
  // (this loop's front desk); set both before run().
  void set_actors(router_actor router, front_desk_actor desk) {
    std::lock_guard<std::mutex> guard(actors_mutex_);
    router_ = std::move(router);
    desk_ = std::move(desk);
  }
  // Replicated: calls are taken only while `role` says this replica may
  // decide, else refused with its reason; the actors come and go with the
  // leadership (set_actors may then be called while the loop runs).
  // Call before run().
  // A follower sends calls through `forwarder` to the leader (null:
  // refuses them naming it).
  void follow_role(std::shared_ptr<const replica_role_board> role,
                   std::shared_ptr<call_forwarder> forwarder = nullptr) {
    role_ = std::move(role);
    forwarder_ = std::move(forwarder);
  }

  // Answers `check` from a replica of the durable state when it can be
  // sure (see answer_replica); call before run(). `wall_offset` turns the
  // steady clock into the actors' wall time.
  void enable_local_checks(const stored_state& initial,
                           std::chrono::nanoseconds max_duration,
                           std::chrono::nanoseconds wall_offset);
  // Feeds the replica: called on the storage thread with synced changes.
  void replicate(std::shared_ptr<const std::vector<state_change>> changes);
  // Tells the replica what firing alerts block: on the alert poller's
  // thread, and before run() with what holds until its first poll.
  void block_by_alerts(const alert_blocking& alerts);

  // A follower: answers a `check` from a replica of the state etcd has
  // committed, fed by load_followed and follow_changes (any thread), once
  // a round of `barrier` sent after the check arrived has named the
  // revision the leader's answers depend on, and the replica has reached
  // it; otherwise the check is forwarded (docs/architecture.md, "Checks on
  // a follower"). Call before run().
  void follow_state(std::shared_ptr<revision_barrier> barrier,
                    std::chrono::nanoseconds max_duration,
                    std::chrono::nanoseconds wall_offset);
  // `changed` and `seen`: the state given is etcd's at every revision
  // from `changed` to `seen` (changes may be null: only `seen` moved).
  void load_followed(std::shared_ptr<const stored_state> state,
                     std::int64_t changed, std::int64_t seen);
  void follow_changes(std::shared_ptr<const std::vector<state_change>> changes,
                      std::int64_t changed, std::int64_t seen);
  // A round of the barrier was answered (called on its thread).
  void barrier_done();

  // Runs until stop(); call on the loop's own thread.
  void run() { loop_.run(); }
  void stop() { loop_.stop(); }
  io_loop& loop() { return loop_; }
  const io_loop& loop() const { return loop_; }

  // A session's requests; answers go back to it on this thread.
  void submit_call(session& s, disruption_call call);
  void request_snapshot(session& s, gather_scope scope);
  // An operator's command, to the router; its answer back to `s`.
  void submit_admin(session& s, admin_command cmd);
  void resolve(session& s, std::string hostname);

  // loop_client
  std::unique_ptr<connection_handler> open(connection& conn) override;
  void on_round() override;
  void on_wake() override;

private:
  class answer_queue;

  io_loop loop_;
  host_resolver& resolver_;
  protocol_factory first_protocol_;
  std::shared_ptr<answer_queue> answers_;
  std::mutex actors_mutex_; // taken only when following a role
  router_actor router_;
  front_desk_actor desk_;
  std::shared_ptr<const replica_role_board> role_;
  std::shared_ptr<call_forwarder> forwarder_;
  std::optional<answer_replica> replica_;
  std::chrono::nanoseconds wall_offset_{0};
  std::mutex replica_mutex_;
  std::atomic<bool> replica_updates_{false};
  std::vector<std::shared_ptr<const std::vector<state_change>>> replica_queue_;

  // A follower's.
  struct followed_update {
    std::shared_ptr<const stored_state> state; // or
    std::shared_ptr<const std::vector<state_change>> changes;
    std::int64_t changed = 0;
    std::int64_t seen = 0;
  };
  struct parked_check {
    std::uint64_t ticket = 0;
    disruption_call call;
    std::uint64_t round = 0; // of the barrier
  };
  void push_followed(followed_update update);
  void apply_followed(std::vector<followed_update> updates);
  // Whether the followed replica holds exactly the state at `revision`.
  bool followed_holds(std::int64_t revision) const;
  // The time its checks are answered at (deadlines near enough are due).
  timestamp followed_now() const;
  void settle_parked();
  std::shared_ptr<revision_barrier> barrier_;
  std::chrono::nanoseconds max_duration_{0};
  std::vector<followed_update> followed_queue_; // under replica_mutex_
  std::optional<answer_replica> followed_;      // the loop's own
  std::int64_t followed_changed_ = -1;
  std::int64_t followed_seen_ = -1;
  std::vector<parked_check> parked_;
  std::atomic<bool> barrier_rounds_{false};
  std::optional<alert_blocking> replica_alerts_; // not yet applied
};

} // namespace dm
