// Wall-clock time as actors see it: the actor clock (virtual under the
// testing scheduler) shifted by an offset fixed when the system starts.
#pragma once

#include <caf/local_actor.hpp>

#include <chrono>

#include "disruption/group_book.hpp"

namespace dm {

inline timestamp wall_now(caf::local_actor* self,
                          std::chrono::nanoseconds offset) {
  auto since = std::chrono::duration_cast<std::chrono::nanoseconds>(
      self->clock().now().time_since_epoch());
  return timestamp{since + offset};
}

// The offset that makes wall_now() read the system clock in production.
inline std::chrono::nanoseconds system_wall_offset() {
  using namespace std::chrono;
  auto wall =
      duration_cast<nanoseconds>(system_clock::now().time_since_epoch());
  auto steady =
      duration_cast<nanoseconds>(steady_clock::now().time_since_epoch());
  return wall - steady;
}

} // namespace dm
