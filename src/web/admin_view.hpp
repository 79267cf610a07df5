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

// The dashboard's section on operator control (HTML).
void append_admin_section(std::string& out, const admin_settings& admin);

} // namespace dm
