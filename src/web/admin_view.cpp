// Operator control as JSON and HTML.
#include "web/admin_view.hpp"

#include "text/html_escape.hpp"
#include "web/pages.hpp"

namespace dm {

namespace {

using json = nlohmann::json;

std::string dump(const json& value) {
  // Names come from clients: invalid UTF-8 (refused at the door) would
  // become U+FFFD here rather than throw on an I/O thread.
  return value.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

json audit_json(const admin_settings& admin) {
  json audit = json::array();
  for (const auto& e : admin.audit)
    audit.push_back({{"Time", rfc3339(e.when.time_since_epoch().count())},
                     {"Who", e.who},
                     {"Operation", e.operation},
                     {"Target", e.target},
                     {"Detail", e.detail},
                     {"Reason", e.reason}});
  return audit;
}

json group_settings_json(const admin_settings& admin) {
  json groups = json::array();
  for (const auto& [identifier, setting] : admin.groups) {
    json g = {{"Group", identifier}, {"Paused", setting.paused}};
    if (setting.limit_override)
      g["LimitOverride"] = *setting.limit_override;
    if (setting.windows)
      g["Window"] = setting.windows->spec();
    groups.push_back(std::move(g));
  }
  return groups;
}

} // namespace

json windows_json(const group_view& g) {
  if (g.windows.empty())
    return nullptr;
  json out = {{"Spec", g.windows},
              {"From", g.windows_from_operator ? "operator" : "tag"},
              {"Open", !g.controls.outside_window}};
  if (g.window_change_ns != 0)
    out["NextChange"] = rfc3339(g.window_change_ns);
  return out;
}

std::string windows_text(const group_view& g) {
  if (g.windows.empty())
    return {};
  std::string text = g.controls.outside_window ? "closed" : "open";
  if (g.window_change_ns != 0) {
    text += g.controls.outside_window ? ", opens " : " until ";
    text += rfc3339(g.window_change_ns);
  }
  return text;
}

bool admin_shown(const admin_settings& admin) {
  return admin.frozen || !admin.groups.empty() || !admin.audit.empty();
}

json admin_settings_json(const admin_settings& admin) {
  return {{"Frozen", admin.frozen},
          {"GroupSettings", group_settings_json(admin)},
          {"Audit", audit_json(admin)}};
}

std::string render_admin_status(const state_view& view, timestamp now) {
  auto now_ns = now.time_since_epoch().count();
  json groups = json::array();
  for (const auto& g : view.groups) {
    json permitted = json::array();
    json queue = json::array();
    json waiting = json::array();
    for (const auto& m : g.machines) {
      if (m.state == "permitted")
        permitted.push_back({{"Hostname", m.host},
                             {"LastRequest", rfc3339(m.last_request_ns)},
                             {"Expires", rfc3339(m.expires_ns)}});
      else if (m.state == "requested")
        queue.push_back({{"Hostname", m.host},
                         {"Position", m.queue_position},
                         {"LastRequest", rfc3339(m.last_request_ns)},
                         {"Waited", short_duration(std::chrono::nanoseconds(
                                        now_ns - m.last_request_ns))}});
      else
        waiting.push_back({{"Hostname", m.host},
                           {"ReadyTimeout", rfc3339(m.ready_deadline_ns)},
                           {"ReadyUrl", m.ready_url}});
    }
    groups.push_back(
        {{"Identifier", g.identifier},
         {"Limit", g.limit},
         {"LimitFrom", g.controls.limit_override ? "override" : "tag"},
         {"TagLimit", g.tag_limit},
         {"Paused", g.controls.paused},
         {"BlockedByAlert", g.controls.blocked_by_alert},
         {"Granting", g.controls.granting()},
         {"Permitted", std::move(permitted)},
         {"Queue", std::move(queue)},
         {"Waiting", std::move(waiting)}});
    if (!g.windows.empty())
      groups.back()["Windows"] = windows_json(g);
  }
  json doc = {{"Frozen", view.admin.frozen},
              {"Groups", std::move(groups)},
              {"GroupSettings", group_settings_json(view.admin)},
              {"Audit", audit_json(view.admin)}};
  if (alerts_shown(view.alerts))
    doc["Alerts"] = alert_blocking_json(view.alerts);
  return dump(doc);
}

bool alerts_shown(const alert_blocking& alerts) {
  return !alerts.source.empty();
}

json alert_blocking_json(const alert_blocking& alerts) {
  json blocking = json::array();
  for (const auto& a : alerts.alerts) {
    json entry = {{"Alert", a.alert}, {"EveryGroup", !a.group}};
    if (a.group)
      entry["Group"] = *a.group;
    blocking.push_back(std::move(entry));
  }
  bool every = alerts.trouble_blocks;
  for (const auto& a : alerts.alerts)
    every = every || !a.group;
  return {{"Source", alerts.source},
          {"Unavailable", alerts.trouble},
          {"UnavailableBlocks", alerts.trouble_blocks},
          {"BlocksEveryGroup", every},
          {"Blocking", std::move(blocking)}};
}

void append_alerts_section(std::string& out, const alert_blocking& alerts) {
  out += "<h2>Blocking alerts</h2>\n<p id=\"alerts-source\">From ";
  append_html_escaped(out, alerts.source);
  out += "</p>\n";
  if (!alerts.trouble.empty()) {
    out += "<p id=\"alerts-trouble\"><b>Prometheus gives no usable answer</b>"
           " (";
    append_html_escaped(out, alerts.trouble);
    out += alerts.trouble_blocks ? "): no group grants new permits.</p>\n"
                                 : "): ignored.</p>\n";
  }
  out += "<table id=\"blocking-alerts\"><thead><tr><th>Alert<th>Blocks"
         "</tr></thead><tbody>\n";
  for (const auto& a : alerts.alerts) {
    out += "<tr><td>";
    append_html_escaped(out, a.alert);
    out += "<td>";
    if (!a.group)
      out += "every group";
    else
      append_html_escaped(out, a.group->empty() ? "(global group)"
                                                : std::string_view(*a.group));
    out += "</tr>\n";
  }
  out += "</tbody></table>\n";
}

void append_admin_section(std::string& out, const admin_settings& admin) {
  out += "<h2>Operator control</h2>\n<p id=\"freeze\">";
  out += admin.frozen ? "<b>Frozen</b>: no group grants new permits."
                      : "Not frozen.";
  out += "</p>\n<table id=\"group-settings\"><thead><tr><th>Group<th>Paused"
         "<th>Limit override<th>Maintenance windows</tr></thead><tbody>\n";
  for (const auto& [identifier, setting] : admin.groups) {
    out += "<tr><td>";
    append_html_escaped(out, identifier.empty() ? "(global group)"
                                                : std::string_view(identifier));
    out += setting.paused ? "<td>paused" : "<td>no";
    out += "<td>";
    if (setting.limit_override)
      out += std::to_string(*setting.limit_override);
    if (setting.windows) { // (only then: rows stay as they were)
      out += "<td>";
      append_html_escaped(out, setting.windows->spec());
    }
    out += "</tr>\n";
  }
  out += "</tbody></table>\n<h2>Admin actions</h2>\n<table id=\"audit\">"
         "<thead><tr><th>Time<th>Who<th>Operation<th>Target<th>Detail"
         "<th>Reason</tr></thead><tbody>\n";
  for (auto it = admin.audit.rbegin(); it != admin.audit.rend(); ++it) {
    out += "<tr><td>";
    out += rfc3339(it->when.time_since_epoch().count());
    for (const auto* text :
         {&it->who, &it->operation, &it->target, &it->detail, &it->reason}) {
      out += "<td>";
      append_html_escaped(out, *text);
    }
    out += "</tr>\n";
  }
  out += "</tbody></table>\n";
}

} // namespace dm
