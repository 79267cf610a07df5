// Status page, dashboard and state document.
#include "web/pages.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <ctime>
#include <optional>

#include "codec/http_request.hpp"
#include "disruption/group_rules.hpp"
#include "text/html_escape.hpp"
#include "web/admin_view.hpp"

namespace dm {

timestamp wall_clock_now() {
  return timestamp{std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::system_clock::now().time_since_epoch())};
}

std::string rfc3339(std::int64_t ns) {
  std::time_t secs = static_cast<std::time_t>(ns / 1000000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

namespace {

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

// Both tables lay out each row on its own (a grid per row) instead of by the
// table algorithm, which lets the browser skip rows out of view
// (content-visibility): at 10,000 rows the table algorithm took most of
// the time a browser needed to show the page.
const char* page_style = R"(<style>
body { font-family: sans-serif; margin: 1.5em; color: #222; }
table, thead, tbody { display: block; margin-bottom: 1.5em; }
thead { position: sticky; top: 0; background: #eee; margin: 0; }
tbody { margin: 0; }
tr { display: grid; border-bottom: 1px solid #ccc; }
tbody tr { content-visibility: auto; contain-intrinsic-size: auto 1.7em; }
th, td { padding: 0.25em 0.5em; text-align: left; overflow-wrap: anywhere; }
#groups tr { grid-template-columns: 3fr repeat(5, 1fr) 3fr; }
#groups td + td, #groups th + th { text-align: right;
                                   font-variant-numeric: tabular-nums; }
#machines tr { grid-template-columns: 3fr 2fr 2fr 2fr 1.5fr 4fr; }
tr.p > td:nth-child(2) { background: #dfd; color: #063; font-weight: bold; }
tr.r > td:nth-child(2) { background: #fec; color: #840; }
tr.w > td:nth-child(2) { background: #def; color: #036; }
tr.e > td { grid-column: 1 / -1; color: #a00; }
#refreshed { color: #666; font-size: 90%; }
#refreshed.failed { color: #a00; font-weight: bold; }
</style>
)";

// Refreshes the tables in place: no page flash. The next refresh is set
// only when one has finished (a large page never piles them up), none runs
// while the tab is hidden, and the line above the tables says when the
// data is from or that refreshing fails.
const char* refresh_script = R"(<script>
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

// Which replica this is, its role and since when, the leader and since
// when it is known, and the leader changes seen (status page, dashboard).
void append_replica_line(std::string& out, const replica_role& role) {
  out += "<p id=\"replica\">Replica " + html_escape(role.self) + ": " +
         (role.leader ? std::string("<b>leader</b>") : "follower") + " since " +
         rfc3339(role.since_unix_ns) + "; leader ";
  if (role.leader_address.empty())
    out += "none (electing)";
  else
    out += "<b>" + html_escape(role.leader_address) + "</b> since " +
           rfc3339(role.leader_since_unix_ns);
  out += "; " + std::to_string(role.leader_changes) +
         " leader changes seen.</p>\n";
}

std::string since(std::int64_t from_ns, std::int64_t to_ns) {
  return short_duration(std::chrono::nanoseconds(to_ns - from_ns));
}

const char* state_names[] = {"all", "permitted", "requested", "waiting"};

const char* state_name(view_state state) {
  return state_names[static_cast<int>(state)];
}

// A query value in a link: everything but unreserved characters escaped.
void append_query_escaped(std::string& out, std::string_view text) {
  static const char* hex = "0123456789ABCDEF";
  for (unsigned char c : text) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
        c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
}

// The href of a dashboard page (relative: the query alone).
std::string dashboard_link(const dashboard_query& q) {
  std::string out = "?";
  if (q.group) {
    out += "group=";
    append_query_escaped(out, *q.group);
  }
  if (q.state) {
    out += out.size() > 1 ? "&amp;state=" : "state=";
    out += state_name(*q.state);
  }
  if (q.page > 1) {
    out += out.size() > 1 ? "&amp;page=" : "page=";
    out += std::to_string(q.page);
  }
  return out.size() > 1 ? out : "showState";
}

void append_link(std::string& out, const dashboard_query& q,
                 std::string_view text) {
  out += "<a href=\"";
  out += dashboard_link(q);
  out += "\">";
  append_html_escaped(out, text);
  out += "</a>";
}

std::string_view group_name(const std::string& identifier) {
  return identifier.empty() ? std::string_view("(global group)")
                            : std::string_view(identifier);
}

// At 10,000 machines every byte and element of a row counts 10,000 times:
// rows carry one short class for their state, cells leave out their end
// tags (HTML allows it), and machines that are not waiting have no ready
// cells. Rows keep theirs, so that the line break after each row is no
// cell's text.
//
// The overview (no group or state asked for) shows a page of the groups'
// summary, then every machine when they all fit on a page, else links to
// the listings. A listing shows the asked group's summary row and a page of
// the machines in the asked state, counted in group order as the gatherer
// chose the groups to list (gather_scope).
class dashboard final : public page_writer {
public:
  dashboard(std::shared_ptr<const state_view> view, timestamp now,
            dashboard_query query, std::optional<replica_role> role)
      : view_(std::move(view)), now_ns_(now.time_since_epoch().count()),
        query_(std::move(query)),
        state_(query_.state.value_or(view_state::any)), role_(std::move(role)) {
    for (const auto& g : view_->groups) {
      total_ += machines_in(g, view_state::any);
      in_state_ += machines_in(g, state_);
    }
    first_ = (query_.page - 1) * dashboard_rows_per_page;
    if (query_.machines()) {
      group_ = view_->groups.size(); // no summary rows but the group's
      list_ = true;
    } else {
      group_ = std::min<std::uint64_t>(first_, view_->groups.size());
      group_end_ = std::min<std::uint64_t>(first_ + dashboard_rows_per_page,
                                           view_->groups.size());
      list_ = total_ <= dashboard_rows_per_page;
      first_ = 0; // the overview lists all machines or none
    }
  }

  bool next(std::string& out, std::size_t piece_bytes) override {
    auto start = out.size();
    while (out.size() - start < piece_bytes) {
      switch (part_) {
      case part::head:
        write_head(out);
        part_ = part::group_rows;
        break;
      case part::group_rows:
        if (group_ < group_end_) {
          write_group_row(out, view_->groups[group_++]);
          break;
        }
        if (query_.group)
          for (const auto& g : view_->groups)
            if (g.identifier == *query_.group)
              write_group_row(out, g);
        out += "</tbody></table>\n";
        write_machines_head(out);
        group_ = 0;
        part_ = list_ ? part::machine_rows : part::end;
        break;
      case part::machine_rows:
        if (group_ == view_->groups.size() ||
            shown_ == dashboard_rows_per_page) {
          out += "</tbody></table>\n";
          if (query_.machines() && shown_ == 0 && in_state_ > 0)
            out += "<p>No machines on this page: it is past the last.</p>\n";
          part_ = part::end;
          break;
        }
        write_machine_rows(out, view_->groups[group_]);
        break;
      case part::end:
        if (alerts_shown(view_->alerts))
          append_alerts_section(out, view_->alerts);
        if (admin_shown(view_->admin))
          append_admin_section(out, view_->admin);
        out += "</div>\n";
        out += refresh_script;
        part_ = part::done;
        return false;
      case part::done:
        return false;
      }
    }
    return part_ != part::done;
  }

private:
  enum class part { head, group_rows, machine_rows, end, done };

  // Links to the previous and next page, when there are more.
  void write_pages(std::string& out, std::uint64_t rows) {
    auto pages = (rows + dashboard_rows_per_page - 1) / dashboard_rows_per_page;
    if (pages <= 1)
      return;
    out += "<p class=pages>page " + std::to_string(query_.page) + " of " +
           std::to_string(pages);
    auto other = query_;
    if (query_.page > 1) {
      other.page = std::min(query_.page - 1, pages);
      out += ": ";
      append_link(out, other, "previous");
    }
    if (query_.page < pages) {
      other.page = query_.page + 1;
      out += query_.page > 1 ? " | " : ": ";
      append_link(out, other, "next");
    }
    out += "</p>\n";
  }

  void write_head(std::string& out) {
    out += "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
           "<title>Disruption Manager disruptions page</title>";
    out += page_style;
    out += "</head><body>\n<h1>Disruption Manager: disruptions</h1>\n"
           "<p id=\"refreshed\">as of page load; refreshes every 5 s</p>\n"
           "<div id=\"live\">\n";
    // Inside the part that refreshes: a new leader shows without a reload.
    if (role_ && role_->replicated)
      append_replica_line(out, *role_);
    out += "<h2>Groups</h2>\n<p>";
    out += std::to_string(view_->groups.size()) + " groups with " +
           std::to_string(total_) + " machines";
    if (query_.machines())
      out += " (" + std::string("<a href=\"showState\">all groups</a>)");
    out += "</p>\n";
    if (!query_.machines())
      write_pages(out, view_->groups.size());
    out += "<table id=\"groups\">"
           "<thead><tr><th>Group<th>Limit<th>In use<th>Permitted"
           "<th>Waiting<th>Queued<th>Maintenance window</tr></thead><tbody>\n";
  }

  void write_machines_head(std::string& out) {
    out += "<h2>Machines</h2>\n";
    if (query_.machines() || !list_) {
      // The listings of this group (or of all), one per state.
      out += "<p>";
      if (query_.machines()) {
        out += std::to_string(in_state_);
        out += query_.state ? std::string(" ") + state_name(state_) : "";
        out += " machines";
        if (query_.group) {
          out += " in ";
          append_html_escaped(out, group_name(*query_.group));
        }
        out += "; list ";
      } else {
        out += "Too many to list on one page; list ";
      }
      dashboard_query other;
      other.group = query_.group;
      for (auto s : {view_state::any, view_state::permitted,
                     view_state::requested, view_state::waiting}) {
        other.state = s;
        if (s != view_state::any)
          out += ", ";
        append_link(out, other, state_name(s));
      }
      out += "</p>\n";
      if (query_.machines())
        write_pages(out, in_state_);
    }
    if (!list_)
      return;
    out += "<table id=\"machines\">"
           "<thead><tr><th>Hostname<th>State<th>Group"
           "<th>Request Age/Timeout<th>Ready Timeout<th>Ready URL"
           "</tr></thead><tbody>\n";
  }

  static void write_group_row(std::string& out, const group_view& g) {
    out += "<tr><td><a href=\"?group=";
    append_query_escaped(out, g.identifier);
    out += "\">";
    append_html_escaped(out, group_name(g.identifier));
    out += "</a>";
    if (g.controls.paused)
      out += " (paused)";
    // An operator's override is marked as one, beside the tag's limit.
    if (g.controls.limit_override) {
      out += "<td title=\"an operator's override; the records' tag says ";
      out += std::to_string(g.tag_limit);
      out += "\">";
      out += std::to_string(g.limit);
      out += " (override)";
    } else {
      out += "<td>";
      out += std::to_string(g.limit);
    }
    for (auto n : {g.permitted + g.waiting, g.permitted, g.waiting, g.queued}) {
      out += "<td>";
      out += std::to_string(n);
    }
    // (Only groups with windows have the cell: rows stay short.)
    if (!g.windows.empty()) {
      out += "<td title=\"";
      append_html_escaped(out, g.windows);
      out += "\">";
      out += windows_text(g);
    }
    out += "</tr>\n";
  }

  bool wanted(const machine_view& m) const {
    return state_ == view_state::any || m.state == state_name(state_);
  }

  // The group's next machine on this page, or its gate errors after the
  // last; groups not listed are counted and passed over.
  void write_machine_rows(std::string& out, const group_view& g) {
    if (!g.listed) {
      before_ += machines_in(g, state_);
      ++group_;
      return;
    }
    while (machine_ < g.machines.size()) {
      const auto& m = g.machines[machine_++];
      if (!wanted(m))
        continue;
      if (before_++ < first_)
        continue;
      write_machine_row(out, g, m);
      ++shown_;
      return;
    }
    if (state_ == view_state::any)
      for (const auto& e : g.gate_errors) {
        out += "<tr class=e><td colspan=6>ready gate not applied: ";
        append_html_escaped(out, e);
        out += " (";
        append_html_escaped(out, group_text(g.identifier));
        out += ")</tr>\n";
      }
    machine_ = 0;
    ++group_;
  }

  void write_machine_row(std::string& out, const group_view& g,
                         const machine_view& m) {
    bool waiting = m.state == "waiting";
    out += "<tr class=";
    out += waiting ? 'w' : m.state == "permitted" ? 'p' : 'r';
    out += "><td>";
    append_html_escaped(out, m.host);
    out += "<td>";
    out += m.state;
    if (m.queue_position > 0) {
      out += " (#";
      out += std::to_string(m.queue_position);
      out += ')';
    }
    out += "<td>";
    append_html_escaped(out, g.identifier);
    out += "<td>";
    if (waiting) {
      out += "<td>";
      out += since(now_ns_, m.ready_deadline_ns);
      out += "<td>";
      append_html_escaped(out, m.ready_url);
    } else {
      out += since(m.last_request_ns, now_ns_);
      out += '/';
      out += since(now_ns_, m.expires_ns);
    }
    out += "</tr>\n";
  }

  std::shared_ptr<const state_view> view_; // shared by all who asked
  std::int64_t now_ns_;
  dashboard_query query_;
  view_state state_;
  std::uint64_t total_ = 0;    // machines in the view
  std::uint64_t in_state_ = 0; // of them in state_
  std::uint64_t first_ = 0;    // the page's first machine in state_
  std::uint64_t before_ = 0;   // machines in state_ passed so far
  std::uint64_t shown_ = 0;    // machine rows written
  bool list_ = false;          // machines are listed on this page
  std::optional<replica_role> role_;
  part part_ = part::head;
  std::size_t group_ = 0;
  std::size_t group_end_ = 0; // summary rows: [group_, group_end_)
  std::size_t machine_ = 0;
};

// Calls with text that is not UTF-8 are refused, but a throw here would end
// the I/O thread, so any such byte becomes U+FFFD instead.
std::string json_string(const std::string& text) {
  return nlohmann::json(text).dump(-1, ' ', false,
                                   nlohmann::json::error_handler_t::replace);
}

// The same text nlohmann's dump(2) makes of the whole document, written a
// machine at a time.
class state_document final : public page_writer {
public:
  state_document(std::shared_ptr<const state_view> view,
                 std::optional<replica_role> role)
      : view_(std::move(view)), role_(std::move(role)) {
    // nop
  }

  bool next(std::string& out, std::size_t piece_bytes) override {
    auto start = out.size();
    while (out.size() - start < piece_bytes && !done_)
      step(out);
    return !done_;
  }

private:
  // Sections of a group, in the (sorted) member order of the document.
  enum section { permitted, requested, waiting, sections };

  // The replica's role after the groups, when there are replicas.
  void finish(std::string& out) {
    if (role_ && role_->replicated) {
      const auto& r = *role_;
      out += ",\n  \"Replica\": {\n    \"Role\": ";
      out += r.leader ? "\"leader\"" : "\"follower\"";
      out += ",\n    \"Self\": " + json_string(r.self);
      out += ",\n    \"Leader\": " + json_string(r.leader_address);
      out += ",\n    \"Since\": " + json_string(rfc3339(r.since_unix_ns));
      out += ",\n    \"LeaderSince\": " +
             json_string(r.leader_since_unix_ns == 0
                             ? std::string()
                             : rfc3339(r.leader_since_unix_ns));
      out += ",\n    \"LeaderChanges\": " + std::to_string(r.leader_changes);
      out += "\n  }";
    }
    out += "\n}\n";
    done_ = true;
  }

  bool belongs(const machine_view& m) const {
    switch (section_) {
    case permitted:
      return m.state == "permitted";
    case requested:
      return m.state == "requested";
    default:
      return m.state == "waiting";
    }
  }

  void step(std::string& out) {
    if (!started_) {
      started_ = true;
      out += "{\n";
      write_admin(out);
      if (alerts_shown(view_->alerts))
        write_member(out, "Alerts", alert_blocking_json(view_->alerts));
      out += "  \"Groups\": [";
      if (view_->groups.empty()) {
        out += "]";
        finish(out);
      }
      return;
    }
    if (group_ == view_->groups.size()) {
      out += "\n  ]";
      finish(out);
      return;
    }
    const auto& g = view_->groups[group_];
    if (section_ == sections) {
      out += group_ > 0 ? ",\n" : "\n";
      out += "    {\n      \"Identifier\": ";
      out += json_string(g.identifier);
      out += ",\n      \"Limit\": ";
      out += std::to_string(g.limit);
      open_section(out, permitted);
      return;
    }
    while (machine_ < g.machines.size() && !belongs(g.machines[machine_]))
      ++machine_;
    if (machine_ < g.machines.size()) {
      write_item(out, g.machines[machine_++]);
      return;
    }
    out += items_ > 0 ? "\n      ]" : "]";
    if (section_ + 1 < sections) {
      open_section(out, static_cast<section>(section_ + 1));
      return;
    }
    if (!g.windows.empty()) {
      // (Sorted after "Waiting", as nlohmann orders members.)
      out += ",\n      \"Windows\": ";
      auto text = windows_json(g).dump(
          2, ' ', false, nlohmann::json::error_handler_t::replace);
      for (char c : text) {
        out += c;
        if (c == '\n')
          out += "      ";
      }
    }
    out += "\n    }";
    section_ = sections;
    ++group_;
  }

  // Before "Groups" (members in nlohmann's sorted order): what operators
  // set, when they set or did anything.
  void write_admin(std::string& out) {
    if (admin_shown(view_->admin))
      write_member(out, "Admin", admin_settings_json(view_->admin));
  }

  // One member of the document, indented as dump(2) would.
  static void write_member(std::string& out, const char* name,
                           const nlohmann::json& value) {
    out += "  \"";
    out += name;
    out += "\": ";
    auto text =
        value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
    for (char c : text) {
      out += c;
      if (c == '\n')
        out += "  ";
    }
    out += ",\n";
  }

  void open_section(std::string& out, section s) {
    static const char* names[] = {"Permitted", "Requested", "Waiting"};
    out += ",\n      \"";
    out += names[s];
    out += "\": [";
    section_ = s;
    machine_ = 0;
    items_ = 0;
  }

  void write_item(std::string& out, const machine_view& m) {
    out += items_++ > 0 ? ",\n" : "\n";
    out += "        {\n          \"Hostname\": ";
    out += json_string(m.host);
    if (section_ == waiting) {
      out += ",\n          \"ReadyTimeout\": ";
      out += json_string(rfc3339(m.ready_deadline_ns));
      out += ",\n          \"ReadyUrl\": ";
      out += json_string(m.ready_url);
    } else {
      out += ",\n          \"LastRequest\": ";
      out += json_string(rfc3339(m.last_request_ns));
    }
    out += "\n        }";
  }

  std::shared_ptr<const state_view> view_; // shared by all who asked
  std::optional<replica_role> role_;
  bool started_ = false;
  bool done_ = false;
  std::size_t group_ = 0;
  section section_ = sections; // `sections`: the group is not opened yet
  std::size_t machine_ = 0;
  std::size_t items_ = 0;
};

std::string render_whole(page_writer& writer) {
  std::string out;
  while (writer.next(out, std::size_t(1) << 20)) {
  }
  return out;
}

} // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  append_html_escaped(out, text);
  return out;
}

std::string short_duration(std::chrono::nanoseconds d) {
  bool negative = d.count() < 0;
  auto secs =
      std::chrono::duration_cast<std::chrono::seconds>(negative ? -d : d)
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
    out += std::to_string(t.permitted) + " disruptions permitted, " +
           std::to_string(t.requested) + " requested and " +
           std::to_string(t.waiting) + " waiting";
  }
  out += "</p>\n<ul>\n<li><a href=\"showState\">dashboard</a></li>\n"
         "<li><a href=\"metrics\">metrics</a></li>\n"
         "<li><a href=\"logs\">logs</a></li>\n"
         "<li><a href=\"api/v1/state\">state (JSON)</a></li>\n</ul>\n";
  if (ctx.role)
    append_replica_line(out, ctx.role());
  out += "<p>Version " + html_escape(ctx.version) + ", started " +
         rfc3339(ctx.started.time_since_epoch().count()) + ", up " +
         short_duration(now - ctx.started) + ".</p>\n";
  out += "</body></html>\n";
  return out;
}

std::optional<dashboard_query> parse_dashboard_query(std::string_view query,
                                                     std::string& error) {
  std::vector<std::pair<std::string, std::string>> pairs;
  if (!parse_query(query, pairs)) {
    error = "the query is malformed (a bad %-escape or a \";\")";
    return std::nullopt;
  }
  dashboard_query q;
  bool page_given = false;
  for (auto& [name, value] : pairs) {
    if (name == "group") {
      if (q.group) {
        error = "group is given twice";
        return std::nullopt;
      }
      q.group = std::move(value);
    } else if (name == "state") {
      if (q.state) {
        error = "state is given twice";
        return std::nullopt;
      }
      for (auto s : {view_state::any, view_state::permitted,
                     view_state::requested, view_state::waiting})
        if (value == state_name(s))
          q.state = s;
      if (!q.state) {
        error = "state must be all, permitted, requested or waiting, not \"" +
                value + "\"";
        return std::nullopt;
      }
    } else if (name == "page") {
      if (page_given) {
        error = "page is given twice";
        return std::nullopt;
      }
      page_given = true;
      constexpr std::uint64_t most = 1000000000;
      std::uint64_t n = 0;
      bool digits = !value.empty() && value.size() <= 10;
      for (char c : value) {
        if (c < '0' || c > '9') {
          digits = false;
          break;
        }
        n = n * 10 + static_cast<std::uint64_t>(c - '0');
      }
      if (!digits || n < 1 || n > most) {
        error = "page must be a whole number from 1 to " +
                std::to_string(most) + ", not \"" + value + "\"";
        return std::nullopt;
      }
      q.page = n;
    } else {
      error = "unknown query parameter \"" + name +
              "\" (known: group, state, page)";
      return std::nullopt;
    }
  }
  return q;
}

gather_scope dashboard_scope(const dashboard_query& query) {
  gather_scope scope;
  scope.whole = false;
  scope.group = query.group;
  scope.count = dashboard_rows_per_page;
  if (query.machines()) {
    scope.state = query.state.value_or(view_state::any);
    scope.first = (query.page - 1) * dashboard_rows_per_page;
  } else {
    // Every machine when they all fit on the page, else none.
    scope.list_at_most = dashboard_rows_per_page;
  }
  return scope;
}

gather_scope summary_scope() {
  gather_scope scope;
  scope.whole = false;
  scope.list_at_most = 0;
  return scope;
}

std::unique_ptr<page_writer>
dashboard_writer(std::shared_ptr<const state_view> view, timestamp now,
                 dashboard_query query, std::optional<replica_role> role) {
  return std::make_unique<dashboard>(std::move(view), now, std::move(query),
                                     std::move(role));
}

std::unique_ptr<page_writer>
state_json_writer(std::shared_ptr<const state_view> view,
                  std::optional<replica_role> role) {
  return std::make_unique<state_document>(std::move(view), std::move(role));
}

std::string render_dashboard(state_view view, timestamp now,
                             dashboard_query query) {
  return render_whole(*dashboard_writer(
      std::make_shared<state_view>(std::move(view)), now, std::move(query)));
}

std::string render_state_json(state_view view,
                              std::optional<replica_role> role) {
  return render_whole(*state_json_writer(
      std::make_shared<state_view>(std::move(view)), std::move(role)));
}

} // namespace dm
