// Machine actor: re-arms on every change; a stale timer is ignored by its
// generation, since CAF 0.17 cannot cancel a delayed message.
#include "actors/machine.hpp"

#include "actors/wall_clock.hpp"

namespace dm {

machine_actor::behavior_type
machine(machine_actor::stateful_pointer<machine_state> self, std::string host,
        group_actor group, std::chrono::nanoseconds wall_offset) {
  self->state.host = std::move(host);
  self->state.group = std::move(group);
  self->state.wall_offset = wall_offset;
  return {
    [self](arm_atom, std::int64_t deadline_ns) {
      auto generation = ++self->state.generation;
      auto now = wall_now(self, self->state.wall_offset);
      auto delay = std::chrono::nanoseconds(deadline_ns)
                   - now.time_since_epoch();
      if (delay.count() < 0)
        delay = std::chrono::nanoseconds(0);
      // One millisecond of slack so the group sees the deadline as passed.
      self->delayed_send(self, delay + std::chrono::milliseconds(1),
                         due_atom::value, generation);
    },
    [self](due_atom, std::uint64_t generation) {
      if (generation == self->state.generation)
        self->send(self->state.group, due_atom::value, self->state.host);
    },
  };
}

} // namespace dm
