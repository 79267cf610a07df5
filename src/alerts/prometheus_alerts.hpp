// Prometheus's alerts API read into what blocks which group
// (docs/semantics.md, "Blocking alerts"): the answer of GET /api/v1/alerts
// parsed, its firing alerts matched by name, the result compared with the
// last for the log. Plain code, no I/O: the alert poller fetches.
#pragma once

#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "model/alert_blocking.hpp"

namespace dm {

// The label that confines an alert's blocking to one group.
inline constexpr std::string_view alert_group_label =
    "disruption_manager_group";

// An alert Prometheus reports as firing (not pending).
struct firing_alert {
  std::string name;                 // the alertname label
  std::optional<std::string> group; // the disruption_manager_group label
};

// The firing alerts of an answer of /api/v1/alerts; nullopt with `error`
// when the body is not such an answer (not JSON, status not "success", no
// data.alerts list, an alert without a string alertname or state).
std::optional<std::vector<firing_alert>>
parse_alerts_answer(std::string_view body, std::string& error);

// -blockingAlertsMatch: a regular expression (ECMAScript syntax) that must
// match the whole alert name.
class alert_name_match {
public:
  // Nullopt with `error` when the pattern does not compile.
  static std::optional<alert_name_match> compile(const std::string& pattern,
                                                 std::string& error);
  bool matches(const std::string& name) const;
  const std::string& pattern() const { return pattern_; }

private:
  alert_name_match(std::string pattern, std::regex regex)
      : pattern_(std::move(pattern)), regex_(std::move(regex)) {}
  std::string pattern_;
  std::regex regex_;
};

// The blocking the firing alerts make: each match once per group label.
alert_blocking blocking_from(const std::vector<firing_alert>& firing,
                             const alert_name_match& match);

// What one answer of Prometheus (its HTTP status and body) makes: the
// blocking of its firing alerts, or, for a status other than 200 or a body
// that is no alerts answer, trouble that blocks every group when
// `block_when_unavailable`.
alert_blocking blocking_from_answer(int status, std::string_view body,
                                    const alert_name_match& match,
                                    bool block_when_unavailable);

// No usable answer (`why`): every group blocked, or nothing.
alert_blocking blocking_unavailable(std::string why,
                                    bool block_when_unavailable);

// The alerts API under a Prometheus base URL ("http://prom:9090/" ->
// "http://prom:9090/api/v1/alerts").
std::string alerts_api_url(std::string base);

// One log line per change from `before` to `after`: an alert that began or
// stopped blocking (and where), Prometheus lost or back.
std::vector<std::string> blocking_changes(const alert_blocking& before,
                                          const alert_blocking& after);

} // namespace dm
