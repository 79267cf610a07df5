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
};

} // namespace dm
