// The timer actor: one deadline per live group, one delayed message (of the
// current generation) for the earliest, so that a retired group leaves
// nothing behind in CAF's clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <unordered_map>
#include <utility>

#include "actors/interfaces.hpp"
#include "disruption/group_book.hpp"

namespace dm {

struct timer_state {
  static inline const char* name = "timer";

  struct wake {
    group_actor group;
    timestamp at;
    std::uint64_t generation = 0;
  };

  std::chrono::nanoseconds wall_offset{0};
  std::unordered_map<caf::actor_id, wake> wakes;
  std::set<std::pair<timestamp, caf::actor_id>> order;
  std::optional<timestamp> timer_at;
  std::uint64_t timer_generation = 0;
};

timer_actor::behavior_type
timer(timer_actor::stateful_pointer<timer_state> self,
      std::chrono::nanoseconds wall_offset);

} // namespace dm
