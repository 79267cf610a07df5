// Blocking alerts against a real Prometheus (docs/semantics.md, "Blocking
// alerts"): Prometheus, started here on a free port, scrapes a local HTTP
// server whose gauges the test flips; its rules fire an alert while a
// gauge is above 0. The real server polls it: grants stop while the alert
// fires (requests queue) and the queue is permitted in order once it
// resolves; an alert labelled disruption_manager_group blocks that group
// only; a stopped Prometheus blocks every group until it answers again.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "tests/support/http_client.hpp"
#include "tests/support/prometheus_server.hpp"
#include "tests/support/ready_endpoint.hpp"
#include "tests/support/server_process.hpp"
#include "tests/support/temp_dir.hpp"

using namespace dm::test;

namespace {

// One alert for every group, one for group "G" only.
const char* rules = R"(groups:
  - name: dm_test
    interval: 1s
    rules:
      - alert: DmTestBlock
        expr: dm_test_block > 0
        for: 0s
      - alert: DmTestBlockGroup
        expr: dm_test_block_group > 0
        for: 0s
        labels:
          disruption_manager_group: G
)";

std::string tags(const std::string& group) {
  return R"({"DisruptionManagerGroupIdentifier":")" + group + "\"}";
}

struct blocking_alerts : ::testing::Test {
  temp_dir dir;
  ready_endpoint target; // what Prometheus scrapes
  std::unique_ptr<prometheus_server> prometheus;
  std::unique_ptr<server_process> server;

  void SetUp() override {
    ASSERT_TRUE(prometheus_available()) << "run scripts/setup";
    target.status = 200;
    gauges(0, 0);
    prometheus = std::make_unique<prometheus_server>(
        std::vector<std::string>{"127.0.0.1:" + std::to_string(target.port)},
        rules);
    std::string error;
    ASSERT_TRUE(prometheus->start(error)) << error;
    server = std::make_unique<server_process>(
        DM_SERVER_BINARY, dir.file("state"),
        std::vector<std::string>{"-certFile=" + dir.file("none.pem"),
                                 "-keyFile=" + dir.file("none.key"),
                                 "-blockingAlertsUrl=" + prometheus->url(),
                                 "-blockingAlertsInterval=200ms"});
    ASSERT_TRUE(server->start()) << server->log_text();
    // The first answer: nothing fires, nothing is blocked.
    ASSERT_TRUE(eventually([&] {
      auto a = alerts();
      return a.is_object() && a["Unavailable"] == "" && a["Blocking"].empty();
    })) << alerts();
  }

  // What Prometheus scrapes from now on.
  void gauges(int block, int block_group) {
    target.set_body("dm_test_block " + std::to_string(block) +
                        "\ndm_test_block_group " + std::to_string(block_group) +
                        "\n",
                    "text/plain; version=0.0.4");
  }

  // The "Alerts" member of /api/v1/state (null when there is none).
  nlohmann::json alerts() {
    auto answer = http_get(server->port(), "/api/v1/state");
    auto doc = nlohmann::json::parse(answer.body, nullptr, false);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains("Alerts"))
      return nullptr;
    return doc["Alerts"];
  }

  bool blocking(const std::string& alert) {
    auto a = alerts();
    if (!a.is_object())
      return false;
    for (const auto& b : a["Blocking"])
      if (b["Alert"] == alert)
        return true;
    return false;
  }

  // Waits, generously, for what Prometheus and the poller take a few
  // seconds to bring about; false if it never comes.
  static bool eventually(const std::function<bool()>& done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(40);
    while (std::chrono::steady_clock::now() < deadline) {
      if (done())
        return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }

  std::string call(const std::string& op, const std::string& host,
                   const std::string& group) {
    return disruption(server->port(), op, host, tags(group));
  }
};

} // namespace

TEST_F(blocking_alerts, grants_stop_while_the_alert_fires_and_resume_after) {
  EXPECT_EQ(call("request", "127.0.0.2", "G"), "permitted");
  gauges(1, 0);
  ASSERT_TRUE(eventually([&] { return blocking("DmTestBlock"); })) << alerts();
  EXPECT_EQ(alerts()["BlocksEveryGroup"], true);
  EXPECT_EQ(call("check", "127.0.0.2", "G"), "permitted"); // permits stay
  EXPECT_EQ(call("cancel", "127.0.0.2", "G"), "denied");
  EXPECT_EQ(call("request", "127.0.0.3", "G"), "requested"); // a free slot
  EXPECT_EQ(call("request", "127.0.0.4", "G"), "requested");
  EXPECT_EQ(call("request", "127.0.0.5", "H"), "requested");
  EXPECT_EQ(call("check", "127.0.0.3", "G"), "requested");
  auto metrics = http_get(server->port(), "/metrics").body;
  EXPECT_NE(metrics.find("disruption_manager_blocking_alerts{alert="
                         "\"DmTestBlock\",scope=\"every_group\",group=\"\"} 1"),
            std::string::npos);
  auto status = http_get(server->port(), "/api/v1/admin/status");
  EXPECT_NE(status.body.find("\"BlockedByAlert\": true"), std::string::npos)
      << status.body;
  EXPECT_NE(http_get(server->port(), "/showState").body.find("DmTestBlock"),
            std::string::npos);

  gauges(0, 0);
  ASSERT_TRUE(eventually([&] { return !blocking("DmTestBlock"); })) << alerts();
  EXPECT_EQ(call("check", "127.0.0.3", "G"), "permitted"); // first in line
  EXPECT_EQ(call("check", "127.0.0.4", "G"), "requested");
  EXPECT_EQ(call("check", "127.0.0.5", "H"), "permitted");
  auto log = server->log_text();
  EXPECT_NE(log.find("blocking started: alert DmTestBlock fires; every group"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("blocking ended: alert DmTestBlock"), std::string::npos);
}

TEST_F(blocking_alerts, a_labelled_alert_blocks_its_group_only) {
  gauges(0, 1);
  ASSERT_TRUE(eventually([&] { return blocking("DmTestBlockGroup"); }))
      << alerts();
  EXPECT_EQ(alerts()["Blocking"][0]["Group"], "G");
  EXPECT_EQ(call("request", "127.0.0.2", "G"), "requested");
  EXPECT_EQ(call("request", "127.0.0.3", "H"), "permitted");
  EXPECT_EQ(call("request", "127.0.0.4", ""), "permitted"); // global group
  gauges(0, 0);
  ASSERT_TRUE(eventually([&] { return !blocking("DmTestBlockGroup"); }))
      << alerts();
  EXPECT_EQ(call("check", "127.0.0.2", "G"), "permitted");
}

TEST_F(blocking_alerts, a_stopped_prometheus_blocks_every_group) {
  EXPECT_EQ(call("request", "127.0.0.2", "G"), "permitted");
  prometheus->stop();
  ASSERT_TRUE(eventually([&] {
    auto a = alerts();
    return a.is_object() && a["Unavailable"] != "";
  })) << alerts();
  EXPECT_EQ(alerts()["UnavailableBlocks"], true);
  EXPECT_EQ(call("request", "127.0.0.3", "H"), "requested");
  EXPECT_EQ(call("check", "127.0.0.2", "G"), "permitted");
  auto metrics = http_get(server->port(), "/metrics").body;
  EXPECT_NE(metrics.find("disruption_manager_alerts_prometheus_unavailable 1"),
            std::string::npos);
  EXPECT_NE(server->log_text().find("Prometheus gives no usable answer"),
            std::string::npos);
  // Back on the same port: granting resumes.
  std::string error;
  ASSERT_TRUE(prometheus->start(error)) << error;
  ASSERT_TRUE(eventually([&] {
    auto a = alerts();
    return a.is_object() && a["Unavailable"] == "";
  })) << alerts();
  EXPECT_EQ(call("check", "127.0.0.3", "H"), "permitted");
}
