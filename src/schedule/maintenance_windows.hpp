// Maintenance windows (docs/semantics.md, "Maintenance windows"): the
// weekly local-time spans in which a group may grant, read from a spec such
// as `Mon-Fri 01:00-05:00 Europe/Berlin; Sat,Sun 22:00-06:00 UTC`, with the
// time-zone rules of the system's tz database. Plain code, no clock: every
// question takes the instant it is about.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace date {
class time_zone;
} // namespace date

namespace dm {

using window_time = std::chrono::time_point<std::chrono::system_clock,
                                            std::chrono::nanoseconds>;

// One window: on each of its days, from `start` to `end` on the zone's wall
// clock (minutes after midnight; an end at or before the start is on the
// next day, so the day named is the day the span starts).
struct maintenance_window {
  std::uint8_t days = 0; // bit d: a span starts on weekday d (0 is Sunday)
  int start_minute = 0;  // 0 to 1439
  int end_minute = 0;    // 1 to 1440
  // Into the tz database, which is never changed or freed once read: a
  // schedule is plain data that may be copied into messages.
  const date::time_zone* zone = nullptr;
};

// The longest spec accepted, and the most windows in one.
inline constexpr std::size_t max_window_spec_bytes = 4096;
inline constexpr std::size_t max_windows_per_spec = 32;

class window_schedule {
public:
  // Reads `spec`; nothing, with `error` naming what is wrong, when it is
  // not a valid spec (an empty spec is refused too: no windows is said by
  // not setting any).
  static std::optional<window_schedule> parse(std::string_view spec,
                                              std::string& error);

  // Whether a span of some window covers `t`. A span opens the first time
  // its zone's wall clock reads its start and closes the last time it
  // reads its end; a time the clock skips (the change to summer time)
  // counts as the instant of the jump. So a span inside the skipped hour
  // does not open that day, and one ending inside the hour read twice in
  // autumn ends at the second reading.
  bool open_at(window_time t) const;
  // The first instant after `t` at which open_at differs from open_at(t);
  // nothing when it does not change within the next nine days (a schedule
  // open all week).
  std::optional<window_time> next_change(window_time t) const;
  // `t` when open, else when it next opens (nothing: not within nine days).
  std::optional<window_time> next_open(window_time t) const;
  // `t` when closed, else when it next closes (nothing: open all week).
  std::optional<window_time> next_close(window_time t) const;

  // The spec as given, without surrounding white space.
  const std::string& spec() const { return spec_; }
  const std::vector<maintenance_window>& windows() const { return windows_; }

  friend bool operator==(const window_schedule& a, const window_schedule& b) {
    return a.spec_ == b.spec_;
  }
  friend bool operator!=(const window_schedule& a, const window_schedule& b) {
    return !(a == b);
  }

private:
  std::string spec_;
  std::vector<maintenance_window> windows_;
};

// Loads the tz database now (it is otherwise read at the first spec):
// empty when it can be read, else why not.
std::string load_time_zones();

} // namespace dm
