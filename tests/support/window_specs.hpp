// Maintenance window specs around a given instant, for tests that need a
// window opening or closing at a known time (docs/semantics.md,
// "Maintenance windows").
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

namespace dm::test {

// "Thu 02:00-03:00 UTC": the UTC day and minute of `start` (rounded down to
// the minute) for `length` (whole minutes, less than a day).
inline std::string utc_window_at(
    std::chrono::time_point<std::chrono::system_clock, std::chrono::nanoseconds>
        start,
    std::chrono::minutes length) {
  static const char* const names[] = {"Sun", "Mon", "Tue", "Wed",
                                      "Thu", "Fri", "Sat"};
  auto minutes = std::chrono::floor<std::chrono::minutes>(start)
                     .time_since_epoch()
                     .count();
  auto days = minutes / (24 * 60);
  auto from = minutes % (24 * 60);
  auto to = (from + length.count()) % (24 * 60);
  char text[64];
  std::snprintf(text, sizeof(text), "%s %02d:%02d-%02d:%02d UTC",
                names[(days + 4) % 7], static_cast<int>(from / 60),
                static_cast<int>(from % 60), static_cast<int>(to / 60),
                static_cast<int>(to % 60));
  return text;
}

} // namespace dm::test
