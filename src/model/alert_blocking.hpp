// Which firing Prometheus alerts hold back which groups (docs/semantics.md,
// "Blocking alerts"): recomputed from every poll, never saved. The groups
// obey it through group_controls::blocked_by_alert.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace dm {

// A firing alert whose name matches -blockingAlertsMatch.
struct blocking_alert {
  std::string alert;                // its alertname
  std::optional<std::string> group; // its disruption_manager_group label;
                                    // none: every group
  friend bool operator==(const blocking_alert& a, const blocking_alert& b) {
    return a.alert == b.alert && a.group == b.group;
  }
  friend bool operator<(const blocking_alert& a, const blocking_alert& b);
};

struct alert_blocking {
  // The alerts API polled; empty: blocking alerts are off.
  std::string source;
  // The matching firing alerts, sorted, each (alert, group) once.
  std::vector<blocking_alert> alerts;
  // Why the last poll gave no usable answer (empty when it did, and before
  // the first poll when no -blockingAlertsUrl is set).
  std::string trouble;
  // The trouble blocks every group (-blockingAlertsUnavailable=block).
  bool trouble_blocks = false;

  // No new permit may be given in `group`.
  bool blocks(const std::string& group) const;
  // Anything is blocked at all.
  bool blocks_any() const { return trouble_blocks || !alerts.empty(); }
  friend bool operator==(const alert_blocking& a, const alert_blocking& b) {
    return a.source == b.source && a.alerts == b.alerts &&
           a.trouble == b.trouble && a.trouble_blocks == b.trouble_blocks;
  }
  friend bool operator!=(const alert_blocking& a, const alert_blocking& b) {
    return !(a == b);
  }
};

} // namespace dm
