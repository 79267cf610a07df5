// Gatherer: roster from the router, then a window of group snapshots; the
// answer is the whole state or an error, never a part of it.
#include "actors/gatherer.hpp"

#include <memory>
#include <string>

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
  auto view = std::make_shared<state_view>();
  view->admin = std::move(run.admin);
  // Groups without machines are not part of the state (a group actor may
  // live on a moment after its last machine left).
  for (auto& group : run.views)
    if (!group.machines.empty())
      view->groups.push_back(std::move(group));
  gathered_state result;
  result.view = std::move(view);
  answer_all(self, result);
}

bool retired(const caf::error& e) {
  return e.category() == caf::atom("system") &&
         e.code() == static_cast<std::uint8_t>(caf::sec::request_receiver_down);
}

void ask_more(self_ptr self) {
  auto& run = *self->state.current;
  auto window = self->state.limits.groups_in_flight;
  while (run.asked < run.roster.size() && run.asked - run.answered < window) {
    auto index = run.asked++;
    auto id = run.id;
    self->request(run.roster[index], caf::infinite, snapshot_atom::value)
        .then(
            [self, id, index](group_view& view) {
              auto& st = self->state;
              if (!st.current || st.current->id != id)
                return; // That gathering has ended (its time ran out).
              st.current->views[index] = std::move(view);
              if (++st.current->answered == st.current->roster.size())
                finish(self);
              else
                ask_more(self);
            },
            [self, id](caf::error& e) {
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
              if (++st.current->answered == st.current->roster.size())
                finish(self);
              else
                ask_more(self);
            });
  }
}

void start_next(self_ptr self) {
  auto& st = self->state;
  if (st.current || st.next.empty())
    return;
  st.current.emplace();
  auto& run = *st.current;
  run.id = ++st.last_id;
  run.waiters = std::move(st.next);
  st.next.clear();
  auto id = run.id;
  run.started = self->clock().now();
  if (!st.deadline_check_pending) {
    st.deadline_check_pending = true;
    self->delayed_send(self, st.limits.deadline, due_atom::value, id);
  }
  self->request(st.router, caf::infinite, roster_atom::value)
      .then(
          [self, id](group_roster& roster) {
            auto& st = self->state;
            if (!st.current || st.current->id != id)
              return;
            auto& run = *st.current;
            run.roster = std::move(roster.groups);
            run.admin = std::move(roster.admin);
            run.views.resize(run.roster.size());
            if (run.roster.empty())
              finish(self);
            else
              ask_more(self);
          },
          [self, id](caf::error& e) {
            auto& st = self->state;
            if (st.current && st.current->id == id)
              fail(self,
                   "the state could not be gathered (" + to_string(e) + ")");
          });
}

} // namespace

gatherer_actor::behavior_type
gatherer(gatherer_actor::stateful_pointer<gatherer_state> self,
         router_actor router, gather_limits limits) {
  self->state.router = std::move(router);
  self->state.limits = limits;
  return {
      [self](snapshot_atom) -> caf::result<gathered_state> {
        auto& st = self->state;
        auto waiting =
            st.next.size() + (st.current ? st.current->waiters.size() : 0);
        if (waiting >= st.limits.waiting) {
          gathered_state busy;
          busy.error = "too many requests for the state are waiting; try "
                       "again shortly";
          return busy;
        }
        auto promise = self->make_response_promise<gathered_state>();
        st.next.push_back(promise);
        start_next(self);
        return promise;
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
