// What the admin API's status, the state document and the dashboard show
// of operator control (docs/protocol.md, "Admin API").
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "model/state_view.hpp"
#include "web/web_context.hpp"

namespace dm {

// Whether operators set anything or acted at all (else nothing is shown).
bool admin_shown(const admin_settings& admin);

// The settings and the audit trail as the state document's "Admin" member.
nlohmann::json admin_settings_json(const admin_settings& admin);

// The status operation's answer: every group with its limit and where it
// comes from, holders, the queue in order with waiting times, waits,
// pauses, the freeze and the audit trail.
std::string render_admin_status(const state_view& view, timestamp now);

// A group's maintenance windows (docs/semantics.md, "Maintenance
// windows"): {"Spec", "From": "operator" or "tag", "Open", "NextChange"
// (when Open next changes, absent when not within days)}; null when the
// group has none.
nlohmann::json windows_json(const group_view& g);
// The same as the dashboard's text: "open until T", "closed, opens T".
std::string windows_text(const group_view& g);

// The dashboard's section on operator control (HTML).
void append_admin_section(std::string& out, const admin_settings& admin);

// Whether blocking alerts are on (else nothing of them is shown).
bool alerts_shown(const alert_blocking& alerts);

// What firing alerts block, as the state document's and the status's
// "Alerts" member (docs/semantics.md, "Blocking alerts").
nlohmann::json alert_blocking_json(const alert_blocking& alerts);

// The dashboard's section on blocking alerts (HTML).
void append_alerts_section(std::string& out, const alert_blocking& alerts);

} // namespace dm
