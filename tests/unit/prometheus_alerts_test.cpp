// Prometheus's alerts API read into what blocks which group
// (docs/semantics.md, "Blocking alerts"): firing alerts only, names matched
// in full, the group label, and answers that are no alerts answer.
#include "alerts/prometheus_alerts.hpp"

#include <gtest/gtest.h>

using namespace dm;

namespace {

// An answer of /api/v1/alerts as Prometheus writes it.
const char* answer = R"({
  "status": "success",
  "data": {
    "alerts": [
      {"labels": {"alertname": "DiskFull", "severity": "page"},
       "annotations": {}, "state": "firing",
       "activeAt": "2026-12-06T06:00:00Z", "value": "1e+00"},
      {"labels": {"alertname": "RackPower",
                  "disruption_manager_group": "kubelet"},
       "annotations": {}, "state": "firing",
       "activeAt": "2026-12-06T06:00:00Z", "value": "1e+00"},
      {"labels": {"alertname": "SlowBurn"},
       "annotations": {}, "state": "pending",
       "activeAt": "2026-12-06T06:00:00Z", "value": "1e+00"}
    ]
  }
})";

alert_name_match match(const std::string& pattern) {
  std::string error;
  auto m = alert_name_match::compile(pattern, error);
  EXPECT_TRUE(m) << error;
  return *m;
}

} // namespace

TEST(prometheus_alerts, firing_alerts_are_read_and_pending_ones_left_out) {
  std::string error;
  auto firing = parse_alerts_answer(answer, error);
  ASSERT_TRUE(firing) << error;
  ASSERT_EQ(firing->size(), 2u);
  EXPECT_EQ((*firing)[0].name, "DiskFull");
  EXPECT_FALSE((*firing)[0].group);
  EXPECT_EQ((*firing)[1].name, "RackPower");
  EXPECT_EQ((*firing)[1].group, "kubelet");
}

TEST(prometheus_alerts, an_answer_without_alerts_blocks_nothing) {
  auto blocking = blocking_from_answer(
      200, R"({"status":"success","data":{"alerts":[]}})", match(".*"), true);
  EXPECT_TRUE(blocking.trouble.empty());
  EXPECT_FALSE(blocking.blocks_any());
  EXPECT_FALSE(blocking.blocks(""));
}

TEST(prometheus_alerts, what_is_no_alerts_answer_is_refused_with_a_reason) {
  for (const char* body :
       {"", "not json", "[]", R"({"data":{"alerts":[]}})",
        R"({"status":"error","errorType":"bad_data","error":"boom"})",
        R"({"status":"success"})", R"({"status":"success","data":{}})",
        R"({"status":"success","data":{"alerts":{}}})",
        R"({"status":"success","data":{"alerts":[1]}})",
        R"({"status":"success","data":{"alerts":[{"state":"firing"}]}})",
        R"({"status":"success","data":{"alerts":[{"state":"firing",
            "labels":{"alertname":7}}]}})",
        R"({"status":"success","data":{"alerts":[{"state":"firing",
            "labels":{"alertname":"A","disruption_manager_group":1}}]}})"}) {
    std::string error;
    EXPECT_FALSE(parse_alerts_answer(body, error)) << body;
    EXPECT_FALSE(error.empty()) << body;
  }
  std::string error;
  parse_alerts_answer(
      R"({"status":"error","errorType":"bad_data","error":"boom"})", error);
  EXPECT_EQ(error, "status \"error\": boom");
}

TEST(prometheus_alerts, garbage_blocks_every_group_or_nothing_by_the_policy) {
  for (bool block : {true, false}) {
    for (auto [status, body] :
         {std::pair{200, "<html>not json</html>"},
          std::pair{200, R"({"status":"success"})"},
          std::pair{503, R"({"status":"success","data":{"alerts":[]}})"}}) {
      auto blocking = blocking_from_answer(status, body, match(".*"), block);
      EXPECT_FALSE(blocking.trouble.empty()) << body;
      EXPECT_EQ(blocking.blocks("kubelet"), block) << body;
      EXPECT_EQ(blocking.blocks(""), block) << body;
      EXPECT_TRUE(blocking.alerts.empty());
    }
  }
  EXPECT_EQ(blocking_from_answer(503, "", match(".*"), true).trouble,
            "answered status 503");
}

TEST(prometheus_alerts, names_match_in_full) {
  auto m = match("Disk.*|Rack");
  EXPECT_TRUE(m.matches("DiskFull"));
  EXPECT_TRUE(m.matches("Disk"));
  EXPECT_TRUE(m.matches("Rack"));
  EXPECT_FALSE(m.matches("RackPower")); // a prefix is not the whole name
  EXPECT_FALSE(m.matches("HighDisk"));
  EXPECT_TRUE(match(".*").matches(""));
  std::string error;
  EXPECT_FALSE(alert_name_match::compile("Disk(", error));
  EXPECT_FALSE(error.empty());
}

TEST(prometheus_alerts, an_alert_blocks_its_labelled_group_or_every_group) {
  std::string error;
  auto firing = parse_alerts_answer(answer, error);
  ASSERT_TRUE(firing);
  auto both = blocking_from(*firing, match(".*"));
  EXPECT_TRUE(both.blocks("kubelet"));
  EXPECT_TRUE(both.blocks("other")); // DiskFull has no group label
  auto rack = blocking_from(*firing, match("Rack.*"));
  EXPECT_TRUE(rack.blocks("kubelet"));
  EXPECT_FALSE(rack.blocks("other"));
  EXPECT_FALSE(rack.blocks("")); // the global group is a group like others
  auto none = blocking_from(*firing, match("SlowBurn")); // pending only
  EXPECT_FALSE(none.blocks_any());
  // The global group by its empty label.
  auto global = blocking_from({{"A", std::string()}}, match(".*"));
  EXPECT_TRUE(global.blocks(""));
  EXPECT_FALSE(global.blocks("kubelet"));
}

TEST(prometheus_alerts, each_alert_and_group_is_listed_once_in_order) {
  auto blocking = blocking_from({{"B", std::string("g")},
                                 {"A", std::nullopt},
                                 {"B", std::string("g")},
                                 {"B", std::nullopt}},
                                match(".*"));
  ASSERT_EQ(blocking.alerts.size(), 3u);
  EXPECT_EQ(blocking.alerts[0], (blocking_alert{"A", std::nullopt}));
  EXPECT_EQ(blocking.alerts[1], (blocking_alert{"B", std::nullopt}));
  EXPECT_EQ(blocking.alerts[2], (blocking_alert{"B", std::string("g")}));
}

TEST(prometheus_alerts, changes_are_told_once_each) {
  auto m = match(".*");
  auto quiet = blocking_from({}, m);
  auto firing = blocking_from(
      {{"DiskFull", std::nullopt}, {"RackPower", std::string("kubelet")}}, m);
  auto started = blocking_changes(quiet, firing);
  ASSERT_EQ(started.size(), 2u);
  EXPECT_EQ(started[0], "blocking started: alert DiskFull fires; every group "
                        "grants nothing new");
  EXPECT_EQ(started[1], "blocking started: alert RackPower fires; "
                        "group=\"kubelet\" grants nothing new");
  EXPECT_TRUE(blocking_changes(firing, firing).empty());
  auto lost = blocking_unavailable("connect: refused", true);
  auto lines = blocking_changes(firing, lost);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "Prometheus gives no usable answer (connect: refused): "
                      "every group is blocked until it does");
  auto back = blocking_changes(lost, quiet);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0], "Prometheus answers again");
}

TEST(prometheus_alerts, the_api_lies_under_the_base_url) {
  EXPECT_EQ(alerts_api_url("http://prom:9090"),
            "http://prom:9090/api/v1/alerts");
  EXPECT_EQ(alerts_api_url("http://prom:9090/"),
            "http://prom:9090/api/v1/alerts");
  EXPECT_EQ(alerts_api_url("https://x/prometheus/"),
            "https://x/prometheus/api/v1/alerts");
}
