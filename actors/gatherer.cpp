// Gatherer: roster from the router, then a window of group summaries or
// snapshots; the answer is the whole state of its scope or an error, never
// a part of it.
#include "actors/gatherer.hpp"

#include <memory>
#include <string>

#include "memory/heap_trimmer.hpp"

namespace dm {

namespace {

using self_ptr = gatherer_actor::stateful_pointer<gatherer_state>;

void start_next(self_ptr self);

void answer_all(self_ptr self, const gathered_state& result) {
  auto& st = self->state;
  for (auto& waiter : st.current->waiters)
    waiter.deliver(result);
  st.current.reset();
  start_next(self);
}

void fail(self_ptr self, std::string reason) {
  gathered_state result;
  result.error = std::move(reason);
  answer_all(self, result);
}

void finish(self_ptr self) {
  auto& run = *self->state.current;
  std::size_t machines = 0;
  for (const auto& group : run.views)
    machines += group.machines.size();
  bool trim = machines >= self->state.limits.trim_after_machines;
  std::shared_ptr<state_view> view(new state_view, [trim](state_view* v) {
    delete v;
    if (trim)
      request_heap_trim();
  });
  view->admin = std::move(run.admin);
  view->alerts = std::move(run.alerts);
  // Groups without machines are not part of the state (a group actor may
  // live on a moment after its last machine left).
  for (auto& group : run.views)
    if (!group.machines.empty() || machines_in(group, view_state::any) > 0)
      view->groups.push_back(std::move(group));
  gathered_state result;
  result.view = std::move(view);
  answer_all(self, result);
}

bool retired(const caf::error& e) {
  return e.category() == caf::atom("system") &&
         e.code() == static_cast<std::uint8_t>(caf::sec::request_receiver_down);
}

void ask_more(self_ptr self);

// Asks the groups at these roster positions for their machines.
void ask_snapshots(self_ptr self, std::vector<std::size_t> targets) {
  auto& run = *self->state.current;
  run.summaries = false;
  run.targets = std::move(targets);
  run.asked = 0;
  run.answered = 0;
  if (run.targets.empty())
    finish(self);
  else
    ask_more(self);
}

// After the summaries: the groups holding the scope's window of machines.
void list_window(self_ptr self) {
  auto& run = *self->state.current;
  const auto& scope = run.scope;
  std::uint64_t total = 0;
  for (const auto& g : run.views)
    total += machines_in(g, scope.state);
  std::vector<std::size_t> targets;
  if (total <= scope.list_at_most) {
    std::uint64_t before = 0; // machines in `state` in the groups before
    auto end = scope.first + scope.count;
    for (std::size_t i = 0; i < run.views.size() && before < end; ++i) {
      auto n = machines_in(run.views[i], scope.state);
      if (n > 0 && before + n > scope.first)
        targets.push_back(i);
      before += n;
    }
  }
  ask_snapshots(self, std::move(targets));
}

void answered_one(self_ptr self) {
  auto& run = *self->state.current;
  if (++run.answered < run.targets.size()) {
    ask_more(self);
    return;
  }
  if (run.summaries)
    list_window(self);
  else
    finish(self);
}

void ask_more(self_ptr self) {
  auto& run = *self->state.current;
  auto window = run.summaries ? self->state.limits.summaries_in_flight
                              : self->state.limits.groups_in_flight;
  while (run.asked < run.targets.size() && run.asked - run.answered < window) {
    auto index = run.targets[run.asked++];
    auto id = run.id;
    auto on_view = [self, id, index](group_view& view) {
      auto& st = self->state;
      if (!st.current || st.current->id != id)
        return; // That gathering has ended (its time ran out).
      st.current->views[index] = std::move(view);
      answered_one(self);
    };
    auto on_error = [self, id, index](caf::error& e) {
      auto& st = self->state;
      if (!st.current || st.current->id != id)
        return;
      if (!retired(e)) {
        fail(self, "the state could not be gathered: a group did not "
                   "answer (" +
                       to_string(e) + ")");
        return;
      }
      // Retired since the roster was made: it knew no machine.
      st.current->views[index] = group_view{};
      answered_one(self);
    };
    if (run.summaries)
      self->request(run.roster[index], caf::infinite, summary_atom::value)
          .then(std::move(on_view), std::move(on_error));
    else
      self->request(run.roster[index], caf::infinite, snapshot_atom::value)
          .then(std::move(on_view), std::move(on_error));
  }
}

void start_next(self_ptr self) {
  auto& st = self->state;
  if (st.current || st.next.empty())
    return;
  st.current.emplace();
  auto& run = *st.current;
  run.id = ++st.last_id;
  run.scope = st.next.front().scope;
  // Every request of this scope shares the gathering; the others wait.
  std::vector<gather_waiter> later;
  for (auto& waiter : st.next) {
    if (waiter.scope == run.scope)
      run.waiters.push_back(std::move(waiter.promise));
    else
      later.push_back(std::move(waiter));
  }
  st.next = std::move(later);
  auto id = run.id;
  run.started = self->clock().now();
  if (!st.deadline_check_pending) {
    st.deadline_check_pending = true;
    self->delayed_send(self, st.limits.deadline, due_atom::value, id);
  }
  auto on_roster = [self, id](group_roster& roster) {
    auto& st = self->state;
    if (!st.current || st.current->id != id)
      return;
    auto& run = *st.current;
    run.roster = std::move(roster.groups);
    run.admin = std::move(roster.admin);
    run.alerts = std::move(roster.alerts);
    run.views.resize(run.roster.size());
    std::vector<std::size_t> all(run.roster.size());
    for (std::size_t i = 0; i < all.size(); ++i)
      all[i] = i;
    if (run.scope.whole || all.empty()) {
      ask_snapshots(self, std::move(all));
      return;
    }
    run.summaries = true;
    run.targets = std::move(all);
    ask_more(self);
  };
  auto on_error = [self, id](caf::error& e) {
    auto& st = self->state;
    if (st.current && st.current->id == id)
      fail(self, "the state could not be gathered (" + to_string(e) + ")");
  };
  if (run.scope.group)
    self->request(st.router, caf::infinite, roster_atom::value,
                  *run.scope.group)
        .then(std::move(on_roster), std::move(on_error));
  else
    self->request(st.router, caf::infinite, roster_atom::value)
        .then(std::move(on_roster), std::move(on_error));
}

caf::result<gathered_state> enqueue(self_ptr self, gather_scope scope) {
  auto& st = self->state;
  auto waiting = st.next.size() + (st.current ? st.current->waiters.size() : 0);
  if (waiting >= st.limits.waiting) {
    gathered_state busy;
    busy.error = "too many requests for the state are waiting; try "
                 "again shortly";
    return busy;
  }
  auto promise = self->make_response_promise<gathered_state>();
  st.next.push_back({promise, std::move(scope)});
  start_next(self);
  return promise;
}

} // namespace

gatherer_actor::behavior_type
gatherer(gatherer_actor::stateful_pointer<gatherer_state> self,
         router_actor router, gather_limits limits) {
  self->state.router = std::move(router);
  self->state.limits = limits;
  return {
      [self](snapshot_atom) -> caf::result<gathered_state> {
        return enqueue(self, gather_scope{});
      },
      [self](snapshot_atom,
             gather_scope& scope) -> caf::result<gathered_state> {
        return enqueue(self, std::move(scope));
      },
      [self](due_atom, std::uint64_t) {
        auto& st = self->state;
        st.deadline_check_pending = false;
        if (!st.current)
          return;
        auto elapsed = self->clock().now() - st.current->started;
        if (elapsed >= st.limits.deadline) {
          fail(self, "the state could not be gathered within " +
                         std::to_string(
                             std::chrono::duration_cast<std::chrono::seconds>(
                                 st.limits.deadline)
                                 .count()) +
                         " s; try again");
          return; // (A next gathering started by fail has its own check.)
        }
        st.deadline_check_pending = true;
        self->delayed_send(self, st.limits.deadline - elapsed, due_atom::value,
                           st.current->id);
      },
  };
}

} // namespace dm
