// The router under CAF's testing scheduler, with the real group and storage
// actors behind it writing to a temp directory: calls find their group,
// machines moving between groups leave the old one, the state comes back
// after a restart, and the pages (through the gatherer) see every group in
// order.
#include "actors/router.hpp"

#include <gtest/gtest.h>

#include <caf/all.hpp>

#include <random>

#include "actors/gatherer.hpp"
#include "tests/support/disruption_calls.hpp"
#include "tests/support/ready_endpoint.hpp"
#include "tests/support/stored_actor_fixture.hpp"
#include "tests/support/window_specs.hpp"

using namespace dm;
using namespace std::chrono_literals;
using namespace dm::test::call_names;

namespace {

using tag_map = std::map<std::string, std::string>;

struct router_actor_test : test::stored_actor_fixture {
  router_actor router_handle;
  gatherer_actor gatherer_handle;
  std::chrono::nanoseconds max_duration = 1h;
  alert_blocking alerts; // what alerts block at start

  router_actor_test() { boot(); }
  ~router_actor_test() override { shut_down(); }

  // The router as the service starts it: from what the directory holds.
  void boot() {
    if (auto store = start_storage()) {
      auto s = settings();
      s.max_duration = max_duration;
      router_handle = actors.system().spawn(router, store->loaded(), s, alerts);
      gatherer_handle =
          actors.system().spawn(gatherer, router_handle, gather_limits{});
    }
    actors.run();
  }

  void shut_down() {
    actors.stop(gatherer_handle, router_handle, storage_handle, timer_handle);
  }

  // Like a crash and restart: the actors go, the directory stays, and the
  // clock goes on.
  void restart() {
    shut_down();
    actors.restart();
    boot();
  }

  disruption_state call(request_kind kind, const std::string& host,
                        const std::string& group = "G") {
    return call(kind, host,
                tag_map{{"DisruptionManagerGroupIdentifier", group}});
  }

  disruption_state call(request_kind kind, const std::string& host,
                        tag_map tags) {
    return test::answer_of(actors, router_handle, kind, host, std::move(tags));
  }

  state_view snapshot() {
    auto gathered =
        actors.ask<gathered_state>(gatherer_handle, snapshot_atom::value);
    if (!gathered.view) {
      ADD_FAILURE() << gathered.error;
      return {};
    }
    return *gathered.view;
  }

  std::string state_of(const std::string& host) {
    for (const auto& g : snapshot().groups)
      for (const auto& m : g.machines)
        if (m.host == host)
          return m.state;
    return "denied";
  }
};

} // namespace

TEST_F(router_actor_test, groups_decide_apart) {
  EXPECT_EQ(call(request, "a", "G"), P);
  EXPECT_EQ(call(request, "b", "H"), P);
  EXPECT_EQ(call(request, "c", "G"), R);
  EXPECT_EQ(call(check, "b", "H"), P);
  auto disk = dir.on_disk();
  EXPECT_EQ(disk.groups.size(), 2u);
  EXPECT_EQ(disk.groups.at("H").hosts.count("b"), 1u);
}

TEST_F(router_actor_test, machine_moving_group_is_cancelled_in_the_old_one) {
  EXPECT_EQ(call(request, "a"), P);
  EXPECT_EQ(call(request, "b"), R);
  EXPECT_EQ(call(request, "a", "H"), P);
  EXPECT_EQ(call(check, "b"), P);
  auto view = snapshot();
  ASSERT_EQ(view.groups.size(), 2u);
  EXPECT_EQ(view.groups[0].identifier, "G");
  ASSERT_EQ(view.groups[0].machines.size(), 1u);
  EXPECT_EQ(view.groups[0].machines[0].host, "b");
  EXPECT_EQ(view.groups[1].identifier, "H");
  ASSERT_EQ(view.groups[1].machines.size(), 1u);
  EXPECT_EQ(view.groups[1].machines[0].host, "a");
  EXPECT_EQ(dir.on_disk().groups.at("G").hosts.count("a"), 0u);
}

TEST_F(router_actor_test, any_call_naming_another_group_leaves_the_old_one) {
  // The record's group is where the machine is now: even a check naming
  // another group takes it out of the old group's queue.
  EXPECT_EQ(call(request, "a"), P);
  EXPECT_EQ(call(request, "b"), R);
  EXPECT_EQ(call(check, "b", "H"), D);
  EXPECT_EQ(call(cancel, "a"), D);
  EXPECT_EQ(call(check, "b"), D);
  EXPECT_EQ(dir.on_disk().groups.size(), 0u);
}

TEST_F(router_actor_test, queue_order_survives_restart) {
  EXPECT_EQ(call(request, "a"), P);
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(call(request, "q" + std::to_string(i)), R);
  restart();
  EXPECT_EQ(call(check, "a"), P);
  EXPECT_EQ(call(request, "late"), R);
  for (int i = 0; i < 5; ++i) {
    auto holder = i == 0 ? std::string("a") : "q" + std::to_string(i - 1);
    EXPECT_EQ(call(cancel, holder), D);
    EXPECT_EQ(call(check, "q" + std::to_string(i)), P);
    EXPECT_EQ(call(check, "late"), R);
  }
}

TEST_F(router_actor_test, restored_permits_still_expire) {
  EXPECT_EQ(call(request, "a"), P);
  actors.advance(30min);
  EXPECT_EQ(call(request, "b"), R);
  restart();
  actors.advance(29min);
  EXPECT_EQ(call(check, "a"), P);
  actors.advance(2min); // a's hour is over, b's is not
  EXPECT_EQ(call(check, "a"), D);
  EXPECT_EQ(call(check, "b"), P);
}

TEST_F(router_actor_test, snapshot_lists_groups_in_order_without_empty_ones) {
  EXPECT_EQ(snapshot().groups.size(), 0u);
  for (const char* group : {"zeta", "alpha", "mid"})
    EXPECT_EQ(call(request, "m-" + std::string(group), group), P);
  EXPECT_EQ(call(cancel, "m-mid", "mid"), D);
  auto view = snapshot();
  ASSERT_EQ(view.groups.size(), 2u);
  EXPECT_EQ(view.groups[0].identifier, "alpha");
  EXPECT_EQ(view.groups[1].identifier, "zeta");
  EXPECT_EQ(view.groups[1].permitted, 1u);
}

// A check with a new group name must not start a group actor that lives
// forever and saves the limit, or checks alone grow memory and the state.
TEST_F(router_actor_test, check_creates_no_permanent_group) {
  auto running = actors.system().registry().running();
  for (int i = 0; i < 200; ++i)
    EXPECT_EQ(
        call(check, "x" + std::to_string(i % 7),
             {{"DisruptionManagerGroupIdentifier", "g" + std::to_string(i)},
              {"DisruptionManagerGroupMaximumDisrupting", "5"}}),
        D);
  EXPECT_EQ(call(cancel, "x1", "c"), D);
  EXPECT_EQ(actors.system().registry().running(), running);
  EXPECT_TRUE(dir.on_disk().groups.empty());
  EXPECT_TRUE(snapshot().groups.empty());
}

TEST_F(router_actor_test, group_without_machines_is_reclaimed) {
  auto running = actors.system().registry().running();
  tag_map tags = {{"DisruptionManagerGroupMaximumDisrupting", "5"},
                  {"DisruptionManagerReadyTimeout", "10m"}};
  EXPECT_EQ(call(request, "a", tags), P);
  EXPECT_EQ(actors.system().registry().running(), running + 1);
  EXPECT_EQ(dir.on_disk().groups.at("G").limit, 5u);
  // A waiting machine still holds a slot: the group and its limit stay.
  EXPECT_EQ(call(cancel, "a", tags), D);
  EXPECT_EQ(state_of("a"), "waiting");
  EXPECT_EQ(actors.system().registry().running(), running + 1);
  EXPECT_EQ(dir.on_disk().groups.at("G").limit, 5u);
  actors.advance(10min + 10ms);
  EXPECT_EQ(state_of("a"), "denied");
  EXPECT_EQ(actors.system().registry().running(), running);
  EXPECT_TRUE(dir.on_disk().groups.empty());
  // A machine that moves away takes the group with it.
  EXPECT_EQ(call(request, "b", tags), P);
  EXPECT_EQ(call(request, "b", "H"), P);
  EXPECT_EQ(actors.system().registry().running(), running + 1);
  EXPECT_EQ(dir.on_disk().groups.count("G"), 0u);
  EXPECT_EQ(call(cancel, "b", "H"), D);
  EXPECT_EQ(actors.system().registry().running(), running);
  // Retired groups leave no wake-up of their own behind in CAF's clock
  // (the timer's, superseded or not, are at most two here; the gatherer's
  // deadline check for the last page one).
  EXPECT_LE(actors.scheduler().clock().schedule().size(), 3u);
}

// Finding: each group was linked to the router, and CAF removes a link by
// walking the router's list of them from the start: 100,000 groups
// retiring at once (a restart after an outage, every permit lapsed) kept
// the router busy for minutes and the stop took 110 s. Groups are not
// linked now; the router ends them when it ends.
TEST_F(router_actor_test, groups_end_with_the_router) {
  auto running = actors.system().registry().running();
  EXPECT_EQ(call(request, "a", "G1"), P);
  EXPECT_EQ(call(request, "b", "G2"), P);
  EXPECT_EQ(call(request, "c", "G3"), P);
  EXPECT_EQ(actors.system().registry().running(), running + 3);
  actors.stop(gatherer_handle, router_handle);
  // The router, the gatherer and the three groups are gone.
  EXPECT_EQ(actors.system().registry().running(), running - 2);
}

// Groups are reclaimed when they know no machine and come back on the next
// request; the answers must be those of groups that stayed forever (plain
// books here), across restarts too (so the limit is saved whenever the disk
// may have dropped it).
TEST_F(router_actor_test, reclaimed_group_decides_as_if_it_had_stayed) {
  std::mt19937_64 random(20261206);
  auto pick = [&](std::size_t n) {
    return static_cast<std::size_t>(random() % n);
  };
  std::map<std::string, group_book> books;
  auto now = [&] {
    return timestamp{std::chrono::duration_cast<std::chrono::nanoseconds>(
        actors.now().time_since_epoch())};
  };
  std::size_t answers[4] = {0, 0, 0, 0};
  for (int step = 0; step < 3000; ++step) {
    std::string host = "m" + std::to_string(pick(6));
    std::string group = "g" + std::to_string(pick(4));
    std::uint64_t limit =
        pick(4) == 0 ? 1 + pick(3) : 1 + (group.back() - '0') % 3;
    tag_map tags = {
        {"DisruptionManagerGroupIdentifier", group},
        {"DisruptionManagerGroupMaximumDisrupting", std::to_string(limit)}};
    std::optional<ready_gate> gate;
    auto kind = static_cast<request_kind>(pick(3));
    if (kind == cancel && pick(2) == 0) {
      auto minutes = 1 + pick(30);
      tags["DisruptionManagerReadyTimeout"] = std::to_string(minutes) + "m";
      gate = ready_gate{std::chrono::minutes(minutes), ""};
    }
    switch (pick(10)) {
    case 0:
      actors.advance(std::chrono::minutes(pick(40)));
      continue;
    case 1:
      restart();
      continue;
    default:
      break;
    }
    auto t = now();
    for (auto& [other, book] : books)
      if (other != group)
        book.evict(host, t);
    auto it = books.find(group);
    if (it == books.end())
      it = books.emplace(group, group_book(group, 1h)).first;
    auto expected = it->second.operate(kind, host, limit, gate, t);
    ASSERT_EQ(call(kind, host, tags), expected) << "step " << step;
    ++answers[static_cast<int>(expected)];
  }
  EXPECT_GT(answers[1], 100u);
  EXPECT_GT(answers[2], 100u);
  EXPECT_GT(answers[3], 100u);
}

namespace {

// Wall time as in 2026, from where sums with Go's largest durations
// (2562047h47m16.854775807s) pass the last instant 64 bits of nanoseconds
// hold (docs/semantics.md, "Edges").
struct router_actor_test_today : router_actor_test {
  explicit router_actor_test_today(caf::timespan clock_at = caf::timespan{0}) {
    wall_offset = std::chrono::hours(500000) - clock_at;
    shut_down();
    actors.restart();
    actors.scheduler().clock().current_time =
        caf::actor_clock::time_point{clock_at};
    boot();
  }
  void reboot_with_max_duration(std::chrono::nanoseconds max) {
    max_duration = max;
    restart();
  }
  // Whether every timer of the actor clock lies ahead: a delay that wrapped
  // would sit in the past and fire at once.
  bool timers_all_ahead() {
    auto& clock = actors.scheduler().clock();
    for (const auto& entry : clock.schedule())
      if (entry.first <= clock.now())
        return false;
    return true;
  }
  // One step of virtual time, however long, and what it made due.
  void jump(caf::timespan d) {
    actors.scheduler().clock().advance_time(d);
    actors.run();
  }
};

// The actor clock itself far along (a host up for decades, as far as
// nanosecond counts go): a timer for a wait of centuries would wrap there.
struct router_actor_test_late_clock : router_actor_test_today {
  router_actor_test_late_clock()
      : router_actor_test_today(
            std::chrono::nanoseconds(3'000'000'000'000'000'000)) {}
  test::ready_endpoint endpoint;
};

const char* const huge_ready_timeouts[] = {
    "2100000h", "2562047h47m16.854775807s", "9223372036854775807ns"};

} // namespace

TEST_F(router_actor_test_today, huge_maximum_duration_never_lapses) {
  for (auto max :
       {std::chrono::nanoseconds(2500000h), std::chrono::nanoseconds::max()}) {
    reboot_with_max_duration(max);
    std::string a = "a" + std::to_string(max.count());
    std::string b = "b" + std::to_string(max.count());
    EXPECT_EQ(call(request, a), P);
    actors.advance(300ms);
    EXPECT_EQ(call(check, a), P) << max.count();
    EXPECT_EQ(call(request, b), R) << max.count();
    EXPECT_TRUE(timers_all_ahead());
    // A day and more in one step: whatever timer is set fires, and the
    // permit and the queue stay.
    jump(25h);
    EXPECT_EQ(state_of(a), "permitted") << max.count();
    EXPECT_EQ(state_of(b), "requested") << max.count();
    EXPECT_TRUE(timers_all_ahead());
    EXPECT_EQ(call(cancel, a), D);
    EXPECT_EQ(call(check, b), P);
    EXPECT_EQ(call(cancel, b), D);
  }
}

TEST_F(router_actor_test_today, huge_ready_timeout_holds_the_slot) {
  for (const char* timeout : huge_ready_timeouts) {
    tag_map tags = {{"DisruptionManagerGroupIdentifier", timeout},
                    {"DisruptionManagerReadyTimeout", timeout}};
    std::string a = std::string("a-") + timeout;
    std::string b = std::string("b-") + timeout;
    EXPECT_EQ(call(request, a, tags), P);
    EXPECT_EQ(call(cancel, a, tags), D);
    actors.advance(300ms);
    EXPECT_EQ(call(request, b, tags), R) << timeout;
    EXPECT_EQ(state_of(a), "waiting") << timeout;
    EXPECT_TRUE(timers_all_ahead()) << timeout;
    jump(25h);
    EXPECT_EQ(state_of(a), "waiting") << timeout;
    EXPECT_TRUE(timers_all_ahead()) << timeout;
    // Saved with the last deadline a state file holds, 2200-01-01.
    auto disk = dir.on_disk();
    ASSERT_TRUE(disk.groups.count(timeout) &&
                disk.groups.at(timeout).hosts.count(a))
        << timeout;
    auto& saved = disk.groups.at(timeout).hosts.at(a);
    ASSERT_TRUE(saved.wait);
    EXPECT_EQ(saved.wait->deadline, latest_wait_deadline);
  }
  // And after a restart the machines still wait.
  restart();
  for (const char* timeout : huge_ready_timeouts)
    EXPECT_EQ(state_of(std::string("a-") + timeout), "waiting") << timeout;
}

TEST_F(router_actor_test_today, ready_timeout_beyond_gos_largest_applies_none) {
  // Go's ParseDuration refuses it, so the original holds no slot for it.
  tag_map tags = {
      {"DisruptionManagerGroupIdentifier", "G"},
      {"DisruptionManagerReadyTimeout", "2562047h47m16.854775808s"}};
  EXPECT_EQ(call(request, "a", tags), P);
  EXPECT_EQ(call(cancel, "a", tags), D);
  EXPECT_EQ(call(request, "b", tags), P);
}

TEST_F(router_actor_test_late_clock,
       huge_ready_timeout_sets_no_timer_that_wraps) {
  for (const char* timeout : huge_ready_timeouts) {
    tag_map tags = {
        {"DisruptionManagerGroupIdentifier", timeout},
        {"DisruptionManagerReadyTimeout", timeout},
        {"DisruptionManagerReadyUrl", endpoint.url("/ready/{{.Hostname}}")}};
    std::string a = std::string("a-") + timeout;
    std::string b = std::string("b-") + timeout;
    EXPECT_EQ(call(request, a, tags), P);
    EXPECT_EQ(call(cancel, a, tags), D);
    EXPECT_EQ(call(request, b, tags), R) << timeout;
    EXPECT_TRUE(timers_all_ahead()) << timeout;
    int probes = endpoint.hits;
    actors.advance(10s);
    EXPECT_EQ(state_of(a), "waiting") << timeout;
    EXPECT_EQ(state_of(b), "requested") << timeout;
    EXPECT_TRUE(timers_all_ahead()) << timeout;
    // Probes go on, spaced by the back-off's ceiling of five minutes.
    jump(6min);
    EXPECT_GT(endpoint.hits, probes) << timeout;
    EXPECT_TRUE(timers_all_ahead()) << timeout;
    EXPECT_EQ(call(cancel, b, tags), D);
    // Past the hour a's own request set a timer for, the wait's deadline
    // is all the group has left to time.
    jump(61min);
    EXPECT_EQ(state_of(a), "waiting") << timeout;
    EXPECT_TRUE(timers_all_ahead()) << timeout;
  }
}

// Operators' commands (docs/semantics.md, "Operator control"): saved before
// they are answered, obeyed by every group, kept across restarts.
namespace {

struct router_admin_test : router_actor_test {
  admin_result admin(admin_operation op, const std::string& target = {},
                     std::uint64_t limit = 0, bool skip_gate = false) {
    admin_command cmd;
    cmd.operation = op;
    if (op == admin_operation::release)
      cmd.host = target;
    else
      cmd.group = target;
    cmd.limit = limit;
    cmd.skip_ready_gate = skip_gate;
    cmd.who = "operator";
    cmd.reason = "test";
    return actors.ask<admin_result>(router_handle, admin_atom::value, cmd);
  }
};

} // namespace

TEST_F(router_admin_test, pause_is_durable_when_answered_and_resume_grants) {
  EXPECT_EQ(call(request, "a"), P);
  EXPECT_EQ(admin(admin_operation::pause, "G").status, 200);
  // On disk before the answer came.
  EXPECT_TRUE(dir.on_disk().admin.groups.at("G").paused);
  EXPECT_EQ(call(cancel, "a"), D);
  EXPECT_EQ(call(request, "b"), R);
  EXPECT_EQ(call(request, "c"), R);
  EXPECT_EQ(call(request, "x", "H"), P); // other groups go on
  restart();
  EXPECT_EQ(call(check, "b"), R); // still paused after a restart
  EXPECT_EQ(admin(admin_operation::resume, "G").status, 200);
  EXPECT_EQ(call(check, "b"), P);
  EXPECT_EQ(call(check, "c"), R);
  EXPECT_TRUE(dir.on_disk().admin.groups.empty());
}

TEST_F(router_admin_test, freeze_stops_every_group_and_thaw_lets_go) {
  EXPECT_EQ(admin(admin_operation::freeze).status, 200);
  EXPECT_EQ(call(request, "a", "G"), R);
  EXPECT_EQ(call(request, "b", "H"), R); // a group started while frozen
  restart();
  EXPECT_EQ(call(check, "a", "G"), R);
  EXPECT_EQ(admin(admin_operation::thaw).status, 200);
  EXPECT_EQ(call(check, "a", "G"), P);
  EXPECT_EQ(call(check, "b", "H"), P);
}

TEST_F(router_admin_test, limit_override_wins_until_cleared_and_survives) {
  EXPECT_EQ(admin(admin_operation::limit, "G", 2).status, 200);
  EXPECT_EQ(call(request, "a"), P);
  EXPECT_EQ(call(request, "b"), P);
  EXPECT_EQ(call(request, "c"), R);
  restart();
  EXPECT_EQ(call(check, "b"), P);
  EXPECT_EQ(call(check, "c"), R);
  // The pages see the limit that decides, where it comes from, and the
  // settings.
  auto view = snapshot();
  ASSERT_EQ(view.groups.size(), 1u);
  EXPECT_EQ(view.groups[0].limit, 2u);
  EXPECT_EQ(view.groups[0].tag_limit, 1u);
  EXPECT_EQ(view.groups[0].controls.limit_override, 2u);
  EXPECT_EQ(view.admin.groups.at("G").limit_override, 2u);
  EXPECT_EQ(admin(admin_operation::limit, "G", 0).status, 200); // clear
  EXPECT_EQ(call(cancel, "a"), D);
  EXPECT_EQ(call(check, "c"), R); // back to the tag's 1: b holds it
  EXPECT_EQ(call(cancel, "b"), D);
  EXPECT_EQ(call(check, "c"), P);
}

TEST_F(router_admin_test, release_applies_the_ready_gate_unless_skipped) {
  tag_map gated = {{"DisruptionManagerGroupIdentifier", "G"},
                   {"DisruptionManagerReadyTimeout", "10m"}};
  EXPECT_EQ(call(request, "a", gated), P);
  EXPECT_EQ(call(request, "b", gated), R);
  auto released = admin(admin_operation::release, "a");
  EXPECT_EQ(released.status, 200);
  EXPECT_EQ(released.detail, "ready gate applied");
  EXPECT_EQ(state_of("a"), "waiting");
  EXPECT_EQ(call(check, "b", gated), R);
  actors.advance(10min);
  EXPECT_EQ(call(check, "b", gated), P);
  auto skipped = admin(admin_operation::release, "b", 0, true);
  EXPECT_EQ(skipped.detail, "ready gate skipped");
  EXPECT_EQ(state_of("b"), "denied");
  EXPECT_EQ(dir.on_disk().groups.count("G"), 0u);
}

TEST_F(router_admin_test, release_of_an_unknown_host_is_refused_unrecorded) {
  auto result = admin(admin_operation::release, "ghost");
  EXPECT_EQ(result.status, 404);
  EXPECT_EQ(result.error, "host \"ghost\" holds no permit or request");
  EXPECT_TRUE(dir.on_disk().admin.audit.empty());
}

TEST_F(router_admin_test, audit_trail_keeps_who_what_when_and_why) {
  EXPECT_EQ(call(request, "a"), P);
  admin(admin_operation::pause, "G");
  admin(admin_operation::limit, "G", 5);
  admin(admin_operation::release, "a");
  restart();
  const auto audit = dir.on_disk().admin.audit;
  ASSERT_EQ(audit.size(), 3u);
  EXPECT_EQ(audit[0].operation, "pause");
  EXPECT_EQ(audit[0].target, "G");
  EXPECT_EQ(audit[0].who, "operator");
  EXPECT_EQ(audit[0].reason, "test");
  EXPECT_EQ(audit[1].detail, "5");
  EXPECT_EQ(audit[2].operation, "release");
  EXPECT_EQ(audit[2].target, "a");
  EXPECT_LE(audit[0].when, audit[2].when);
  EXPECT_EQ(snapshot().admin.audit.size(), 3u);
  auto status = actors.ask<admin_result>(router_handle, admin_atom::value,
                                         admin_command{});
  EXPECT_EQ(status.view.admin.audit.size(), 3u);
}

// Maintenance windows (docs/semantics.md, "Maintenance windows"): an
// operator's windows are durable when answered, survive a restart, and the
// group's own timer grants its queue when a window opens.
namespace {

struct router_window_test : router_admin_test {
  router_window_test() {
    max_duration = 240h;
    restart();
  }

  // The time the actors read.
  timestamp wall() {
    return timestamp{std::chrono::duration_cast<std::chrono::nanoseconds>(
                         actors.now().time_since_epoch()) +
                     wall_offset};
  }

  admin_result window(const std::string& group, const std::string& spec) {
    admin_command cmd;
    cmd.operation = admin_operation::window;
    cmd.group = group;
    if (spec != "clear") {
      std::string error;
      cmd.windows = window_schedule::parse(spec, error);
      EXPECT_TRUE(cmd.windows) << error;
    }
    cmd.who = "operator";
    cmd.reason = "test";
    return actors.ask<admin_result>(router_handle, admin_atom::value, cmd);
  }
};

} // namespace

TEST_F(router_window_test,
       the_queue_is_granted_in_order_when_the_window_opens) {
  // A window from ten minutes ahead, for an hour.
  auto spec = test::utc_window_at(wall() + 10min, 60min);
  EXPECT_EQ(window("G", spec).status, 200);
  EXPECT_EQ(dir.on_disk().admin.groups.at("G").windows->spec(), spec);
  EXPECT_EQ(call(request, "a"), R);
  EXPECT_EQ(call(request, "b"), R);
  EXPECT_EQ(call(request, "x", "H"), P); // other groups go on
  restart();
  EXPECT_EQ(call(check, "a"), R); // still closed after a restart
  auto view = snapshot();
  ASSERT_EQ(view.groups.size(), 2u);
  EXPECT_EQ(view.groups[0].windows, spec);
  EXPECT_TRUE(view.groups[0].windows_from_operator);
  EXPECT_TRUE(view.groups[0].controls.outside_window);
  EXPECT_NE(view.groups[0].window_change_ns, 0);
  // No call comes: the group's timer grants the head of the queue.
  actors.advance(11min, 1min);
  auto disk = dir.on_disk();
  EXPECT_TRUE(disk.groups.at("G").hosts.at("a").hold->permitted);
  EXPECT_FALSE(disk.groups.at("G").hosts.at("b").hold->permitted);
  EXPECT_EQ(call(check, "b"), R);
  EXPECT_EQ(call(cancel, "a"), D);
  EXPECT_EQ(call(check, "b"), P);
  // Past the window: permits stay, nothing new is granted.
  actors.advance(60min, 1min);
  EXPECT_EQ(call(check, "b"), P);
  EXPECT_EQ(call(request, "c"), R);
  // Cleared: the queue goes on at once.
  EXPECT_EQ(window("G", "clear").status, 200);
  EXPECT_TRUE(dir.on_disk().admin.groups.empty());
  EXPECT_EQ(call(cancel, "b"), D);
  EXPECT_EQ(call(check, "c"), P);
  const auto& audit = dir.on_disk().admin.audit;
  ASSERT_GE(audit.size(), 2u);
  EXPECT_EQ(audit[audit.size() - 2].operation, "window");
  EXPECT_EQ(audit[audit.size() - 2].detail, spec);
  EXPECT_EQ(audit.back().detail, "clear");
}

TEST_F(router_window_test, the_records_tag_gives_windows_and_is_saved) {
  auto spec = test::utc_window_at(wall() + 10min, 60min);
  tag_map tagged = {{"DisruptionManagerGroupIdentifier", "G"},
                    {"DisruptionManagerMaintenanceWindow", spec}};
  EXPECT_EQ(call(request, "a", tagged), R);
  EXPECT_EQ(dir.on_disk().groups.at("G").windows, spec);
  restart();
  // Restored from the disk: the group stays closed, then opens on time.
  actors.advance(9min, 1min);
  EXPECT_FALSE(dir.on_disk().groups.at("G").hosts.at("a").hold->permitted);
  actors.advance(2min, 1min);
  EXPECT_TRUE(dir.on_disk().groups.at("G").hosts.at("a").hold->permitted);
  // An operator's window wins: closed for the next hour.
  EXPECT_EQ(window("G", test::utc_window_at(wall() + 2h, 60min)).status, 200);
  EXPECT_EQ(call(request, "b", tagged), R);
  EXPECT_EQ(snapshot().groups[0].windows_from_operator, true);
}

// Blocking alerts (docs/semantics.md, "Blocking alerts"): what the alert
// poller tells the router holds every group, or the labelled one, back;
// it is never saved.
namespace {

struct router_alerts_test : router_actor_test {
  static alert_blocking firing(std::vector<blocking_alert> alerts) {
    alert_blocking blocking;
    blocking.source = "http://prometheus:9090/api/v1/alerts";
    blocking.alerts = std::move(alerts);
    return blocking;
  }
  void tell(alert_blocking blocking) {
    caf::anon_send(router_handle, alerts_atom::value, std::move(blocking));
    actors.run();
  }
};

} // namespace

TEST_F(router_alerts_test, a_firing_alert_stops_grants_until_it_resolves) {
  EXPECT_EQ(call(request, "a", "G"), P);
  tell(firing({{"DiskFull", std::nullopt}}));
  EXPECT_EQ(call(request, "b", "H"), R); // a group started while blocked
  EXPECT_EQ(call(check, "a", "G"), P);   // permits stay
  EXPECT_EQ(call(cancel, "a", "G"), D);
  EXPECT_EQ(call(request, "c", "G"), R); // a free slot, not granted
  actors.advance(1s);
  EXPECT_EQ(call(request, "d", "G"), R);
  auto view = snapshot();
  ASSERT_EQ(view.alerts.alerts.size(), 1u);
  for (const auto& g : view.groups)
    EXPECT_TRUE(g.controls.blocked_by_alert) << g.identifier;
  tell(firing({}));
  EXPECT_EQ(call(check, "b", "H"), P);
  EXPECT_EQ(call(check, "c", "G"), P); // the queue in order
  EXPECT_EQ(call(check, "d", "G"), R);
  EXPECT_TRUE(dir.on_disk().admin.audit.empty()); // nothing saved of it
}

TEST_F(router_alerts_test, a_labelled_alert_blocks_its_group_only) {
  tell(firing({{"RackPower", std::string("G")}}));
  EXPECT_EQ(call(request, "a", "G"), R);
  EXPECT_EQ(call(request, "b", "H"), P);
  EXPECT_EQ(call(request, "g", ""), P); // the global group is another
  tell(firing({{"RackPower", std::string("H")}}));
  EXPECT_EQ(call(check, "a", "G"), P);
  EXPECT_EQ(call(cancel, "b", "H"), D);
  EXPECT_EQ(call(request, "c", "H"), R);
  tell(firing({}));
  EXPECT_EQ(call(check, "c", "H"), P);
}

TEST_F(router_alerts_test, blocking_holds_from_the_start_until_told_otherwise) {
  EXPECT_EQ(call(request, "a", "G"), P);
  EXPECT_EQ(call(request, "b", "G"), R);
  // Started as with -blockingAlertsUrl before Prometheus first answers.
  alerts = firing({});
  alerts.trouble = "no answer from Prometheus yet";
  alerts.trouble_blocks = true;
  restart();
  EXPECT_EQ(call(cancel, "a", "G"), D);
  EXPECT_EQ(call(check, "b", "G"), R); // restored, not granted
  EXPECT_EQ(call(request, "c", "H"), R);
  tell(firing({}));
  EXPECT_EQ(call(check, "b", "G"), P);
  EXPECT_EQ(call(check, "c", "H"), P);
}
