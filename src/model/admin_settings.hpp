// What operators set by hand (docs/semantics.md, "Operator control"): a
// global freeze, per-group pauses and limit overrides, and the trail of the
// last admin actions. Durable state like the machines' (the stores carry
// it whole); the group logic applies it through group_controls.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "schedule/maintenance_windows.hpp"

namespace dm {

using admin_time = std::chrono::time_point<std::chrono::system_clock,
                                           std::chrono::nanoseconds>;

// What one group's book must obey beside its own rules.
struct group_controls {
  bool paused = false;
  bool frozen = false;
  std::optional<std::uint64_t> limit_override;
  // Maintenance windows (docs/semantics.md, "Maintenance windows"): the
  // operator's, which win over the records' tag; and whether the group is
  // outside the windows that apply to it now (the book keeps that up to
  // date, the operator's copy is always false).
  std::optional<window_schedule> windows;
  bool outside_window = false;
  // A firing alert (or Prometheus out of reach) holds the group back:
  // recomputed from Prometheus, never saved (docs/semantics.md, "Blocking
  // alerts").
  bool blocked_by_alert = false;

  // New permits may be given.
  bool granting() const {
    return !paused && !frozen && !outside_window && !blocked_by_alert;
  }
  bool any() const {
    return paused || frozen || limit_override.has_value() ||
           windows.has_value() || blocked_by_alert;
  }
  friend bool operator==(const group_controls& a, const group_controls& b) {
    return a.paused == b.paused && a.frozen == b.frozen &&
           a.limit_override == b.limit_override && a.windows == b.windows &&
           a.outside_window == b.outside_window &&
           a.blocked_by_alert == b.blocked_by_alert;
  }
  friend bool operator!=(const group_controls& a, const group_controls& b) {
    return !(a == b);
  }
};

// What an operator set for one group.
struct group_admin {
  bool paused = false;
  std::optional<std::uint64_t> limit_override;
  std::optional<window_schedule> windows;
  bool empty() const { return !paused && !limit_override && !windows; }
};

// One admin action as the trail keeps it.
struct audit_entry {
  admin_time when;
  std::string who;       // certificate user, or the peer's address
  std::string operation; // release, pause, resume, freeze, thaw, limit,
                         // window
  std::string target;    // host or group; empty for freeze and thaw
  std::string detail;    // the limit, the windows, or how a release
                         // treated the gate
  std::string reason;
};

// The trail keeps this many actions, the oldest dropped first.
inline constexpr std::size_t max_audit_entries = 100;

struct admin_settings {
  bool frozen = false;
  std::map<std::string, group_admin> groups; // only groups with a setting
  std::vector<audit_entry> audit;            // oldest first

  // What the group `identifier` must obey.
  group_controls controls_for(const std::string& identifier) const;
  // Appends `entry`, dropping the oldest beyond max_audit_entries.
  void record(audit_entry entry);
};

// The limit an override may set: 1 up to this (docs/protocol.md).
inline constexpr std::uint64_t max_limit_override = 1'000'000;

} // namespace dm
