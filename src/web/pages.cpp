// Status page, dashboard and state document.
#include "web/pages.hpp"

#include <nlohmann/json.hpp>

#include <ctime>

#include "disruption/group_rules.hpp"

namespace dm {

timestamp wall_clock_now() {
  return timestamp{std::chrono::duration_cast<std::chrono::nanoseconds>(
    std::chrono::system_clock::now().time_since_epoch())};
}

namespace {

std::string rfc3339(std::int64_t ns) {
  std::time_t secs = static_cast<std::time_t>(ns / 1000000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

struct totals {
  std::uint64_t permitted = 0;
  std::uint64_t requested = 0;
  std::uint64_t waiting = 0;
};

totals count(const state_view& view) {
  totals t;
  for (const auto& g : view.groups) {
    t.permitted += g.permitted;
    t.requested += g.queued;
    t.waiting += g.waiting;
  }
  return t;
}

const char* page_style = R"(<style>
body { font-family: sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; margin-bottom: 1.5em; }
table#machines { width: 100%; table-layout: fixed; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.5em; text-align: left;
         overflow-wrap: anywhere; }
th { background: #eee; position: sticky; top: 0; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
td.permitted { background: #dfd; color: #063; font-weight: bold; }
td.requested { background: #fec; color: #840; }
td.waiting { background: #def; color: #036; }
td.error { color: #a00; }
#refreshed { color: #666; font-size: 90%; }
#refreshed.failed { color: #a00; font-weight: bold; }
</style>
)";

} // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string short_duration(std::chrono::nanoseconds d) {
  bool negative = d.count() < 0;
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(negative ? -d : d)
                .count();
  std::string out = negative ? "-" : "";
  if (secs >= 3600)
    out += std::to_string(secs / 3600) + "h";
  if (secs >= 60)
    out += std::to_string(secs / 60 % 60) + "m";
  out += std::to_string(secs % 60) + "s";
  return out;
}

std::string render_status_page(const state_view& view, const web_context& ctx,
                               timestamp now) {
  auto t = count(view);
  std::string out = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
                    "<title>Disruption Manager status page</title>";
  out += page_style;
  out += "</head><body>\n<h1>Disruption Manager</h1>\n<p>";
  if (t.permitted + t.requested + t.waiting == 0) {
    out += "No disruptions permitted, requested or waiting";
  } else {
    out += std::to_string(t.permitted) + " disruptions permitted, "
           + std::to_string(t.requested) + " requested and "
           + std::to_string(t.waiting) + " waiting";
  }
  out += "</p>\n<ul>\n<li><a href=\"showState\">dashboard</a></li>\n"
         "<li><a href=\"metrics\">metrics</a></li>\n"
         "<li><a href=\"logs\">logs</a></li>\n"
         "<li><a href=\"api/v1/state\">state (JSON)</a></li>\n</ul>\n";
  out += "<p>Version " + html_escape(ctx.version) + ", started "
         + rfc3339(ctx.started.time_since_epoch().count()) + ", up "
         + short_duration(now - ctx.started) + ".</p>\n";
  out += "</body></html>\n";
  return out;
}

std::string render_dashboard(const state_view& view, timestamp now) {
  auto now_ns = now.time_since_epoch().count();
  std::string out =
    "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
    "<title>Disruption Manager disruptions page</title>";
  out += page_style;
  out += "</head><body>\n<h1>Disruption Manager: disruptions</h1>\n"
         "<p id=\"refreshed\">as of page load; refreshes every 5 s</p>\n"
         "<div id=\"live\">\n<h2>Groups</h2>\n<table id=\"groups\">"
         "<thead><tr><th>Group</th><th>Limit</th><th>In use</th>"
         "<th>Permitted</th><th>Waiting</th><th>Queued</th></tr></thead>"
         "<tbody>\n";
  for (const auto& g : view.groups) {
    out += "<tr><td>" + html_escape(g.identifier.empty() ? "(global group)"
                                                         : g.identifier)
           + "</td><td class=\"n\">" + std::to_string(g.limit)
           + "</td><td class=\"n\">" + std::to_string(g.permitted + g.waiting)
           + "</td><td class=\"n\">" + std::to_string(g.permitted)
           + "</td><td class=\"n\">" + std::to_string(g.waiting)
           + "</td><td class=\"n\">" + std::to_string(g.queued)
           + "</td></tr>\n";
  }
  out += "</tbody></table>\n<h2>Machines</h2>\n<table id=\"machines\">"
         "<thead><tr><th>Hostname</th><th>State</th><th>Group</th>"
         "<th>Request Age/Timeout</th><th>Ready Timeout</th>"
         "<th>Ready URL</th></tr></thead><tbody>\n";
  for (const auto& g : view.groups) {
    for (const auto& m : g.machines) {
      out += "<tr><td>" + html_escape(m.host) + "</td><td class=\""
             + m.state + "\">" + m.state;
      if (m.queue_position > 0)
        out += " (#" + std::to_string(m.queue_position) + ")";
      out += "</td><td>" + html_escape(g.identifier) + "</td><td>";
      if (m.state != "waiting")
        out += short_duration(std::chrono::nanoseconds(now_ns
                                                       - m.last_request_ns))
               + "/"
               + short_duration(std::chrono::nanoseconds(m.expires_ns
                                                         - now_ns));
      out += "</td><td>";
      if (m.state == "waiting")
        out += short_duration(std::chrono::nanoseconds(m.ready_deadline_ns
                                                       - now_ns));
      out += "</td><td>" + html_escape(m.ready_url) + "</td></tr>\n";
    }
    for (const auto& e : g.gate_errors)
      out += "<tr><td colspan=\"6\" class=\"error\">ready gate not applied: "
             + html_escape(e) + " (" + html_escape(group_text(g.identifier))
             + ")</td></tr>\n";
  }
  out += "</tbody></table>\n</div>\n";
  // Refresh the tables in place: no page flash. The next refresh is set
  // only when one has finished (a large page never piles them up), none
  // runs while the tab is hidden, and the line above the tables says when
  // the data is from or that refreshing fails.
  out += R"(<script>
(function () {
  var note = document.getElementById("refreshed");
  function schedule() { setTimeout(refresh, 5000); }
  function refresh() {
    if (document.hidden) { schedule(); return; }
    fetch(location.href, {cache: "no-store"}).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.text();
    }).then(function (text) {
      var doc = new DOMParser().parseFromString(text, "text/html");
      var fresh = doc.getElementById("live");
      if (fresh) document.getElementById("live").replaceWith(fresh);
      note.className = "";
      note.textContent = "as of " + new Date().toLocaleTimeString()
        + "; refreshes every 5 s";
    }).catch(function (e) {
      note.className = "failed";
      note.textContent = "refresh failed (" + e.message
        + "); the tables may be stale";
    }).then(schedule);
  }
  schedule();
})();
</script>
</body></html>
)";
  return out;
}

std::string render_state_json(const state_view& view) {
  nlohmann::json groups = nlohmann::json::array();
  for (const auto& g : view.groups) {
    nlohmann::json permitted = nlohmann::json::array();
    nlohmann::json requested = nlohmann::json::array();
    nlohmann::json waiting = nlohmann::json::array();
    for (const auto& m : g.machines) {
      if (m.state == "waiting") {
        waiting.push_back({{"Hostname", m.host},
                           {"ReadyTimeout", rfc3339(m.ready_deadline_ns)},
                           {"ReadyUrl", m.ready_url}});
      } else {
        nlohmann::json item = {{"Hostname", m.host},
                               {"LastRequest", rfc3339(m.last_request_ns)}};
        (m.state == "permitted" ? permitted : requested).push_back(item);
      }
    }
    groups.push_back({{"Identifier", g.identifier},
                      {"Limit", g.limit},
                      {"Permitted", permitted},
                      {"Requested", requested},
                      {"Waiting", waiting}});
  }
  return nlohmann::json{{"Groups", groups}}.dump(2) + "\n";
}

} // namespace dm
