// The group actor under CAF's testing scheduler: calls go to it as the
// router sends them, virtual time drives expiry and ready waits, its
// probers GET a real local HTTP server, and the real storage actor writes
// to a temp directory, so answers are checked against what is on disk.
#include "actors/group.hpp"

#include <gtest/gtest.h>

#include <caf/all.hpp>

#include "actors/router.hpp"
#include "tests/support/disruption_calls.hpp"
#include "tests/support/ready_endpoint.hpp"
#include "tests/support/stored_actor_fixture.hpp"

using namespace dm;
using namespace std::chrono_literals;
using namespace dm::test::call_names;

namespace {

using tag_map = std::map<std::string, std::string>;

struct group_actor_test : test::stored_actor_fixture {
  test::ready_endpoint endpoint;
  router_actor router_handle; // hears of releases
  group_actor group_handle;

  group_actor_test() { boot(); }
  ~group_actor_test() override { shut_down(); }

  // Group "G" as the service starts it: from what the directory holds.
  void boot() {
    auto store = start_storage();
    if (!store)
      return;
    stored_group initial;
    if (auto it = store->loaded().groups.find("G");
        it != store->loaded().groups.end())
      initial = it->second;
    router_handle = actors.system().spawn(router, stored_state{}, settings(),
                                          alert_blocking{});
    group_handle = actors.system().spawn(
        group, "G", initial, std::make_shared<const group_settings>(settings()),
        group_controls{}, router_handle);
    actors.run();
  }

  void shut_down() {
    actors.stop(group_handle, router_handle, storage_handle, timer_handle);
  }

  // Like a crash and restart: the actors go, the directory stays, and the
  // clock goes on.
  void restart() {
    shut_down();
    actors.restart();
    boot();
  }

  disruption_state call(request_kind kind, const std::string& host,
                        tag_map tags = {}) {
    return test::answer_of(actors, group_handle, kind, host, std::move(tags));
  }

  group_view view() {
    return actors.ask<group_view>(group_handle, snapshot_atom::value);
  }

  // The group's state, read between steps of the testing scheduler.
  const group_state& state() {
    auto* raw = caf::actor_cast<caf::abstract_actor*>(group_handle);
    auto* self = dynamic_cast<group_actor::stateful_pointer<group_state>>(raw);
    return self->state;
  }

  std::string state_of(const std::string& host) {
    for (const auto& m : view().machines)
      if (m.host == host)
        return m.state;
    return "denied";
  }

  tag_map ready_url_tags(const std::string& timeout = {}) {
    tag_map tags = {
        {"DisruptionManagerReadyUrl", endpoint.url("/ready/{{.Hostname}}")}};
    if (!timeout.empty())
      tags["DisruptionManagerReadyTimeout"] = timeout;
    return tags;
  }
};

} // namespace

TEST_F(group_actor_test, permit_is_on_disk_when_announced) {
  EXPECT_EQ(call(request, "a"), P);
  auto disk = dir.on_disk();
  ASSERT_TRUE(disk.groups.count("G"));
  EXPECT_TRUE(disk.groups.at("G").hosts.at("a").hold->permitted);
  EXPECT_EQ(call(request, "b"), R);
  EXPECT_FALSE(dir.on_disk().groups.at("G").hosts.at("b").hold->permitted);
  EXPECT_EQ(call(cancel, "a"), D);
  EXPECT_EQ(dir.on_disk().groups.at("G").hosts.count("a"), 0u);
}

TEST_F(group_actor_test, queue_is_served_in_request_order) {
  EXPECT_EQ(call(request, "a"), P);
  for (const char* host : {"q1", "q2", "q3"})
    EXPECT_EQ(call(request, host), R);
  EXPECT_EQ(call(check, "q3"), R);
  EXPECT_EQ(call(cancel, "a"), D);
  EXPECT_EQ(call(check, "q1"), P);
  EXPECT_EQ(call(check, "q2"), R);
  EXPECT_EQ(call(cancel, "q1"), D);
  EXPECT_EQ(call(check, "q3"), R);
  EXPECT_EQ(call(check, "q2"), P);
  auto machines = view().machines;
  ASSERT_EQ(machines.size(), 2u);
  EXPECT_EQ(machines[1].host, "q3");
  EXPECT_EQ(machines[1].queue_position, 1u);
}

TEST_F(group_actor_test, the_record_limit_gives_the_group_more_slots) {
  tag_map two = {{"DisruptionManagerGroupMaximumDisrupting", "2"}};
  EXPECT_EQ(call(request, "a", two), P);
  EXPECT_EQ(call(request, "b", two), P);
  EXPECT_EQ(call(request, "c", two), R);
  EXPECT_EQ(view().limit, 2u);
  EXPECT_EQ(dir.on_disk().groups.at("G").limit, 2u);
}

TEST_F(group_actor_test, timer_expires_permit_and_promotes_without_a_call) {
  EXPECT_EQ(call(request, "a"), P);
  actors.advance(30min);
  EXPECT_EQ(call(request, "b"), R);
  actors.advance(29min);
  EXPECT_EQ(state_of("a"), "permitted");
  actors.advance(2min); // a is 61 minutes old
  EXPECT_EQ(state_of("a"), "denied");
  EXPECT_EQ(state_of("b"), "permitted");
  actors.advance(30min); // b's own hour since its request is over
  EXPECT_EQ(state_of("b"), "denied");
  EXPECT_TRUE(dir.on_disk().groups.empty());
}

TEST_F(group_actor_test, ready_delay_only) {
  tag_map tags = {{"DisruptionManagerReadyTimeout", "10m"}};
  EXPECT_EQ(call(request, "a", tags), P);
  EXPECT_EQ(call(request, "b", tags), R);
  EXPECT_EQ(call(cancel, "a", tags), D);
  EXPECT_EQ(state_of("a"), "waiting");
  actors.advance(9min);
  EXPECT_EQ(state_of("b"), "requested");
  actors.advance(1min + 10ms);
  EXPECT_EQ(state_of("a"), "denied");
  EXPECT_EQ(state_of("b"), "permitted");
  EXPECT_EQ(endpoint.hits, 0);
}

TEST_F(group_actor_test, ready_url_ready_before_timeout) {
  auto tags = ready_url_tags("64m");
  EXPECT_EQ(call(request, "a", tags), P);
  EXPECT_EQ(call(request, "b", tags), R);
  EXPECT_EQ(call(cancel, "a", tags), D);
  EXPECT_EQ(endpoint.hits, 1);
  EXPECT_EQ(endpoint.last_path(), "/ready/a");
  actors.advance(5min);
  EXPECT_GT(endpoint.hits, 2); // probing with back-off
  EXPECT_EQ(state_of("b"), "requested");
  endpoint.status = 200;
  actors.advance(1min); // the back-off is at most 1/64 of 64 minutes
  EXPECT_EQ(state_of("a"), "denied");
  EXPECT_EQ(state_of("b"), "permitted");
}

TEST_F(group_actor_test, ready_url_never_ready_releases_at_timeout) {
  auto tags = ready_url_tags();
  EXPECT_EQ(call(request, "a", tags), P);
  EXPECT_EQ(call(request, "b", tags), R);
  EXPECT_EQ(call(cancel, "a", tags), D);
  actors.advance(14min + 59s); // default timeout: 15 minutes
  EXPECT_EQ(state_of("b"), "requested");
  int probes = endpoint.hits;
  EXPECT_GE(probes, 10);
  actors.advance(2s);
  EXPECT_EQ(state_of("b"), "permitted");
  actors.advance(5min);
  EXPECT_EQ(endpoint.hits, probes); // probing stopped
}

TEST_F(group_actor_test, restart_while_waiting_keeps_waiting) {
  auto tags = ready_url_tags("10m");
  EXPECT_EQ(call(request, "a", tags), P);
  EXPECT_EQ(call(request, "b", tags), R);
  EXPECT_EQ(call(cancel, "a", tags), D);
  actors.advance(2min);
  restart();
  EXPECT_EQ(state_of("a"), "waiting");
  EXPECT_EQ(state_of("b"), "requested");
  int probes = endpoint.hits;
  endpoint.status = 200;
  actors.advance(1min);
  EXPECT_GT(endpoint.hits, probes); // the restored wait probes again
  EXPECT_EQ(state_of("a"), "denied");
  EXPECT_EQ(state_of("b"), "permitted");
}

TEST_F(group_actor_test, bad_gate_is_reported_only_where_a_gate_applied) {
  tag_map bad = {{"DisruptionManagerReadyTimeout", "soon"}};
  EXPECT_EQ(call(request, "a", bad), P);
  EXPECT_EQ(call(request, "b", bad), R);
  EXPECT_EQ(call(cancel, "b", bad), D); // queued: no gate would apply
  EXPECT_TRUE(view().gate_errors.empty());
  EXPECT_EQ(call(cancel, "a", bad), D); // freed a permit: no wait, and told
  EXPECT_EQ(state_of("a"), "denied");
  auto errors = view().gate_errors;
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].rfind("a: DisruptionManagerReadyTimeout: ", 0), 0u)
      << errors[0];
}

// What a group needs only while busy is held apart, and dropped once it
// holds nothing (docs/performance.md, "A million machines: where memory
// and start-up time go"); recent gate errors stay to be shown.
TEST_F(group_actor_test, an_idle_group_holds_no_traffic_state) {
  EXPECT_EQ(state().traffic_if_any(), nullptr);
  EXPECT_EQ(call(check, "a"), D);
  EXPECT_EQ(state().traffic_if_any(), nullptr);
  EXPECT_EQ(call(request, "a"), P);
  ASSERT_NE(state().traffic_if_any(), nullptr);
  EXPECT_EQ(state().traffic_if_any()->machines.count("a"), 1u);
  EXPECT_EQ(call(cancel, "a"), D);
  EXPECT_EQ(state().traffic_if_any(), nullptr);
  tag_map bad = {{"DisruptionManagerReadyTimeout", "soon"}};
  EXPECT_EQ(call(request, "a", bad), P);
  EXPECT_EQ(call(cancel, "a", bad), D);
  ASSERT_NE(state().traffic_if_any(), nullptr);
  EXPECT_TRUE(state().traffic_if_any()->machines.empty());
  EXPECT_EQ(view().gate_errors.size(), 1u);
  // A machine that asked has its slot again: a release finds its gate.
  EXPECT_EQ(call(request, "b"), P);
  auto released = actors.ask<admin_result>(group_handle, release_atom::value,
                                           std::string("b"), false);
  EXPECT_EQ(released.status, 200);
  EXPECT_EQ(released.detail, "no ready gate in the machine's record");
  EXPECT_EQ(state_of("b"), "denied");
}

TEST_F(group_actor_test, cycling_keeps_one_timer_per_group) {
  // Each request sets a deadline an hour out; a timer already set for the
  // group covers the next one, however many cycles come.
  for (int i = 0; i < 200; ++i) {
    EXPECT_EQ(call(request, "a"), P);
    EXPECT_EQ(call(cancel, "a"), D);
    actors.advance(10ms);
  }
  EXPECT_LE(actors.scheduler().clock().schedule().size(), 2u);
  // And the timer still ends the last permit an hour after its request.
  EXPECT_EQ(call(request, "a"), P);
  actors.advance(59min);
  EXPECT_EQ(call(check, "a"), P);
  actors.advance(2min);
  EXPECT_EQ(state_of("a"), "denied");
}
