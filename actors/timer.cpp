// Timer actor: deadlines in a set ordered by time; a delayed message for the
// earliest is sent only when none is set for that moment or before (as a
// group once did for itself), so cycling groups add none.
#include "actors/timer.hpp"

#include "actors/wall_clock.hpp"
#include "duration/saturating_time.hpp"

namespace dm {

namespace {

using self_ptr = timer_actor::stateful_pointer<timer_state>;

constexpr std::chrono::nanoseconds max_timer_delay = std::chrono::hours(24);

void rearm(self_ptr self) {
  auto& st = self->state;
  if (st.order.empty())
    return;
  auto next = st.order.begin()->first;
  if (st.timer_at && *st.timer_at <= next)
    return;
  auto now = wall_now(self, st.wall_offset);
  auto delay = saturating_until(now, next);
  if (delay.count() < 0)
    delay = std::chrono::nanoseconds(0);
  // The actor clock adds the delay to its own time, which a delay of
  // centuries would wrap; a wake-up at most a day out just looks again.
  if (delay > max_timer_delay) {
    delay = max_timer_delay;
    st.timer_at = now + delay;
  } else {
    st.timer_at = next;
  }
  // One millisecond of slack so the group sees the deadline as passed.
  self->delayed_send(self, delay + std::chrono::milliseconds(1),
                     due_atom::value, ++st.timer_generation);
}

void forget(self_ptr self, caf::actor_id id) {
  auto& st = self->state;
  auto it = st.wakes.find(id);
  if (it == st.wakes.end())
    return;
  st.order.erase({it->second.at, id});
  st.wakes.erase(it);
}

} // namespace

timer_actor::behavior_type
timer(timer_actor::stateful_pointer<timer_state> self,
      std::chrono::nanoseconds wall_offset) {
  self->state.wall_offset = wall_offset;
  return {
      [self](arm_atom, group_actor& group, std::int64_t at_ns,
             std::uint64_t generation) {
        auto& st = self->state;
        auto id = group.id();
        forget(self, id);
        timestamp at{std::chrono::nanoseconds(at_ns)};
        st.wakes.emplace(id,
                         timer_state::wake{std::move(group), at, generation});
        st.order.emplace(at, id);
        rearm(self);
      },
      [self](disarm_atom, const group_actor& group) {
        forget(self, group.id());
      },
      [self](due_atom, std::uint64_t generation) {
        auto& st = self->state;
        if (generation != st.timer_generation)
          return; // Superseded by an earlier deadline.
        st.timer_at.reset();
        auto now = wall_now(self, st.wall_offset);
        while (!st.order.empty() && st.order.begin()->first <= now) {
          auto id = st.order.begin()->second;
          auto& wake = st.wakes.at(id);
          self->send(wake.group, due_atom::value, wake.generation);
          forget(self, id);
        }
        rearm(self);
      },
  };
}

} // namespace dm
