// The alert poller under CAF's testing scheduler, GETting a real local HTTP
// server that answers as Prometheus's alerts API, with the real router,
// groups and storage behind it: firing alerts block grants, resolved ones
// let the queue go in order, and answers that are no alerts answer (or no
// answer) block every group or nothing, by the policy.
#include "actors/alert_poller.hpp"

#include <gtest/gtest.h>

#include <caf/all.hpp>

#include "actors/router.hpp"
#include "metrics/service_metrics.hpp"
#include "tests/support/disruption_calls.hpp"
#include "tests/support/ready_endpoint.hpp"
#include "tests/support/stored_actor_fixture.hpp"

using namespace dm;
using namespace std::chrono_literals;
using namespace dm::test::call_names;

namespace {

std::string alerts_answer(const std::string& alerts) {
  return R"({"status":"success","data":{"alerts":[)" + alerts + "]}}";
}

std::string alert(const std::string& name, const std::string& state,
                  const std::string& group = {}) {
  std::string labels = R"("alertname":")" + name + "\"";
  if (!group.empty())
    labels += R"(,"disruption_manager_group":")" + group + "\"";
  return R"({"labels":{)" + labels + R"(},"annotations":{},"state":")" + state +
         R"(","activeAt":"2026-12-06T06:00:00Z","value":"1e+00"})";
}

struct alert_poller_test : test::stored_actor_fixture {
  test::ready_endpoint prometheus;
  router_actor router_handle;
  alert_poller_actor poller;
  std::vector<alert_blocking> heard; // by the replicas' listener
  bool block_when_unavailable = true;

  alert_poller_test() {
    prometheus.status = 200;
    prometheus.set_body(alerts_answer(""), "application/json");
  }
  ~alert_poller_test() override {
    actors.stop(poller, router_handle, storage_handle, timer_handle);
  }

  // The router and the poller as the service starts them.
  void start(const std::string& base, const std::string& pattern = ".*") {
    start_storage();
    auto url = alerts_api_url(base);
    router_handle = actors.system().spawn(
        router, stored_state{}, settings(),
        blocking_before_first_poll(url, block_when_unavailable));
    alert_poll_plan plan;
    plan.url = url;
    std::string error;
    plan.match = std::make_shared<const alert_name_match>(
        *alert_name_match::compile(pattern, error));
    plan.interval = 5s;
    plan.block_when_unavailable = block_when_unavailable;
    plan.fetcher = std::make_shared<http_url_fetcher>();
    plan.listeners.push_back(
        [this](const alert_blocking& now) { heard.push_back(now); });
    poller =
        actors.system().spawn(alert_poller, std::move(plan), router_handle);
    actors.run();
  }

  disruption_state call(request_kind kind, const std::string& host,
                        const std::string& group) {
    return test::answer_of(actors, router_handle, kind, host,
                           std::map<std::string, std::string>{
                               {"DisruptionManagerGroupIdentifier", group}});
  }

  // Prometheus answers `body` from now on; the next poll reads it.
  void answer(const std::string& body) {
    prometheus.set_body(body, "application/json");
    actors.advance(5s);
  }
};

} // namespace

TEST_F(alert_poller_test, firing_alert_blocks_and_resolving_grants_in_order) {
  start(prometheus.url("/"));
  EXPECT_EQ(prometheus.last_path(), "/api/v1/alerts");
  EXPECT_EQ(call(request, "a", "G"), P); // the first answer had no alert
  answer(alerts_answer(alert("DiskFull", "firing")));
  EXPECT_EQ(call(request, "b", "G"), R);
  EXPECT_EQ(call(request, "c", "H"), R);
  EXPECT_EQ(call(cancel, "a", "G"), D);
  EXPECT_EQ(call(check, "b", "G"), R);
  answer(alerts_answer(""));
  EXPECT_EQ(call(check, "b", "G"), P);
  EXPECT_EQ(call(check, "c", "H"), P);
  // Told on each change only: the first answer, firing, resolved.
  ASSERT_EQ(heard.size(), 3u);
  EXPECT_EQ(heard[1].alerts.size(), 1u);
  EXPECT_EQ(heard[1].source, prometheus.url("/api/v1/alerts"));
}

TEST_F(alert_poller_test, labelled_alert_blocks_its_group_and_pending_nothing) {
  start(prometheus.url(""));
  answer(alerts_answer(alert("RackPower", "firing", "G") + "," +
                       alert("SlowBurn", "pending")));
  EXPECT_EQ(call(request, "a", "G"), R);
  EXPECT_EQ(call(request, "b", "H"), P);
  answer(alerts_answer(alert("RackPower", "firing", "G") + "," +
                       alert("SlowBurn", "firing")));
  EXPECT_EQ(call(request, "c", "K"), R); // SlowBurn fires now: every group
  answer(alerts_answer(""));
  EXPECT_EQ(call(check, "a", "G"), P);
  EXPECT_EQ(call(check, "c", "K"), P);
}

TEST_F(alert_poller_test, only_names_matching_in_full_block) {
  start(prometheus.url(""), "Disruption.*");
  answer(alerts_answer(alert("NoDisruption", "firing")));
  EXPECT_EQ(call(request, "a", "G"), P);
  answer(alerts_answer(alert("DisruptionBlock", "firing")));
  EXPECT_EQ(call(request, "b", "H"), R);
}

TEST_F(alert_poller_test, garbage_blocks_every_group_by_default) {
  auto failures = service_metrics::instance().alert_poll_failures.load();
  prometheus.set_body("<html>not an alerts answer</html>", "text/html");
  start(prometheus.url(""));
  EXPECT_EQ(call(request, "a", "G"), R);
  EXPECT_GT(service_metrics::instance().alert_poll_failures.load(), failures);
  ASSERT_FALSE(heard.empty());
  EXPECT_NE(heard.back().trouble.find("not an alerts answer"),
            std::string::npos);
  answer(alerts_answer(""));
  EXPECT_EQ(call(check, "a", "G"), P);
}

TEST_F(alert_poller_test, garbage_blocks_nothing_when_ignored) {
  block_when_unavailable = false;
  prometheus.set_body("{\"status\":\"success\"}");
  start(prometheus.url(""));
  EXPECT_EQ(call(request, "a", "G"), P);
  answer(alerts_answer(alert("DiskFull", "firing")));
  EXPECT_EQ(call(request, "b", "G"), R);
  answer("[]"); // garbage again: the last alerts no longer count
  EXPECT_EQ(call(cancel, "a", "G"), D);
  EXPECT_EQ(call(check, "b", "G"), P);
}

TEST_F(alert_poller_test, unreachable_prometheus_blocks_until_it_answers) {
  // Nothing listens on the port of a server that has just been stopped.
  int port = 0;
  {
    test::ready_endpoint gone;
    port = gone.port;
  }
  start("http://127.0.0.1:" + std::to_string(port));
  EXPECT_EQ(call(request, "a", "G"), R);
  ASSERT_FALSE(heard.empty());
  EXPECT_FALSE(heard.back().trouble.empty());
  EXPECT_TRUE(heard.back().trouble_blocks);
  auto told = heard.size();
  actors.advance(5s); // fails again: nothing new to tell
  EXPECT_EQ(heard.size(), told);
}
