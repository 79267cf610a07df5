// The prober actor under CAF's testing scheduler, GETting a real local HTTP
// server with the real HTTP client: it reports a machine ready once its URL
// answers 200, backs off between tries, and gives up when the wait ends.
#include "actors/prober.hpp"

#include <gtest/gtest.h>

#include <caf/all.hpp>

#include "metrics/service_metrics.hpp"
#include "tests/support/ready_endpoint.hpp"
#include "tests/support/virtual_time_system.hpp"

using namespace dm;
using namespace std::chrono_literals;

namespace {

// What the group hears from a prober.
struct ready_report {
  std::string host;
  std::uint64_t wait_id = 0;
};

struct prober_actor_test : ::testing::Test {
  test::ready_endpoint endpoint;
  test::virtual_time_system actors;
  std::shared_ptr<std::vector<ready_report>> reports =
      std::make_shared<std::vector<ready_report>>();
  caf::actor group_end; // where the prober's reports arrive
  prober_actor probe;

  prober_actor_test() {
    // (`reports` as an argument: CAF 0.17 spawns with none through a null
    // pointer; docs/architecture.md, "Spawning".)
    group_end = actors.system().spawn(
        [](std::shared_ptr<std::vector<ready_report>> reports) {
          return caf::behavior{
              [reports](ready_atom, const std::string& host, std::uint64_t id) {
                reports->push_back({host, id});
              }};
        },
        reports);
  }

  ~prober_actor_test() override { actors.stop(probe, group_end); }

  // Starts probing `url` for machine "m", wait 42, for a wait of `timeout`
  // from now.
  void start_url(const std::string& url, caf::timespan timeout) {
    probe_plan plan;
    plan.host = "m";
    plan.url = url;
    plan.wait_id = 42;
    auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
        actors.now().time_since_epoch());
    plan.deadline_ns = (now + timeout).count();
    plan.fetcher = std::make_shared<http_url_fetcher>();
    probe = actors.system().spawn(
        prober, caf::actor_cast<group_actor>(group_end), std::move(plan));
    actors.run();
  }

  // The same for `path` on the endpoint.
  void start(const std::string& path, caf::timespan timeout) {
    start_url(endpoint.url(path), timeout);
  }
};

} // namespace

TEST_F(prober_actor_test, reports_ready_once_the_url_answers_200) {
  // A 64-minute wait: tries 3.75 s apart at first, doubling up to a minute.
  start("/ready/m?wait=42", 64min);
  EXPECT_EQ(endpoint.hits, 1); // at once
  EXPECT_EQ(endpoint.last_target(), "/ready/m?wait=42");
  actors.advance(3s);
  EXPECT_EQ(endpoint.hits, 1);
  actors.advance(1s); // 3.75 s
  EXPECT_EQ(endpoint.hits, 2);
  actors.advance(7s); // 11.25 s
  EXPECT_EQ(endpoint.hits, 2);
  actors.advance(1s);
  EXPECT_EQ(endpoint.hits, 3);
  EXPECT_TRUE(reports->empty());
  endpoint.status = 200;
  actors.advance(15s); // 26.25 s
  EXPECT_EQ(endpoint.hits, 4);
  ASSERT_EQ(reports->size(), 1u);
  EXPECT_EQ(reports->at(0).host, "m");
  EXPECT_EQ(reports->at(0).wait_id, 42u);
  // Done: no more tries, no second report.
  actors.advance(10min);
  EXPECT_EQ(endpoint.hits, 4);
  EXPECT_EQ(reports->size(), 1u);
}

TEST_F(prober_actor_test, only_200_counts_as_ready) {
  start("/ready", 64min);
  for (int status : {204, 301, 404, 500}) {
    endpoint.status = status;
    actors.advance(2min);
  }
  EXPECT_GE(endpoint.hits, 6);
  EXPECT_TRUE(reports->empty());
  endpoint.status = 200;
  actors.advance(1min);
  EXPECT_EQ(reports->size(), 1u);
}

TEST_F(prober_actor_test, gives_up_without_a_report_when_the_wait_ends) {
  start("/ready", 1min);
  actors.advance(59s);
  int hits = endpoint.hits;
  EXPECT_GE(hits, 10); // a minute's back-off: at most 0.94 s
  actors.advance(2s);
  hits = endpoint.hits;
  endpoint.status = 200; // too late
  actors.advance(10min);
  EXPECT_EQ(endpoint.hits, hits);
  EXPECT_TRUE(reports->empty());
}

TEST_F(prober_actor_test, a_refused_connection_is_tried_again_until_the_end) {
  // Port 1 on loopback: nothing listens there, the connection is refused.
  auto& probes = service_metrics::instance().probes;
  auto before = probes.load();
  start_url("http://127.0.0.1:1/ready", 10min);
  actors.advance(9min);
  auto tried = probes.load() - before;
  EXPECT_GE(tried, 10u);
  actors.advance(2min);
  auto at_end = probes.load() - before;
  actors.advance(10min);
  EXPECT_EQ(probes.load() - before, at_end); // the prober is gone
  EXPECT_TRUE(reports->empty());
}

// The original's polling: up to 1/64 of the timeout, at most 5 minutes,
// starting from 1/16 of that bound.
TEST(probe_backoff, follows_the_original) {
  auto hour = backoff_for(1h);
  EXPECT_EQ(hour.first, std::chrono::nanoseconds(1h) / 1024);
  EXPECT_EQ(hour.most, std::chrono::nanoseconds(1h) / 64);
  auto long_wait = backoff_for(10h);
  EXPECT_EQ(long_wait.most, std::chrono::nanoseconds(5min));
  EXPECT_EQ(long_wait.first, std::chrono::nanoseconds(5min) / 16);
  // Never more often than once a millisecond.
  auto short_wait = backoff_for(100ms);
  EXPECT_EQ(short_wait.first, std::chrono::nanoseconds(1ms));
  EXPECT_EQ(short_wait.most, std::chrono::nanoseconds(100ms) / 64);
  auto tiny_wait = backoff_for(10ms);
  EXPECT_EQ(tiny_wait.first, std::chrono::nanoseconds(1ms));
  EXPECT_EQ(tiny_wait.most, std::chrono::nanoseconds(1ms));
}
