// The operator pages of the real server: status page, dashboard, metrics,
// health, as a person or a scraper fetches them.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <ctime>
#include <regex>
#include <sstream>

#include <sys/socket.h>
#include <unistd.h>

#include "tests/support/http_client.hpp"
#include "tests/support/server_process.hpp"
#include "tests/support/temp_dir.hpp"

using namespace dm::test;

namespace {

struct pages_fixture : ::testing::Test {
  temp_dir dir;
  std::unique_ptr<server_process> server;
  void SetUp() override {
    server =
        std::make_unique<server_process>(DM_SERVER_BINARY, dir.file("state"));
    ASSERT_TRUE(server->start()) << server->log_text();
  }
  int port() const { return server->port(); }
};

// Value of the sample `name{labels}` in Prometheus text, or -1.
double metric(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (line.compare(0, series.size() + 1, series + " ") == 0)
      return std::stod(line.substr(series.size() + 1));
  return -1;
}

} // namespace

TEST_F(pages_fixture, status_page_counts_and_links) {
  auto page = http_get(port(), "/");
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("<title>Disruption Manager"), std::string::npos);
  EXPECT_NE(page.body.find("No disruptions permitted, requested or waiting"),
            std::string::npos);
  disruption(port(), "request", "127.0.40.1",
             R"({"DisruptionManagerGroupIdentifier":"Web"})");
  disruption(port(), "request", "127.0.40.2",
             R"({"DisruptionManagerGroupIdentifier":"Web"})");
  page = http_get(port(), "/");
  EXPECT_NE(
      page.body.find("1 disruptions permitted, 1 requested and 0 waiting"),
      std::string::npos)
      << page.body;
  for (auto link : {"showState", "metrics", "logs"})
    EXPECT_NE(page.body.find(std::string("href=\"") + link), std::string::npos);
  EXPECT_NE(page.body.find("Version"), std::string::npos);
  EXPECT_NE(page.body.find("up "), std::string::npos);
}

TEST_F(pages_fixture, dashboard_lists_machines_and_groups) {
  disruption(
      port(), "request", "127.0.41.1",
      R"({"DisruptionManagerGroupIdentifier":"Dash","DisruptionManagerGroupMaximumDisrupting":"2"})");
  disruption(
      port(), "request", "127.0.41.2",
      R"({"DisruptionManagerGroupIdentifier":"Dash","DisruptionManagerGroupMaximumDisrupting":"2"})");
  disruption(
      port(), "request", "127.0.41.3",
      R"({"DisruptionManagerGroupIdentifier":"Dash","DisruptionManagerGroupMaximumDisrupting":"2"})");
  auto page = http_get(port(), "/showState");
  ASSERT_EQ(page.status, 200);
  // A page that fits in one piece goes whole, as every other page does.
  EXPECT_NE(page.headers.find("Content-Length: "), std::string::npos);
  std::regex row("<tr class=p><td>127\\.0\\.41\\.1<td>permitted<td>Dash"
                 "<td>0s/(59m5[0-9]s|1h0m0s)</tr>\n");
  EXPECT_TRUE(std::regex_search(page.body, row)) << page.body;
  EXPECT_NE(page.body.find("<td>requested (#1)<td>"), std::string::npos);
  // Group summary: limit 2, 2 in use, 2 permitted, 0 waiting, 1 queued.
  EXPECT_NE(page.body.find("<tr><td><a href=\"?group=Dash\">Dash</a><td>2<td>2"
                           "<td>2<td>0<td>1</tr>\n"),
            std::string::npos)
      << page.body;
}

// The dashboard's query on the real server: a group's listing, a state's
// listing across groups, and bad queries answered 400 with the reason.
TEST_F(pages_fixture,
       dashboard_lists_by_group_and_state_and_refuses_bad_queries) {
  const std::string a =
      R"({"DisruptionManagerGroupIdentifier":"A b","DisruptionManagerGroupMaximumDisrupting":"1"})";
  const std::string c = R"({"DisruptionManagerGroupIdentifier":"C"})";
  ASSERT_EQ(disruption(port(), "request", "127.0.44.1", a), "permitted");
  ASSERT_EQ(disruption(port(), "request", "127.0.44.2", a), "requested");
  ASSERT_EQ(disruption(port(), "request", "127.0.44.3", c), "permitted");

  auto overview = http_get(port(), "/showState");
  ASSERT_EQ(overview.status, 200);
  EXPECT_NE(overview.body.find("2 groups with 3 machines"), std::string::npos)
      << overview.body;
  EXPECT_NE(overview.body.find("<tr><td><a href=\"?group=A%20b\">A b</a><td>1"
                               "<td>1<td>1<td>0<td>1</tr>"),
            std::string::npos)
      << overview.body;

  auto group = http_get(port(), "/showState?group=A%20b");
  ASSERT_EQ(group.status, 200);
  EXPECT_NE(group.body.find("2 machines in A b"), std::string::npos);
  EXPECT_NE(group.body.find("<tr class=p><td>127.0.44.1<td>permitted<td>A b"),
            std::string::npos);
  EXPECT_NE(group.body.find("<tr class=r><td>127.0.44.2<td>requested (#1)"),
            std::string::npos);
  EXPECT_EQ(group.body.find("127.0.44.3"), std::string::npos);

  auto permitted = http_get(port(), "/showState?state=permitted");
  ASSERT_EQ(permitted.status, 200);
  EXPECT_NE(permitted.body.find("<td>127.0.44.1<td>permitted"),
            std::string::npos);
  EXPECT_NE(permitted.body.find("<td>127.0.44.3<td>permitted"),
            std::string::npos);
  EXPECT_EQ(permitted.body.find("127.0.44.2"), std::string::npos);

  auto nobody = http_get(port(), "/showState?group=nobody&state=waiting");
  ASSERT_EQ(nobody.status, 200);
  EXPECT_NE(nobody.body.find("0 waiting machines in nobody"),
            std::string::npos);

  for (auto [query, reason] : std::vector<std::pair<std::string, std::string>>{
           {"?page=0", "page must be a whole number from 1 to 1000000000"},
           {"?state=denied",
            "state must be all, permitted, requested or waiting"},
           {"?color=red", "unknown query parameter \"color\""}}) {
    auto refused = http_get(port(), "/showState" + query);
    EXPECT_EQ(refused.status, 400) << query;
    EXPECT_NE(refused.body.find(reason), std::string::npos)
        << query << ": " << refused.body;
  }
}

TEST_F(pages_fixture, metrics_parse_and_move_with_calls) {
  auto before = http_get(port(), "/metrics");
  ASSERT_EQ(before.status, 200);
  std::regex sample_line(
      R"(^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? -?[0-9.eE+-]+$|^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? (\+Inf|NaN)$)");
  std::istringstream in(before.body);
  std::string line;
  int samples = 0;
  while (std::getline(in, line)) {
    if (line.rfind("# HELP disruption_manager_", 0) == 0 ||
        line.rfind("# TYPE disruption_manager_", 0) == 0)
      continue;
    ASSERT_EQ(line.rfind("disruption_manager_", 0), 0u) << line;
    EXPECT_TRUE(std::regex_match(line, sample_line)) << line;
    ++samples;
  }
  EXPECT_GT(samples, 40);
  const std::string series = "disruption_manager_calls_total{protocol=\"rest\","
                             "operation=\"request\",answer=\"permitted\"}";
  EXPECT_EQ(metric(before.body, series), 0);
  disruption(port(), "request", "127.0.42.1");
  auto after = http_get(port(), "/metrics").body;
  EXPECT_EQ(metric(after, series), 1);
  EXPECT_EQ(metric(after, "disruption_manager_machines{state=\"permitted\"}"),
            1);
  EXPECT_GE(metric(after, "disruption_manager_storage_syncs_total"), 1);
  EXPECT_GT(metric(after, "disruption_manager_process_resident_memory_bytes"),
            0);
  EXPECT_GE(metric(after, "disruption_manager_call_duration_seconds_count{"
                          "protocol=\"rest\"}"),
            1);
  // A check of the saved permit is answered by the I/O thread's replica.
  EXPECT_EQ(metric(after, "disruption_manager_checks_answered_locally_total"),
            0);
  EXPECT_NE(disruption(port(), "check", "127.0.42.1").find("permitted"),
            std::string::npos);
  after = http_get(port(), "/metrics").body;
  EXPECT_EQ(metric(after, "disruption_manager_checks_answered_locally_total"),
            1);
}

TEST_F(pages_fixture, health_answers_ok) {
  auto health = http_get(port(), "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, "ok\n");
}

namespace {

std::string rfc3339_in(std::chrono::seconds from_now) {
  auto when = std::chrono::system_clock::to_time_t(
      std::chrono::system_clock::now() + from_now);
  std::tm tm{};
  gmtime_r(&when, &tm);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

std::string two_digits(int n) {
  return (n < 10 ? "0" : "") + std::to_string(n);
}

bool ends_with(const std::string& text, const std::string& tail) {
  return text.size() >= tail.size() &&
         text.compare(text.size() - tail.size(), tail.size(), tail) == 0;
}

// Everything the server sends until it closes the connection.
std::string read_to_end(int fd) {
  std::string data;
  char chunk[65536];
  for (;;) {
    auto n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n <= 0)
      return data;
    data.append(chunk, static_cast<std::size_t>(n));
  }
}

// 3,000 machines in 30 groups, imported from the original's state.json at
// start: in each group 97 permitted, 2 queued and 1 waiting on a ready URL
// (port 9 refuses, so it stays waiting). Host m-07-099 is group 7's waiting
// machine.
struct large_state_fixture : ::testing::Test {
  static constexpr int groups = 30;
  static constexpr int per_group = 100;
  static constexpr int machines = groups * per_group;
  temp_dir dir;
  std::unique_ptr<server_process> server;

  void SetUp() override {
    auto now = rfc3339_in(std::chrono::seconds(0));
    auto ready_by = rfc3339_in(std::chrono::minutes(30));
    nlohmann::json state = nlohmann::json::array();
    for (int g = 0; g < groups; ++g) {
      nlohmann::json permitted = nlohmann::json::array();
      nlohmann::json requested = nlohmann::json::array();
      for (int i = 0; i < per_group - 1; ++i) {
        auto& list = i < per_group - 3 ? permitted : requested;
        list.push_back({{"Hostname", host(g, i)}, {"LastRequest", now}});
      }
      state.push_back({{"Identifier", "Fleet-" + two_digits(g)},
                       {"Permitted", permitted},
                       {"Requested", requested},
                       {"Waiting",
                        {{{"Hostname", host(g, per_group - 1)},
                          {"ReadyTimeout", ready_by},
                          {"ReadyUrl", "http://127.0.0.1:9/ready/" +
                                           host(g, per_group - 1)}}}}});
    }
    dir.write("state.json", state.dump());
    server = std::make_unique<server_process>(DM_SERVER_BINARY, dir.path());
    ASSERT_TRUE(server->start()) << server->log_text();
  }

  static std::string host(int group, int i) {
    return "m-" + two_digits(group) + "-" + std::string(i < 10 ? "00" : "0") +
           std::to_string(i);
  }

  int port() const { return server->port(); }

  // The rows and summaries of the dashboard built from this state.
  static void expect_whole_dashboard(const std::string& page) {
    EXPECT_EQ(count_of(page, "<td>m-"), static_cast<std::size_t>(machines));
    for (int g = 0; g < groups; ++g)
      EXPECT_NE(page.find("<tr><td><a href=\"?group=Fleet-" + two_digits(g) +
                          "\">Fleet-" + two_digits(g) +
                          "</a><td>1<td>98<td>97<td>1<td>2</tr>\n"),
                std::string::npos)
          << g;
    auto has = [&](const std::string& pattern) {
      return std::regex_search(page, std::regex(pattern));
    };
    EXPECT_TRUE(has("<tr class=p><td>m-07-000<td>permitted<td>Fleet-07"
                    "<td>[0-9]+s/(59m[0-9]+s|1h0m0s)</tr>\n"));
    EXPECT_TRUE(has("<tr class=r><td>m-07-097<td>requested \\(#1\\)"
                    "<td>Fleet-07<td>[0-9]+s/(59m[0-9]+s|1h0m0s)</tr>\n"));
    EXPECT_TRUE(
        has("<tr class=r><td>m-29-098<td>requested \\(#2\\)<td>Fleet-29"));
    EXPECT_TRUE(has("<tr class=w><td>m-07-099<td>waiting<td>Fleet-07<td>"
                    "<td>(29m[0-9]+s|30m0s)"
                    "<td>http://127\\.0\\.0\\.1:9/ready/m-07-099</tr>\n"));
    EXPECT_TRUE(ends_with(page, "</html>\n"));
  }
};

} // namespace

TEST_F(large_state_fixture, dashboard_streams_in_chunks) {
  // A ready gate that cannot be applied shows as an error row of its group.
  const std::string gated = R"({"DisruptionManagerGroupIdentifier":"Gated"})";
  ASSERT_EQ(disruption(port(), "request", "127.0.43.1", gated), "permitted");
  ASSERT_EQ(disruption(port(), "request", "127.0.43.2", gated), "requested");
  disruption(port(), "cancel", "127.0.43.1",
             R"({"DisruptionManagerGroupIdentifier":"Gated",)"
             R"("DisruptionManagerReadyTimeout":"soon"})");

  http_connection conn(port());
  auto page = conn.get("/showState");
  ASSERT_EQ(page.status, 200) << page.headers;
  EXPECT_NE(page.headers.find("Transfer-Encoding: chunked"), std::string::npos)
      << page.headers;
  EXPECT_EQ(page.headers.find("Content-Length"), std::string::npos);
  // Written in pieces of tens of KiB, not row by row.
  EXPECT_GT(page.chunks, 1u);
  EXPECT_GT(page.body.size() / page.chunks, 16u * 1024);
  expect_whole_dashboard(page.body);
  EXPECT_NE(page.body.find("<tr class=e><td colspan=6>ready gate not applied: "
                           "127.0.43.1: DisruptionManagerReadyTimeout: "),
            std::string::npos);
  EXPECT_NE(page.body.find("<tr class=p><td>127.0.43.2<td>permitted<td>Gated"),
            std::string::npos);
}

TEST_F(large_state_fixture, keep_alive_goes_on_after_a_streamed_page) {
  http_connection conn(port());
  // Both requests at once: the second is answered after the last chunk.
  auto page = conn.exchange("GET /showState HTTP/1.1\r\nHost: test\r\n\r\n"
                            "GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n");
  ASSERT_EQ(page.status, 200);
  EXPECT_GT(page.chunks, 1u);
  expect_whole_dashboard(page.body);
  auto health = conn.exchange("");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, "ok\n");

  // The state document streams too; a browser asks only after an answer.
  auto state = conn.get("/api/v1/state");
  ASSERT_EQ(state.status, 200);
  EXPECT_GT(state.chunks, 1u);
  auto doc = nlohmann::json::parse(state.body, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << state.body.substr(0, 200);
  ASSERT_EQ(doc["Groups"].size(), static_cast<std::size_t>(groups));
  std::size_t hosts = 0;
  for (const auto& g : doc["Groups"])
    hosts +=
        g["Permitted"].size() + g["Requested"].size() + g["Waiting"].size();
  EXPECT_EQ(hosts, static_cast<std::size_t>(machines));
  const auto& fleet7 = doc["Groups"][7];
  EXPECT_EQ(fleet7["Identifier"], "Fleet-07");
  EXPECT_EQ(fleet7["Requested"][0]["Hostname"], "m-07-097");
  EXPECT_EQ(fleet7["Waiting"][0]["ReadyUrl"],
            "http://127.0.0.1:9/ready/m-07-099");

  auto status = conn.get("/");
  EXPECT_EQ(status.status, 200);
  EXPECT_NE(status.body.find("2910 disruptions permitted, 60 requested and "
                             "30 waiting"),
            std::string::npos)
      << status.body;
}

TEST_F(large_state_fixture, http_1_0_page_ends_when_the_connection_closes) {
  // HTTP/1.0 has no chunks. The client here also closes its sending side
  // at once, and still gets the whole page.
  for (bool half_close : {false, true}) {
    int fd = connect_from("127.0.0.1", port());
    ASSERT_GE(fd, 0);
    std::string request = "GET /showState HTTP/1.0\r\n";
    request += half_close ? "\r\n" : "Connection: keep-alive\r\n\r\n";
    ASSERT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(request.size()));
    if (half_close)
      ::shutdown(fd, SHUT_WR);
    auto answer = read_to_end(fd);
    ::close(fd);
    auto head_end = answer.find("\r\n\r\n");
    ASSERT_NE(head_end, std::string::npos) << half_close;
    auto head = answer.substr(0, head_end);
    EXPECT_EQ(head.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << head;
    EXPECT_EQ(head.find("Transfer-Encoding"), std::string::npos) << head;
    EXPECT_EQ(head.find("Content-Length"), std::string::npos) << head;
    EXPECT_NE(head.find("Connection: close"), std::string::npos) << head;
    expect_whole_dashboard(answer.substr(head_end + 4));
  }
}

TEST_F(large_state_fixture, head_sends_heads_alone) {
  int fd = connect_from("127.0.0.1", port());
  ASSERT_GE(fd, 0);
  std::string requests = "HEAD /showState HTTP/1.1\r\nHost: test\r\n\r\n"
                         "HEAD / HTTP/1.1\r\nHost: test\r\n\r\n"
                         "GET /healthz HTTP/1.1\r\nHost: test\r\n"
                         "Connection: close\r\n\r\n";
  ASSERT_EQ(::send(fd, requests.data(), requests.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(requests.size()));
  auto answers = read_to_end(fd);
  ::close(fd);
  // Three heads back to back, then the one body.
  std::vector<std::string> heads;
  std::size_t pos = 0;
  for (int i = 0; i < 3; ++i) {
    auto end = answers.find("\r\n\r\n", pos);
    ASSERT_NE(end, std::string::npos) << answers;
    heads.push_back(answers.substr(pos, end - pos));
    pos = end + 4;
  }
  for (const auto& head : heads)
    EXPECT_EQ(head.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << answers;
  EXPECT_NE(heads[0].find("Transfer-Encoding: chunked"), std::string::npos);
  EXPECT_NE(heads[1].find("Content-Length: "), std::string::npos);
  EXPECT_EQ(answers.substr(pos), "ok\n");
}
