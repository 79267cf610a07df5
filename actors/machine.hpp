// The machine actor: exists while its machine is not denied and keeps the
// one timer that wakes its group at the machine's next deadline.
#pragma once

#include <chrono>
#include <string>

#include "actors/interfaces.hpp"

namespace dm {

struct machine_state {
  static inline const char* name = "machine";
  std::string host;
  group_actor group;
  std::chrono::nanoseconds wall_offset{0};
  std::uint64_t generation = 0; // only the latest armed timer counts
};

machine_actor::behavior_type
machine(machine_actor::stateful_pointer<machine_state> self, std::string host,
        group_actor group, std::chrono::nanoseconds wall_offset);

} // namespace dm
