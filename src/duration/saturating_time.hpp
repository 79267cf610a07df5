// Time arithmetic that does not wrap: a sum past the last instant a 64-bit
// nanosecond count can hold stays at that instant (2262-04-11T23:47:16Z), as
// Go's time arithmetic never wraps either (docs/semantics.md, "Edges").
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>

namespace dm {

// a + b, held at the largest or smallest count instead of wrapping.
inline std::chrono::nanoseconds saturating_sum(std::chrono::nanoseconds a,
                                               std::chrono::nanoseconds b) {
  std::int64_t sum = 0;
  if (__builtin_add_overflow(a.count(), b.count(), &sum))
    sum = b.count() > 0 ? std::numeric_limits<std::int64_t>::max()
                        : std::numeric_limits<std::int64_t>::min();
  return std::chrono::nanoseconds(sum);
}

// a - b, likewise.
inline std::chrono::nanoseconds
saturating_difference(std::chrono::nanoseconds a, std::chrono::nanoseconds b) {
  std::int64_t difference = 0;
  if (__builtin_sub_overflow(a.count(), b.count(), &difference))
    difference = b.count() < 0 ? std::numeric_limits<std::int64_t>::max()
                               : std::numeric_limits<std::int64_t>::min();
  return std::chrono::nanoseconds(difference);
}

// The instant `d` after `t` (before it when `d` is negative).
template <class Clock>
std::chrono::time_point<Clock, std::chrono::nanoseconds>
saturating_add(std::chrono::time_point<Clock, std::chrono::nanoseconds> t,
               std::chrono::nanoseconds d) {
  return std::chrono::time_point<Clock, std::chrono::nanoseconds>(
      saturating_sum(t.time_since_epoch(), d));
}

// How long from `from` until `to` (negative when `to` is earlier).
template <class Clock>
std::chrono::nanoseconds
saturating_until(std::chrono::time_point<Clock, std::chrono::nanoseconds> from,
                 std::chrono::time_point<Clock, std::chrono::nanoseconds> to) {
  return saturating_difference(to.time_since_epoch(), from.time_since_epoch());
}

} // namespace dm
