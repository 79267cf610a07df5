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
  EXPECT_NE(page.find("<tr><td>" + alpha + "<td>2<td>2<td>1<td>1<td>2</tr>\n"),
            std::string::npos)
      << page;
  EXPECT_NE(page.find("<tr><td>(global group)<td>1<td>1<td>1<td>0<td>0</tr>\n"),
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
  EXPECT_NE(page.find("<tr><td>G&lt;1&gt;<td>paused<td>4</tr>"),
            std::string::npos)
      << page;
  EXPECT_NE(page.find("&lt;script&gt;"), std::string::npos);
  EXPECT_EQ(page.find("<td><script>"), std::string::npos);
  EXPECT_EQ(render_dashboard(sample_view(), noon()).find("Operator control"),
            std::string::npos);
}
