// The dashboard and the state document written a piece at a time.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <ctime>

#include "web/pages.hpp"

using namespace dm;

namespace {

constexpr std::int64_t second = 1000000000;
// 2026-11-25T12:00:00Z
constexpr std::int64_t noon_ns = 1795608000 * second;

machine_view machine(std::string host, std::string state,
                     std::uint64_t queue_position = 0) {
  machine_view m;
  m.host = std::move(host);
  m.state = std::move(state);
  m.queue_position = queue_position;
  m.last_request_ns = noon_ns - 90 * second;
  m.expires_ns = m.last_request_ns + 3600 * second;
  if (m.state == "waiting") {
    m.ready_deadline_ns = noon_ns + 600 * second;
    m.ready_url = "http://ready.example/?h=" + m.host + "&x=\"1\"";
  }
  return m;
}

// Names that need escaping, a group with every kind of machine, an empty
// group name (the global group) and a group with nobody queued.
state_view sample_view() {
  state_view view;
  group_view a;
  a.identifier = "Alpha <&> \"quoted\" \xc3\xa9";
  a.limit = 2;
  a.permitted = 1;
  a.waiting = 1;
  a.queued = 2;
  a.machines = {machine("p1.example", "permitted"),
                machine("q<1>", "requested", 1), machine("q2", "requested", 2),
                machine("w1", "waiting")};
  a.gate_errors = {"p9: DisruptionManagerReadyTimeout: bad <duration>"};
  group_view global;
  global.limit = 1;
  global.permitted = 1;
  global.machines = {machine("g1", "permitted")};
  group_view idle;
  idle.identifier = "Idle";
  idle.limit = 3;
  idle.waiting = 1;
  idle.machines = {machine("w2", "waiting")};
  view.groups = {a, global, idle};
  return view;
}

// The state document as nlohmann builds it whole: what the service sent
// before it was written a machine at a time.
std::string whole_state_document(const state_view& view) {
  auto time = [](std::int64_t ns) {
    std::time_t secs = static_cast<std::time_t>(ns / second);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char text[32];
    std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return std::string(text);
  };
  nlohmann::json groups = nlohmann::json::array();
  for (const auto& g : view.groups) {
    nlohmann::json permitted = nlohmann::json::array();
    nlohmann::json requested = nlohmann::json::array();
    nlohmann::json waiting = nlohmann::json::array();
    for (const auto& m : g.machines) {
      if (m.state == "waiting")
        waiting.push_back({{"Hostname", m.host},
                           {"ReadyTimeout", time(m.ready_deadline_ns)},
                           {"ReadyUrl", m.ready_url}});
      else
        (m.state == "permitted" ? permitted : requested)
            .push_back({{"Hostname", m.host},
                        {"LastRequest", time(m.last_request_ns)}});
    }
    groups.push_back({{"Identifier", g.identifier},
                      {"Limit", g.limit},
                      {"Permitted", permitted},
                      {"Requested", requested},
                      {"Waiting", waiting}});
  }
  return nlohmann::json{{"Groups", groups}}.dump(2) + "\n";
}

// Drains `writer` asking for `piece_bytes` at a time; checks every piece
// but the last is at least that long and none is empty.
std::string drain(page_writer& writer, std::size_t piece_bytes) {
  std::string out;
  for (;;) {
    auto before = out.size();
    bool more = writer.next(out, piece_bytes);
    EXPECT_GT(out.size(), before);
    if (!more)
      return out;
    EXPECT_GE(out.size() - before, piece_bytes);
  }
}

timestamp noon() {
  return timestamp{std::chrono::nanoseconds(noon_ns)};
}

} // namespace

TEST(pages, state_document_is_the_same_text_in_any_piece_size) {
  auto view = sample_view();
  auto expected = whole_state_document(view);
  for (std::size_t piece :
       {std::size_t(1), std::size_t(100), std::size_t(1) << 20}) {
    auto writer = state_json_writer(std::make_shared<state_view>(view));
    EXPECT_EQ(drain(*writer, piece), expected) << piece;
  }
  EXPECT_EQ(render_state_json(state_view{}), whole_state_document({}));
  EXPECT_EQ(render_state_json(state_view{}), "{\n  \"Groups\": []\n}\n");
}

TEST(pages, dashboard_is_the_same_page_in_any_piece_size) {
  auto whole = render_dashboard(sample_view(), noon());
  for (std::size_t piece : {std::size_t(1), std::size_t(300)}) {
    auto writer =
        dashboard_writer(std::make_shared<state_view>(sample_view()), noon());
    EXPECT_EQ(drain(*writer, piece), whole) << piece;
  }
  EXPECT_EQ(whole.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_EQ(whole.substr(whole.size() - 15), "</body></html>\n");
}

TEST(pages, dashboard_rows_hold_each_machine_once) {
  auto page = render_dashboard(sample_view(), noon());
  const std::string alpha = "Alpha &lt;&amp;&gt; &#34;quoted&#34; \xc3\xa9";
  // Each group's name links to its listing (the identifier escaped for the
  // query, then for HTML).
  EXPECT_NE(page.find("<tr><td><a href=\"?group=Alpha%20%3C%26%3E%20%22quoted"
                      "%22%20%C3%A9\">" +
                      alpha + "</a><td>2<td>2<td>1<td>1<td>2</tr>\n"),
            std::string::npos)
      << page;
  EXPECT_NE(page.find("<tr><td><a href=\"?group=\">(global group)</a><td>1<td>"
                      "1<td>1<td>0<td>0</tr>\n"),
            std::string::npos);
  EXPECT_NE(page.find("<tr class=p><td>p1.example<td>permitted<td>" + alpha +
                      "<td>1m30s/58m30s</tr>\n"),
            std::string::npos);
  EXPECT_NE(page.find("<tr class=r><td>q&lt;1&gt;<td>requested (#1)<td>" +
                      alpha + "<td>1m30s/58m30s</tr>\n"),
            std::string::npos);
  EXPECT_NE(page.find("<tr class=w><td>w1<td>waiting<td>" + alpha +
                      "<td><td>10m0s<td>http://ready.example/?h=w1&amp;"
                      "x=&#34;1&#34;</tr>\n"),
            std::string::npos);
  EXPECT_NE(
      page.find("<tr class=p><td>g1<td>permitted<td><td>1m30s/58m30s</tr>\n"),
      std::string::npos);
  EXPECT_NE(page.find("<tr class=e><td colspan=6>ready gate not applied: p9: "
                      "DisruptionManagerReadyTimeout: bad &lt;duration&gt; ("),
            std::string::npos);
  // The gate error follows its group's machines, before the next group.
  EXPECT_LT(page.find("ready gate not applied"), page.find("<td>g1<td>"));
  EXPECT_LT(page.find("<td>w1<td>"), page.find("ready gate not applied"));
  for (auto host : {"p1.example", "q&lt;1&gt;", "q2", "w1", "g1", "w2"}) {
    auto cell = std::string("<td>") + host + "<td>";
    auto first = page.find(cell);
    EXPECT_NE(first, std::string::npos) << host;
    EXPECT_EQ(page.find(cell, first + 1), std::string::npos) << host;
  }
}

// Operator control: the state document carries the settings and the audit
// trail (as nlohmann would write the whole), the dashboard a section.
TEST(pages, state_document_and_dashboard_show_operator_control) {
  auto view = sample_view();
  view.admin.frozen = true;
  view.admin.groups["G<1>"].paused = true;
  view.admin.groups["G<1>"].limit_override = 4;
  audit_entry entry;
  entry.when = noon();
  entry.who = "operator";
  entry.operation = "pause";
  entry.target = "G<1>";
  entry.reason = "<script>";
  view.admin.record(entry);
  auto expected = nlohmann::json::parse(whole_state_document(view));
  expected["Admin"] = {
      {"Frozen", true},
      {"GroupSettings",
       {{{"Group", "G<1>"}, {"Paused", true}, {"LimitOverride", 4}}}},
      {"Audit",
       {{{"Time", "2026-11-25T12:00:00Z"},
         {"Who", "operator"},
         {"Operation", "pause"},
         {"Target", "G<1>"},
         {"Detail", ""},
         {"Reason", "<script>"}}}}};
  for (std::size_t piece : {std::size_t(1), std::size_t(1) << 20}) {
    auto writer = state_json_writer(std::make_shared<state_view>(view));
    EXPECT_EQ(drain(*writer, piece), expected.dump(2) + "\n") << piece;
  }
  auto page = render_dashboard(view, noon());
  EXPECT_NE(page.find("<b>Frozen</b>"), std::string::npos);
  // The groups table marks an override and a pause where the group is.
  {
    auto marked = sample_view();
    marked.groups[0].controls.paused = true;
    marked.groups[0].controls.limit_override = 3;
    marked.groups[0].limit = 3;
    marked.groups[0].tag_limit = 2;
    auto row = render_dashboard(marked, noon());
    EXPECT_NE(row.find("</a> (paused)<td title=\"an operator's override; the "
                       "records' tag says 2\">3 (override)<td>"),
              std::string::npos)
        << row;
    EXPECT_EQ(render_dashboard(sample_view(), noon()).find("(override)"),
              std::string::npos);
  }
  EXPECT_NE(page.find("<tr><td>G&lt;1&gt;<td>paused<td>4</tr>"),
            std::string::npos)
      << page;
  EXPECT_NE(page.find("&lt;script&gt;"), std::string::npos);
  EXPECT_EQ(page.find("<td><script>"), std::string::npos);
  EXPECT_EQ(render_dashboard(sample_view(), noon()).find("Operator control"),
            std::string::npos);
}

namespace {

std::size_t count_of(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (auto at = text.find(part); at != std::string::npos;
       at = text.find(part, at + part.size()))
    ++n;
  return n;
}

// `groups` groups of `per_group` requested machines each, every one listed.
state_view many(std::size_t groups, std::size_t per_group) {
  state_view view;
  for (std::size_t g = 0; g < groups; ++g) {
    group_view group;
    group.identifier = "g" + std::to_string(100000 + g);
    group.queued = per_group;
    for (std::size_t m = 0; m < per_group; ++m)
      group.machines.push_back(
          machine(group.identifier + "-" + std::to_string(100000 + m),
                  "requested", m + 1));
    view.groups.push_back(std::move(group));
  }
  return view;
}

dashboard_query listing(std::optional<std::string> group,
                        std::optional<view_state> state, std::uint64_t page) {
  dashboard_query q;
  q.group = std::move(group);
  q.state = state;
  q.page = page;
  return q;
}

} // namespace

TEST(pages, dashboard_query_is_read_or_refused_with_a_reason) {
  std::string error;
  auto q = parse_dashboard_query("group=a+b%2B&state=requested&page=12", error);
  ASSERT_TRUE(q) << error;
  EXPECT_EQ(q->group, std::optional<std::string>("a b+"));
  EXPECT_EQ(q->state, view_state::requested);
  EXPECT_EQ(q->page, 12u);
  q = parse_dashboard_query("", error);
  ASSERT_TRUE(q);
  EXPECT_FALSE(q->machines());
  EXPECT_EQ(q->page, 1u);
  q = parse_dashboard_query("group=&state=all", error);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->group, std::optional<std::string>(""));
  EXPECT_EQ(q->state, view_state::any);
  for (auto [query, reason] : std::vector<std::pair<std::string, std::string>>{
           {"page=",
            "page must be a whole number from 1 to 1000000000, not \"\""},
           {"page=-1", "not \"-1\""},
           {"page=1x", "not \"1x\""},
           {"page=1000000001", "not \"1000000001\""},
           {"page=99999999999999999999", "page must be"},
           {"page=1&page=2", "page is given twice"},
           {"state=Permitted", "not \"Permitted\""},
           {"state=all&state=all", "state is given twice"},
           {"groups=a", "unknown query parameter \"groups\""},
           {"group=a;b", "malformed"},
           {"group=%4", "malformed"}}) {
    error.clear();
    EXPECT_FALSE(parse_dashboard_query(query, error)) << query;
    EXPECT_NE(error.find(reason), std::string::npos) << query << ": " << error;
  }
}

TEST(pages, dashboard_scope_lists_a_window_or_all_that_fit) {
  auto overview = dashboard_scope({});
  EXPECT_FALSE(overview.whole);
  EXPECT_FALSE(overview.group);
  EXPECT_EQ(overview.first, 0u);
  EXPECT_EQ(overview.list_at_most, dashboard_rows_per_page);
  auto page3 = dashboard_scope(listing("G", view_state::waiting, 3));
  EXPECT_EQ(page3.group, std::optional<std::string>("G"));
  EXPECT_EQ(page3.state, view_state::waiting);
  EXPECT_EQ(page3.first, 2 * dashboard_rows_per_page);
  EXPECT_EQ(page3.count, dashboard_rows_per_page);
  EXPECT_GT(page3.list_at_most, 1000000000u);
  EXPECT_EQ(summary_scope().count, 0u);
}

// The overview pages the groups' summary; beyond a page of machines it
// lists none and links to the listings instead.
TEST(pages, overview_pages_the_groups_and_links_to_listings) {
  auto view = many(dashboard_rows_per_page + 1, 1);
  for (auto& g : view.groups) {
    g.machines.clear();
    g.listed = false;
  }
  auto first = render_dashboard(view, noon());
  EXPECT_EQ(count_of(first, "<tr><td><a href=\"?group=g"),
            dashboard_rows_per_page);
  EXPECT_NE(first.find("10001 groups with 10001 machines"), std::string::npos);
  EXPECT_NE(first.find("page 1 of 2: <a href=\"?page=2\">next</a>"),
            std::string::npos);
  EXPECT_EQ(first.find("id=\"machines\""), std::string::npos);
  EXPECT_NE(
      first.find("Too many to list on one page; list <a href=\"?state=all"
                 "\">all</a>, <a href=\"?state=permitted\">permitted</a>"),
      std::string::npos)
      << first.substr(0, 3000);
  dashboard_query second;
  second.page = 2;
  auto page = render_dashboard(view, noon(), second);
  EXPECT_EQ(count_of(page, "<tr><td><a href=\"?group=g"), 1u);
  EXPECT_NE(page.find("<a href=\"?group=g110000\">g110000</a>"),
            std::string::npos);
  EXPECT_NE(page.find("page 2 of 2: <a href=\"showState\">previous</a>"),
            std::string::npos);
}

// A listing shows the machines of the asked state and group, a page of
// them counted in group order, including in groups the gatherer did not
// list (counted by their summary and passed over).
TEST(pages, listing_pages_machines_of_a_state_in_group_order) {
  auto view = many(3, dashboard_rows_per_page / 2 + 1);
  // The first group came as a summary: it holds none of page 2.
  view.groups[0].machines.clear();
  view.groups[0].listed = false;
  view.groups[1].machines[0].state = "permitted";
  view.groups[1].machines[0].queue_position = 0;
  view.groups[1].queued -= 1;
  view.groups[1].permitted = 1;
  auto page = render_dashboard(view, noon(),
                               listing(std::nullopt, view_state::requested, 2));
  // Requested in all: 3 * 5001 - 1 = 15002; page 2 holds 10001..15002 (the
  // first is the second group's 5000th requested machine).
  EXPECT_NE(page.find("15002 requested machines; list"), std::string::npos);
  EXPECT_NE(page.find("page 2 of 2: <a href=\"?state=requested\">previous</a>"),
            std::string::npos);
  EXPECT_EQ(count_of(page, "<tr class=r>"), 15002u - dashboard_rows_per_page);
  EXPECT_EQ(count_of(page, "<tr class=p>"), 0u);
  EXPECT_NE(page.find("<tr class=r><td>g100001-105000<td>requested (#5001)"),
            std::string::npos);
  EXPECT_EQ(page.find("<td>g100001-104999<td>"), std::string::npos);
  // No summary rows but the asked group's.
  EXPECT_EQ(count_of(page, "<tr><td><a href="), 0u);

  // One group: the gatherer brings it alone; its row and all its machines.
  state_view alone;
  alone.groups = {view.groups[2]};
  auto one =
      render_dashboard(alone, noon(), listing("g100002", std::nullopt, 1));
  EXPECT_EQ(count_of(one, "<tr><td><a href="), 1u);
  EXPECT_NE(one.find("<tr><td><a href=\"?group=g100002\">g100002</a><td>1<td>0"
                     "<td>0<td>0<td>5001</tr>"),
            std::string::npos);
  EXPECT_EQ(count_of(one, "<tr class="), 5001u);
  EXPECT_NE(
      one.find("5001 machines in g100002; list <a href=\"?group=g100002&amp;"
               "state=all\">all</a>"),
      std::string::npos);
  EXPECT_EQ(one.find("class=pages"), std::string::npos);

  // Past the last page: an empty table and a note, not an error.
  auto past = render_dashboard(view, noon(),
                               listing(std::nullopt, view_state::permitted, 9));
  EXPECT_EQ(count_of(past, "<tr class="), 0u);
  EXPECT_NE(past.find("past the last"), std::string::npos);
}

// A group's maintenance windows (docs/protocol.md, "HTTP in general"):
// "Windows" after "Waiting" in the state document, a cell of the groups
// table on the dashboard, and the operator's spec in the settings.
TEST(pages, state_document_and_dashboard_show_maintenance_windows) {
  auto view = sample_view();
  auto& idle = view.groups[2];
  idle.windows = "Mon-Fri 01:00-05:00 Europe/Berlin";
  idle.windows_from_operator = true;
  idle.controls.outside_window = true;
  idle.window_change_ns = noon_ns + 3600 * second;
  auto& global = view.groups[1];
  global.windows = "Sun 22:00-02:00 UTC";
  std::string error;
  view.admin.groups["Idle"].windows =
      window_schedule::parse(idle.windows, error);
  auto expected = nlohmann::json::parse(whole_state_document(view));
  expected["Groups"][2]["Windows"] = {{"Spec", idle.windows},
                                      {"From", "operator"},
                                      {"Open", false},
                                      {"NextChange", "2026-11-25T13:00:00Z"}};
  expected["Groups"][1]["Windows"] = {
      {"Spec", global.windows}, {"From", "tag"}, {"Open", true}};
  expected["Admin"] = {
      {"Frozen", false},
      {"GroupSettings",
       {{{"Group", "Idle"}, {"Paused", false}, {"Window", idle.windows}}}},
      {"Audit", nlohmann::json::array()}};
  for (std::size_t piece : {std::size_t(1), std::size_t(1) << 20}) {
    auto writer = state_json_writer(std::make_shared<state_view>(view));
    EXPECT_EQ(drain(*writer, piece), expected.dump(2) + "\n") << piece;
  }
  auto page = render_dashboard(view, noon());
  EXPECT_NE(page.find("<td title=\"Mon-Fri 01:00-05:00 Europe/Berlin\">closed, "
                      "opens 2026-11-25T13:00:00Z</tr>"),
            std::string::npos)
      << page;
  EXPECT_NE(page.find("<td title=\"Sun 22:00-02:00 UTC\">open</tr>"),
            std::string::npos);
  EXPECT_NE(page.find("<tr><td>Idle<td>no<td><td>Mon-Fri 01:00-05:00 "
                      "Europe/Berlin</tr>"),
            std::string::npos);
}
