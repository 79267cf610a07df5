// Answers from actor and resolver threads are queued under a short lock and
// announced by waking the loop, only when the queue was empty.
#include "frontend/dispatcher.hpp"

#include <variant>

#include "frontend/session.hpp"
#include "metrics/service_metrics.hpp"

namespace dm {

class dispatcher::answer_queue final : public reply_sink {
public:
  struct resolution {
    std::vector<std::string> addresses;
    std::string error;
  };
  using answer =
      std::variant<call_result, gathered_state, resolution, admin_result>;

  explicit answer_queue(io_loop& loop) : loop_(&loop) {}

  void deliver(std::uint64_t ticket, call_result result) override {
    push(ticket, std::move(result));
  }
  void deliver_state(std::uint64_t ticket, gathered_state state) override {
    push(ticket, std::move(state));
  }
  void deliver_resolution(std::uint64_t ticket, resolution r) {
    push(ticket, std::move(r));
  }
  void deliver_admin(std::uint64_t ticket, admin_result r) {
    push(ticket, std::move(r));
  }

  std::vector<std::pair<std::uint64_t, answer>> take() {
    std::vector<std::pair<std::uint64_t, answer>> taken;
    std::lock_guard<std::mutex> guard(mutex_);
    taken.swap(queue_);
    return taken;
  }

  // The loop is going: later answers have nobody to go to.
  void detach() {
    std::lock_guard<std::mutex> guard(mutex_);
    loop_ = nullptr;
  }

private:
  void push(std::uint64_t ticket, answer a) {
    std::lock_guard<std::mutex> guard(mutex_);
    if (!loop_)
      return;
    bool was_empty = queue_.empty();
    queue_.emplace_back(ticket, std::move(a));
    if (was_empty)
      loop_->wake();
  }

  io_loop* loop_;
  std::mutex mutex_;
  std::vector<std::pair<std::uint64_t, answer>> queue_;
};

dispatcher::dispatcher(
    int listen_fd, connection_limits limits, host_resolver& resolver,
    protocol_factory first_protocol,
    std::shared_ptr<std::atomic<std::size_t>> open_connections,
    std::shared_ptr<const tls_context> tls)
    : loop_(listen_fd, limits, *this, std::move(open_connections),
            std::move(tls)),
      resolver_(resolver), first_protocol_(std::move(first_protocol)),
      answers_(std::make_shared<answer_queue>(loop_)) {
  // nop
}

dispatcher::~dispatcher() {
  answers_->detach();
}

std::shared_ptr<reply_sink> dispatcher::sink() const {
  return answers_;
}

std::unique_ptr<connection_handler> dispatcher::open(connection& conn) {
  return std::make_unique<session>(conn, *this, first_protocol_());
}

void dispatcher::enable_local_checks(const stored_state& initial,
                                     std::chrono::nanoseconds max_duration,
                                     std::chrono::nanoseconds wall_offset) {
  replica_.emplace(max_duration);
  replica_->load(initial);
  wall_offset_ = wall_offset;
}

void dispatcher::replicate(
    std::shared_ptr<const std::vector<state_change>> changes) {
  bool was_empty;
  {
    std::lock_guard<std::mutex> guard(replica_mutex_);
    was_empty = replica_queue_.empty();
    replica_queue_.push_back(std::move(changes));
    replica_updates_.store(true, std::memory_order_release);
  }
  if (was_empty)
    loop_.wake();
}

void dispatcher::follow_state(std::shared_ptr<revision_barrier> barrier,
                              std::chrono::nanoseconds max_duration,
                              std::chrono::nanoseconds wall_offset) {
  barrier_ = std::move(barrier);
  max_duration_ = max_duration;
  wall_offset_ = wall_offset;
}

void dispatcher::load_followed(std::shared_ptr<const stored_state> state,
                               std::int64_t changed, std::int64_t seen) {
  push_followed({std::move(state), nullptr, changed, seen});
}

void dispatcher::follow_changes(
    std::shared_ptr<const std::vector<state_change>> changes,
    std::int64_t changed, std::int64_t seen) {
  push_followed({nullptr, std::move(changes), changed, seen});
}

void dispatcher::push_followed(followed_update update) {
  bool was_empty;
  {
    std::lock_guard<std::mutex> guard(replica_mutex_);
    was_empty = followed_queue_.empty() && replica_queue_.empty();
    followed_queue_.push_back(std::move(update));
    replica_updates_.store(true, std::memory_order_release);
  }
  if (was_empty)
    loop_.wake();
}

void dispatcher::apply_followed(std::vector<followed_update> updates) {
  for (auto& update : updates) {
    if (update.state) {
      followed_.emplace(max_duration_);
      followed_->load(*update.state);
    } else if (followed_ && update.changes) {
      followed_->apply(*update.changes);
    }
    followed_changed_ = update.changed;
    followed_seen_ = update.seen;
  }
}

void dispatcher::barrier_done() {
  barrier_rounds_.store(true, std::memory_order_release);
  loop_.wake();
}

bool dispatcher::followed_holds(std::int64_t revision) const {
  // Exactly the state the leader's answers depended on: not one before it,
  // nor one after (which no client may have heard of yet, and another
  // follower might not show).
  return revision >= 0 && followed_ && followed_changed_ <= revision &&
         revision <= followed_seen_;
}

timestamp dispatcher::followed_now() const {
  // The replicas' clocks may differ by up to follower_clock_margin: a
  // deadline that near is treated as due, and the leader decides.
  return timestamp{std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::steady_clock::now().time_since_epoch()) +
                   wall_offset_ + follower_clock_margin};
}

void dispatcher::settle_parked() {
  auto done = barrier_->completed();
  auto now = followed_now();
  bool current = followed_holds(done.revision);
  auto& metrics = service_metrics::instance();
  std::size_t kept = 0;
  for (std::size_t i = 0; i < parked_.size(); ++i) {
    auto& p = parked_[i];
    if (p.round > done.number) {
      if (kept != i)
        parked_[kept] = std::move(p);
      ++kept;
      continue;
    }
    std::optional<disruption_state> state;
    if (current)
      state = followed_->check(p.call.host, p.call.group, p.call.limit,
                               p.call.windows, now);
    if (state) {
      ++metrics.checks_answered_locally;
      call_result result;
      result.state = *state;
      answers_->deliver(p.ticket, std::move(result));
    } else {
      p.call.reply = reply_to(answers_, p.ticket);
      ++metrics.calls_forwarded;
      forwarder_->forward(std::move(p.call));
    }
  }
  parked_.resize(kept);
}

void dispatcher::block_by_alerts(const alert_blocking& alerts) {
  {
    std::lock_guard<std::mutex> guard(replica_mutex_);
    replica_alerts_ = alerts;
    replica_updates_.store(true, std::memory_order_release);
  }
  loop_.wake();
}

void dispatcher::on_round() {
  // Before any input of this round: a client that heard of a change may
  // be asking about it now.
  if (!replica_updates_.load(std::memory_order_acquire))
    return;
  std::vector<std::shared_ptr<const std::vector<state_change>>> taken;
  std::vector<followed_update> followed;
  std::optional<alert_blocking> alerts;
  {
    std::lock_guard<std::mutex> guard(replica_mutex_);
    taken.swap(replica_queue_);
    followed.swap(followed_queue_);
    alerts.swap(replica_alerts_);
    replica_updates_.store(false, std::memory_order_relaxed);
  }
  if (!followed.empty())
    apply_followed(std::move(followed));
  if (!replica_)
    return;
  for (const auto& changes : taken)
    replica_->apply(*changes);
  if (alerts)
    replica_->set_alerts(std::move(*alerts));
}

void dispatcher::submit_call(session& s, disruption_call call) {
  if (replica_ && call.kind == request_kind::check) {
    auto now =
        timestamp{std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::steady_clock::now().time_since_epoch()) +
                  wall_offset_};
    if (auto state = replica_->check(call.host, call.group, call.limit,
                                     call.windows, now)) {
      ++service_metrics::instance().checks_answered_locally;
      call_result result;
      result.state = *state;
      s.deliver(std::move(result));
      return;
    }
  }
  if (role_) {
    router_actor router;
    if (role_->may_decide()) {
      std::lock_guard<std::mutex> guard(actors_mutex_);
      router = router_;
    }
    if (router && call.kind == request_kind::check) {
      // The leader's own: every answer it gave depends on at most its last
      // committed revision, so the replica fed by etcd's watch answers when
      // it holds exactly that state (docs/architecture.md, "Checks on a
      // follower"); otherwise the groups decide.
      auto revision = role_->committed_revision();
      std::optional<disruption_state> state;
      if (revision > 0 && followed_holds(revision))
        state = followed_->check(call.host, call.group, call.limit,
                                 call.windows, followed_now());
      if (state) {
        ++service_metrics::instance().checks_answered_locally;
        call_result result;
        result.state = *state;
        s.deliver(std::move(result));
        return;
      }
    }
    if (!router && barrier_ && followed_ && forwarder_ && !call.forwarded &&
        call.kind == request_kind::check && role_->forwards()) {
      // Answered here once a round of the barrier sent from now on says
      // which revision the leader's answers depend on.
      s.conn().await_answer();
      parked_.push_back({s.conn().id(), std::move(call), barrier_->ask()});
      return;
    }
    if (!router && forwarder_ && !call.forwarded && role_->forwards()) {
      // Access was decided here, where the caller connected.
      s.conn().await_answer();
      call.reply = reply_to(answers_, s.conn().id());
      ++service_metrics::instance().calls_forwarded;
      forwarder_->forward(std::move(call));
      return;
    }
    if (!router) {
      call_result refused;
      refused.error = role_->refusal();
      refused.not_leader = true;
      s.deliver(std::move(refused));
      return;
    }
    s.conn().await_answer();
    call.reply = reply_to(answers_, s.conn().id());
    caf::anon_send(router, operate_atom::value, std::move(call));
    return;
  }
  s.conn().await_answer();
  call.reply = reply_to(answers_, s.conn().id());
  caf::anon_send(router_, operate_atom::value, std::move(call));
}

void dispatcher::request_snapshot(session& s, gather_scope scope) {
  if (role_) {
    front_desk_actor desk;
    {
      std::lock_guard<std::mutex> guard(actors_mutex_);
      desk = desk_;
    }
    if (!desk) {
      // A follower holds no groups: its pages show the role alone.
      gathered_state none_held;
      none_held.view = std::make_shared<const state_view>();
      s.deliver(std::move(none_held));
      return;
    }
    s.conn().await_answer();
    caf::anon_send(desk, snapshot_atom::value, s.conn().id(), std::move(scope));
    return;
  }
  s.conn().await_answer();
  caf::anon_send(desk_, snapshot_atom::value, s.conn().id(), std::move(scope));
}

void dispatcher::submit_admin(session& s, admin_command cmd) {
  router_actor router = router_;
  if (role_) {
    // As calls: only the replica that may decide takes commands; a
    // follower sends them to the leader, access decided here.
    router = nullptr;
    if (role_->may_decide()) {
      std::lock_guard<std::mutex> guard(actors_mutex_);
      router = router_;
    }
    if (!router && forwarder_ && !cmd.forwarded && role_->forwards()) {
      s.conn().await_answer();
      auto answers = answers_;
      auto ticket = s.conn().id();
      ++service_metrics::instance().calls_forwarded;
      forwarder_->forward_admin(
          std::move(cmd), [answers, ticket](admin_result result) {
            answers->deliver_admin(ticket, std::move(result));
          });
      return;
    }
    if (!router) {
      admin_result refused;
      refused.status = 503;
      refused.error = role_->refusal();
      s.deliver(std::move(refused));
      return;
    }
  }
  // Status reads the state as the pages do; the rest change it.
  if (cmd.operation == admin_operation::status) {
    request_snapshot(s, gather_scope{});
    return;
  }
  s.conn().await_answer();
  auto answers = answers_;
  auto ticket = s.conn().id();
  // Rare: a short-lived actor asks the router and hands its answer over.
  // The command travels as a spawn argument: CAF 0.17 reads an empty
  // argument list through a null pointer (docs/architecture.md, "Spawning").
  router->home_system().spawn(
      [answers, ticket, router](caf::event_based_actor* self,
                                admin_command cmd) {
        self->request(router, caf::infinite, admin_atom::value, std::move(cmd))
            .then(
                [answers, ticket](admin_result& result) {
                  answers->deliver_admin(ticket, std::move(result));
                },
                [answers, ticket](caf::error& err) {
                  admin_result failed;
                  failed.status = 503;
                  failed.error = "admin operation failed: " + to_string(err);
                  answers->deliver_admin(ticket, std::move(failed));
                });
      },
      std::move(cmd));
}

void dispatcher::resolve(session& s, std::string hostname) {
  s.conn().await_answer();
  auto answers = answers_;
  auto ticket = s.conn().id();
  resolver_.resolve(
      std::move(hostname),
      [answers, ticket](std::vector<std::string> addresses, std::string error) {
        answers->deliver_resolution(
            ticket,
            answer_queue::resolution{std::move(addresses), std::move(error)});
      });
}

void dispatcher::on_wake() {
  if (barrier_rounds_.exchange(false, std::memory_order_acq_rel) &&
      !parked_.empty())
    settle_parked();
  for (auto& [ticket, a] : answers_->take()) {
    auto* conn = loop_.find(ticket);
    if (!conn)
      continue; // The client went away meanwhile.
    loop_.answered(*conn);
    if (conn->state() == connection_state::closing ||
        conn->state() == connection_state::lingering) {
      // Its last words are out (TLS failed or the client said goodbye
      // meanwhile): nobody will read the answer.
      loop_.resume(*conn);
      continue;
    }
    auto& s = static_cast<session&>(conn->handler());
    if (auto* result = std::get_if<call_result>(&a))
      s.deliver(std::move(*result));
    else if (auto* state = std::get_if<gathered_state>(&a))
      s.deliver(std::move(*state));
    else if (auto* r = std::get_if<answer_queue::resolution>(&a))
      s.deliver(std::move(r->addresses), std::move(r->error));
    else if (auto* admin = std::get_if<admin_result>(&a))
      s.deliver(std::move(*admin));
    loop_.resume(*conn);
  }
}

} // namespace dm
