// The operator pages of the real server: status page, dashboard, metrics,
// health, as a person or a scraper fetches them.
#include <gtest/gtest.h>

#include <regex>
#include <sstream>

#include "tests/support/http_client.hpp"
#include "tests/support/server_process.hpp"
#include "tests/support/temp_dir.hpp"

using namespace dm::test;

namespace {

struct pages_fixture : ::testing::Test {
  temp_dir dir;
  std::unique_ptr<server_process> server;
  void SetUp() override {
    server = std::make_unique<server_process>(DM_SERVER_BINARY,
                                              dir.file("state"));
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
  EXPECT_NE(page.body.find("1 disruptions permitted, 1 requested and 0 waiting"),
            std::string::npos)
    << page.body;
  for (auto link : {"showState", "metrics", "logs"})
    EXPECT_NE(page.body.find(std::string("href=\"") + link), std::string::npos);
  EXPECT_NE(page.body.find("Version"), std::string::npos);
  EXPECT_NE(page.body.find("up "), std::string::npos);
}

TEST_F(pages_fixture, dashboard_lists_machines_and_groups) {
  disruption(port(), "request", "127.0.41.1",
             R"({"DisruptionManagerGroupIdentifier":"Dash","DisruptionManagerGroupMaximumDisrupting":"2"})");
  disruption(port(), "request", "127.0.41.2",
             R"({"DisruptionManagerGroupIdentifier":"Dash","DisruptionManagerGroupMaximumDisrupting":"2"})");
  disruption(port(), "request", "127.0.41.3",
             R"({"DisruptionManagerGroupIdentifier":"Dash","DisruptionManagerGroupMaximumDisrupting":"2"})");
  auto page = http_get(port(), "/showState");
  ASSERT_EQ(page.status, 200);
  std::regex row("<tr><td>127\\.0\\.41\\.1</td><td class=\"permitted\">"
                 "permitted</td><td>Dash</td><td>0s/(59m5[0-9]s|1h0m0s)</td>");
  EXPECT_TRUE(std::regex_search(page.body, row)) << page.body;
  EXPECT_NE(page.body.find("requested (#1)"), std::string::npos);
  // Group summary: limit 2, 2 in use, 1 queued.
  EXPECT_NE(page.body.find("<tr><td>Dash</td><td class=\"n\">2</td>"
                           "<td class=\"n\">2</td><td class=\"n\">2</td>"
                           "<td class=\"n\">0</td><td class=\"n\">1</td>"
                           "</tr>"),
            std::string::npos)
    << page.body;
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
    if (line.rfind("# HELP disruption_manager_", 0) == 0
        || line.rfind("# TYPE disruption_manager_", 0) == 0)
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
